"""`arbqos balance-watcher`: wire config, bank source, registry, log, metrics server, then poll."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry

from arbqos.bank.factory import build_bank
from arbqos.clock import Clock, SystemClock
from arbqos.config.manager import ConfigManager
from arbqos.config.schema import ArbqosConfig
from arbqos.daemon import Daemon, StartupRefused
from arbqos.errors import ExitCode
from arbqos.eventlog import EventLog
from arbqos.probes.balance_push import BalancePusher
from arbqos.probes.balances import BalanceWatcher
from arbqos.registry.local import RuntimeRegistry
from arbqos.vocab import Service

logger = logging.getLogger(__name__)


def run_balance_watcher(
    manager: ConfigManager,
    *,
    registry: CollectorRegistry,
    once: bool,
    env: Mapping[str, str],
    clock: Clock | None = None,
) -> int:
    """Run until SIGTERM/SIGINT (exit 0), or one poll with `once` (0 all read, 1 a read failed).

    Exit 2 on unusable settings (unreadable token file, /metrics on a non-loopback host
    without `ARBQOS_ALLOW_NON_LOOPBACK_METRICS=1`), 1 when /metrics cannot be served. SIGHUP
    is ignored with a warning: restart the watcher to apply a new configuration.
    """
    daemon = Daemon(Service.BALANCE_WATCHER, manager, registry=registry, env=env)
    return daemon.run(lambda: _main(daemon, once=once, clock=clock or SystemClock()))


def _pusher(cfg: ArbqosConfig, http: httpx.AsyncClient, token: str | None) -> BalancePusher:
    settings = cfg.balance_watcher
    return BalancePusher(
        http,
        url=cfg.endpoints.orchestrator_url,
        token=token,
        timeout_s=min(cfg.orchestrator.client_timeout_s, settings.poll_interval_s / 2),
    )


async def _main(daemon: Daemon, *, once: bool, clock: Clock) -> int:
    token = daemon.pause_token()
    manager, registry = daemon.manager, daemon.registry
    cfg = manager.config
    settings = cfg.balance_watcher
    log = EventLog(
        Path(settings.log_path),
        clock,
        config_hash=manager.hash,
        retention_days=settings.retention_days,
    )
    # A fresh connection per request: a probe measures connect time too, and never reuses a
    # pooled connection the server is closing at the same moment (keep-alive race).
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(follow_redirects=False, limits=limits) as http:
        try:
            bank = build_bank(cfg, http=http, clock=clock)
        except ValueError as err:
            log.close()
            raise StartupRefused(str(err)) from err
        runtime = RuntimeRegistry(
            registry,
            config_hash=manager.hash,
            config_sources=manager.loaded.source_kinds,
            bank_source=bank,
        )
        pusher = _pusher(cfg, http, token)
        watcher = BalanceWatcher(
            runtime,
            risk=cfg.risk,
            clock=clock,
            event_log=log,
            registry=registry,
            interval_s=settings.poll_interval_s,
            read_timeout_s=settings.read_timeout_s,
            sink=pusher,
            balance_max_usd=settings.balance_max_usd,
        )
        try:
            if once:
                outcome = await watcher.poll(watcher.first_poll)
                print(json.dumps(outcome.record, separators=(",", ":")))
                if not await pusher.flush(pusher.timeout_s + 0.5):
                    logger.warning("the balances of this poll did not reach the orchestrator")
                return 0 if outcome.ok else 1
            return await _forever(daemon, watcher)
        finally:
            await pusher.aclose()
            log.close()


async def _forever(daemon: Daemon, watcher: BalanceWatcher) -> int:
    cfg = daemon.config
    settings = cfg.balance_watcher
    stop = asyncio.Event()
    metrics = daemon.serve_metrics(
        host=settings.host, port=settings.metrics_port, section="balance_watcher"
    )
    with metrics, daemon.signals(stop=stop.set):
        daemon.started(
            metrics_url=metrics.url,
            stop_fields=lambda: {"last_poll": watcher.last_poll},
            poll_interval_s=settings.poll_interval_s,
            wallets=sorted(cfg.risk.wallets),
            bank_source=cfg.risk.bank_source,
            floor_usd=cfg.risk.balance_alert_usd,
        )
        await watcher.run(stop)
    return ExitCode.OK
