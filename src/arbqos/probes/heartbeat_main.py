"""`arbqos heartbeat`: wire config, HTTP client, log, metrics server and reporter, then tick."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry

from arbqos.clock import SystemClock
from arbqos.config.manager import ConfigManager
from arbqos.config.schema import ArbqosConfig
from arbqos.daemon import Daemon
from arbqos.errors import ExitCode
from arbqos.eventlog import EventLog
from arbqos.probes.audit import parse_lines
from arbqos.probes.base import ProbeRunner
from arbqos.probes.confirm import ConfirmPolicy
from arbqos.probes.heartbeat import Heartbeat
from arbqos.probes.report import OrchestratorReporter
from arbqos.probes.targets import PROBERS, build_targets
from arbqos.registry.local import RuntimeRegistry
from arbqos.vocab import Service

logger = logging.getLogger(__name__)

_TAIL_BYTES = 64 * 1024


def last_logged_tick(log_path: Path) -> int | None:
    """Return the last tick number in the live log, else in the newest rotated file."""
    rotated = (
        sorted(log_path.parent.glob(log_path.name + ".????-??-??"))
        if log_path.parent.exists()
        else []
    )
    for path in [log_path, *reversed(rotated)]:
        try:
            with path.open("rb") as handle:
                handle.seek(0, 2)
                size = handle.tell()
                handle.seek(max(size - _TAIL_BYTES, 0))
                tail = handle.read().decode("utf-8", errors="replace")
        except OSError:
            continue
        ticks, _ = parse_lines(tail.splitlines(), str(path))
        if ticks:
            return max(t.tick for t in ticks)
    return None


def _reporter(
    cfg: ArbqosConfig, http: httpx.AsyncClient, token: str | None
) -> OrchestratorReporter | None:
    if not cfg.heartbeat.report_to_orchestrator:
        return None
    timeout = min(cfg.orchestrator.client_timeout_s, cfg.heartbeat.interval_s / 2)
    return OrchestratorReporter(
        http,
        url=cfg.endpoints.orchestrator_url,
        token=token,
        timeout_s=timeout,
        retry_max_s=cfg.heartbeat.interval_s,
    )


def run_heartbeat(
    manager: ConfigManager, *, registry: CollectorRegistry, once: bool, env: Mapping[str, str]
) -> int:
    """Run the heartbeat until SIGTERM/SIGINT (exit 0), or one tick with `once` (0 all ok, else 1).

    SIGHUP reloads the configuration; a valid, changed one applies from the next tick. Exit 2
    on unusable settings (token file, /metrics off loopback without the allowance), 1 when
    /metrics cannot be served.
    """
    daemon = Daemon(Service.HEARTBEAT, manager, registry=registry, env=env)
    return daemon.run(lambda: _main(daemon, once=once))


async def _main(daemon: Daemon, *, once: bool) -> int:
    manager, registry = daemon.manager, daemon.registry
    token = daemon.pause_token() if manager.config.heartbeat.report_to_orchestrator else None
    cfg = manager.config
    clock = SystemClock()
    log_path = Path(cfg.heartbeat.log_path)
    log = EventLog(
        log_path, clock, config_hash=manager.hash, retention_days=cfg.heartbeat.retention_days
    )
    runtime = RuntimeRegistry(
        registry, config_hash=manager.hash, config_sources=manager.loaded.source_kinds
    )
    # A fresh connection per request: a probe measures connect time too, and never reuses a
    # pooled connection the server is closing at the same moment (keep-alive race).
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(follow_redirects=False, limits=limits) as http:
        reporter = _reporter(cfg, http, token)
        runner = ProbeRunner(
            registry,
            probers=PROBERS,
            http=http,
            clock=clock,
            timeout_s=cfg.heartbeat.probe_timeout_s,
        )
        heartbeat = Heartbeat(
            build_targets(cfg, http),
            runner=runner,
            clock=clock,
            interval_s=cfg.heartbeat.interval_s,
            config_hash=manager.hash,
            event_log=log,
            registry=registry,
            runtime=runtime,
            reporter=reporter,
            first_tick=(last_logged_tick(log_path) or 0) + 1,
            policy=ConfirmPolicy.single() if once else ConfirmPolicy.from_config(cfg.heartbeat),
        )
        try:
            if once:
                return await _once(heartbeat, reporter)
            return await _forever(daemon, heartbeat, http, token, log, runtime)
        finally:
            if isinstance(heartbeat.reporter, OrchestratorReporter):
                if not once:
                    await heartbeat.reporter.flush(heartbeat.reporter.timeout_s)
                await heartbeat.reporter.aclose()
            log.close()


async def _once(heartbeat: Heartbeat, reporter: OrchestratorReporter | None) -> int:
    outcome = await heartbeat.tick(heartbeat.first_tick)
    print(json.dumps(outcome.record, separators=(",", ":")))
    if reporter is not None and not await reporter.flush(reporter.timeout_s + 0.5):
        logger.warning("the report of this tick did not reach the orchestrator")
    return 0 if outcome.ok else 1


async def _forever(
    daemon: Daemon,
    heartbeat: Heartbeat,
    http: httpx.AsyncClient,
    token: str | None,
    log: EventLog,
    runtime: RuntimeRegistry,
) -> int:
    manager = daemon.manager
    cfg = manager.config
    stop, wake = asyncio.Event(), asyncio.Event()

    def terminate() -> None:
        stop.set()
        wake.set()

    metrics = daemon.serve_metrics(
        host=cfg.heartbeat.host, port=cfg.heartbeat.metrics_port, section="heartbeat"
    )
    with metrics, daemon.signals(stop=terminate, reload=wake.set):
        daemon.started(
            metrics_url=metrics.url,
            stop_fields=lambda: {"last_tick": heartbeat.last_tick},
            interval_s=cfg.heartbeat.interval_s,
            targets=[t.name for t in heartbeat.targets],
            first_tick=heartbeat.first_tick,
        )
        origin: float | None = None
        while not stop.is_set():
            await heartbeat.run(stop=wake, origin=origin)
            if stop.is_set():
                break
            wake.clear()
            origin = await _reload(manager, heartbeat, http, token, log, runtime)
    return ExitCode.OK


async def _reload(
    manager: ConfigManager,
    heartbeat: Heartbeat,
    http: httpx.AsyncClient,
    token: str | None,
    log: EventLog,
    runtime: RuntimeRegistry,
) -> float | None:
    """Apply a changed config in place; return the monotonic time the next tick is due."""
    outcome = manager.reload()
    if outcome.changed:
        cfg = manager.config
        if isinstance(heartbeat.reporter, OrchestratorReporter):
            await heartbeat.reporter.aclose()
        heartbeat.reconfigure(
            build_targets(cfg, http),
            interval_s=cfg.heartbeat.interval_s,
            timeout_s=cfg.heartbeat.probe_timeout_s,
            config_hash=manager.hash,
            reporter=_reporter(cfg, http, token),
            policy=ConfirmPolicy.from_config(cfg.heartbeat),
        )
        log.config_hash = manager.hash
        runtime.config_hash = manager.hash
        runtime.config_sources = manager.loaded.source_kinds
    if heartbeat.last_due is None:
        return None
    if heartbeat.last_tick is not None:
        heartbeat.first_tick = heartbeat.last_tick + 1
    return heartbeat.last_due + heartbeat.interval_s
