"""`arbqos heartbeat`: wire config, HTTP client, log, metrics server and reporter, then tick."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry, start_http_server

from arbqos.clock import SystemClock
from arbqos.config.manager import ConfigManager
from arbqos.config.schema import ArbqosConfig
from arbqos.eventlog import EventLog
from arbqos.probes.audit import parse_lines
from arbqos.probes.base import ProbeRunner
from arbqos.probes.confirm import ConfirmPolicy
from arbqos.probes.heartbeat import Heartbeat
from arbqos.probes.report import OrchestratorReporter
from arbqos.probes.targets import PROBERS, build_targets
from arbqos.registry.local import RuntimeRegistry
from arbqos.tokens import read_pause_token

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

    SIGHUP reloads the configuration; a valid, changed one applies from the next tick.
    """
    try:
        token = read_pause_token(env) if manager.config.heartbeat.report_to_orchestrator else None
    except ValueError as err:
        print(f"arbqos heartbeat: {err}", file=sys.stderr)
        return 2
    return asyncio.run(_main(manager, registry=registry, once=once, token=token))


async def _main(
    manager: ConfigManager, *, registry: CollectorRegistry, once: bool, token: str | None
) -> int:
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
            return await _forever(manager, registry, heartbeat, http, token, log, runtime)
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
    manager: ConfigManager,
    registry: CollectorRegistry,
    heartbeat: Heartbeat,
    http: httpx.AsyncClient,
    token: str | None,
    log: EventLog,
    runtime: RuntimeRegistry,
) -> int:
    cfg = manager.config
    try:
        server, _thread = start_http_server(
            cfg.heartbeat.metrics_port, addr=cfg.heartbeat.host, registry=registry
        )
    except OSError as err:
        logger.error(
            "cannot serve /metrics on %s:%d: %s; change heartbeat.metrics_port or stop the other "
            "process",
            cfg.heartbeat.host,
            cfg.heartbeat.metrics_port,
            err,
        )
        return 1
    loop = asyncio.get_running_loop()
    stop, wake = asyncio.Event(), asyncio.Event()

    def terminate() -> None:
        stop.set()
        wake.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, terminate)
    loop.add_signal_handler(signal.SIGHUP, wake.set)
    logger.info(
        "heartbeat started",
        extra={
            "interval_s": cfg.heartbeat.interval_s,
            "targets": [t.name for t in heartbeat.targets],
            "first_tick": heartbeat.first_tick,
            "config_hash": manager.hash,
        },
    )
    try:
        origin: float | None = None
        while not stop.is_set():
            await heartbeat.run(stop=wake, origin=origin)
            if stop.is_set():
                break
            wake.clear()
            origin = await _reload(manager, heartbeat, http, token, log, runtime)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        server.shutdown()
    logger.info("heartbeat stopped", extra={"last_tick": heartbeat.last_tick})
    return 0


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
