"""`connect()`: wire the engine's side of arbqos in one call, from the services' config."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from prometheus_client import CollectorRegistry

from arbqos.clock import Clock, SystemClock
from arbqos.config import ArbqosConfig, ConfigManager
from arbqos.daemon.listen import ListenFailed, metrics_allowed_off_loopback
from arbqos.engine.bank import BankKeeper
from arbqos.engine.changes import ChangeDispatcher
from arbqos.engine.gate import GuardLatch, TradingGate
from arbqos.engine.session import EngineQos, Parts
from arbqos.engine.watch import Watcher, WatchSettings
from arbqos.errors import OrchestratorError, TokenError
from arbqos.guard import PauseNotifier, QosGuard
from arbqos.instrument import ExecutionTracker, Exporter, start_exporter
from arbqos.registry import RuntimeRegistryAPI
from arbqos.sdk import OrchestratorClient
from arbqos.tokens import ENV_VARS, read_pause_token
from arbqos.vocab import PauseSource, Service

logger = logging.getLogger(__name__)

MIN_POLL_S = 0.05
"""The fastest status poll, whatever `orchestrator.client_cache_s` says (0 would spin)."""
BANK_RETRY_S = 2.0
"""Registry read period while the bank is unknown (at most the balance watcher's period)."""


def connect(
    config_dir: Path | str,
    *,
    env: Mapping[str, str],
    overrides: Sequence[str] = (),
    registry: CollectorRegistry | None = None,
    runtime: RuntimeRegistryAPI | None = None,
    bank: float | None = None,
    token: str | None = None,
    clock: Clock | None = None,
    serve_metrics: bool = True,
    strict: bool = False,
) -> EngineQos:
    """Load the config like the services do, start the engine's side of arbqos, return it.

    Layers as `arbqos --config-dir DIR --set K=V`: defaults, `DIR/*.yml`, `ARBQOS__*` from
    `env`, then `overrides` (`"exec.fill_ratio_min=0.9"`). The pause token comes from `env`
    (`ARBQOS_PAUSE_TOKEN` or `ARBQOS_PAUSE_TOKEN_FILE`) unless given as `token`. Started: the
    tracker and, with `exec.guard_enabled`, the QoS guard and its pause notifier; the status
    poller (every `orchestrator.client_cache_s`); the bank, from `runtime` (default: the
    orchestrator's registry, fed by the balance watcher) unless a fixed `bank` in USD is
    given; `/metrics` on `alerting.engine_target` unless `serve_metrics` is False.

    It waits for the first status answer and bank read, at most `client_timeout_s` + 1 s.
    Without an answer, `trading_allowed()` stays False until one comes and the reason is
    logged; with `strict=True` it raises instead.

    Raises:
        ConfigError: the configuration is invalid (every problem, with file and key).
        TokenError: the token file cannot be read, or no pause token while the guard is on.
        ListenFailed: `alerting.engine_target` cannot be bound (port in use).
        BindRefused: `alerting.engine_target` is not loopback and nothing allowed it.
        OrchestratorError: `strict` and the orchestrator did not answer at start.
    """
    registry = registry if registry is not None else CollectorRegistry()
    manager = ConfigManager.load(
        Path(config_dir), env=env, overrides=overrides, service=Service.ENGINE, registry=registry
    )
    config = manager.config
    pause_token = token if token is not None else read_pause_token(env)
    if config.exec.guard_enabled and pause_token is None:
        var, file_var = ENV_VARS["pause"]
        raise TokenError(
            f"no pause token: the QoS guard (exec.guard_enabled) pauses the orchestrator with "
            f"it; set {var} or {file_var} in the env given to connect(), pass token=, or set "
            "exec.guard_enabled=false"
        )
    clock = clock or SystemClock()
    orch = config.orchestrator
    poll_s = max(orch.client_cache_s, MIN_POLL_S)
    dispatcher = ChangeDispatcher()
    gate = TradingGate(
        max_age_s=2 * poll_s,
        fail_closed=orch.client_fail_closed,
        publish=dispatcher.publish,
        clock=clock,
    )
    notifier = latch = guard = None
    if config.exec.guard_enabled:
        notifier = PauseNotifier(
            config.endpoints.orchestrator_url,
            token=pause_token,
            source=PauseSource.GUARD,
            timeout_s=orch.client_timeout_s,
        )
        latch = GuardLatch(gate, notifier)
        guard = QosGuard(config.exec, latch)
    tracker = ExecutionTracker(registry, config, clock=clock, bank=bank, guard=guard)
    keeper = None
    if bank is None:
        keeper = BankKeeper(
            tracker,
            [str(w) for w in config.risk.wallets],
            max_age_s=config.risk.bank_max_age_s,
            timeout_s=orch.client_timeout_s,
            clock=clock,
        )
    every_s = config.balance_watcher.poll_interval_s
    settings = WatchSettings(
        url=config.endpoints.orchestrator_url,
        poll_s=poll_s,
        timeout_s=orch.client_timeout_s,
        bank_every_s=every_s,
        bank_retry_s=min(every_s, BANK_RETRY_S),
    )
    watcher = Watcher(
        settings,
        gate,
        acknowledged=(lambda: latch.acknowledged) if latch is not None else (lambda: 0),
        guard=guard,
        monotonic=tracker.monotonic,
        bank=keeper,
        runtime=runtime,
    )
    parts = Parts(
        config=config,
        config_hash=manager.hash,
        registry=registry,
        tracker=tracker,
        gate=gate,
        dispatcher=dispatcher,
        watcher=watcher,
        orchestrator=OrchestratorClient.from_config(config, token=pause_token),
        guard=guard,
        notifier=notifier,
        latch=latch,
    )
    qos = EngineQos(parts)
    try:
        if serve_metrics:
            parts.exporter = qos.exporter = _serve(registry, config, env)
        _start(watcher, config, strict=strict)
        dispatcher.wait_idle(1.0)  # what happened at start is the state, not news for callbacks
    except BaseException:
        qos.close()
        raise
    logger.info(
        "engine connected to arbqos",
        extra={
            "orchestrator": config.endpoints.orchestrator_url,
            "trading_allowed": qos.trading_allowed(),
            "bank_usd": qos.bank,
            "metrics_url": qos.exporter.url if qos.exporter else None,
            "guard": guard is not None,
        },
    )
    return qos


def _serve(registry: CollectorRegistry, config: ArbqosConfig, env: Mapping[str, str]) -> Exporter:
    """Serve `/metrics` where Prometheus scrapes the engine (`alerting.engine_target`)."""
    target = config.alerting.engine_target
    host, _, port = target.rpartition(":")
    host = host.strip("[]")
    try:
        return start_exporter(
            registry,
            port=int(port),
            host=host,
            allow_non_loopback=metrics_allowed_off_loopback(env),
        )
    except OSError as err:
        raise ListenFailed(
            f"alerting.engine_target = {target!r}: cannot serve the engine's /metrics there "
            f"({err.strerror or err}); stop what holds the port or choose another target (and "
            "re-render the Prometheus config), or pass serve_metrics=False and serve "
            "qos.registry yourself"
        ) from err


def _start(watcher: Watcher, config: ArbqosConfig, *, strict: bool) -> None:
    """Start the watcher; say (or raise, when `strict`) when the orchestrator did not answer."""
    timeout_s = config.orchestrator.client_timeout_s + 1.0
    ready = watcher.start(timeout_s)
    error = watcher.first_error or (None if ready else f"no answer within {timeout_s:g} s")
    if error is None:
        return
    url = config.endpoints.orchestrator_url
    message = (
        f"the orchestrator at {url} did not answer at start ({error}); trading_allowed() is "
        "False until it does. Start `arbqos orchestrator`, or point endpoints.orchestrator_url "
        "at it"
    )
    if strict:
        raise OrchestratorError(message)
    logger.warning("%s", message)
