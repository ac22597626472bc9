"""`arbqos balance-watcher`: wire config, bank source, registry, log, metrics server, then poll."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry

from arbqos.bank.factory import build_bank
from arbqos.clock import Clock, SystemClock
from arbqos.config.manager import ConfigManager
from arbqos.eventlog import EventLog
from arbqos.instrument.exporter import start_exporter
from arbqos.probes.balance_push import BalancePusher
from arbqos.probes.balances import BalanceWatcher
from arbqos.registry.local import RuntimeRegistry
from arbqos.tokens import read_pause_token

logger = logging.getLogger(__name__)

ALLOW_NON_LOOPBACK_ENV = "ARBQOS_ALLOW_NON_LOOPBACK_METRICS"


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
    without `ARBQOS_ALLOW_NON_LOOPBACK_METRICS=1`), 1 when /metrics cannot be served.
    """
    try:
        token = read_pause_token(env)
    except ValueError as err:
        print(f"arbqos balance-watcher: {err}", file=sys.stderr)
        return 2
    allow_public = env.get(ALLOW_NON_LOOPBACK_ENV, "") == "1"
    main = _main(
        manager,
        registry=registry,
        once=once,
        token=token,
        allow_public=allow_public,
        clock=clock or SystemClock(),
    )
    return asyncio.run(main)


async def _main(
    manager: ConfigManager,
    *,
    registry: CollectorRegistry,
    once: bool,
    token: str | None,
    allow_public: bool,
    clock: Clock,
) -> int:
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
            print(f"arbqos balance-watcher: {err}", file=sys.stderr)
            return 2
        runtime = RuntimeRegistry(
            registry,
            config_hash=manager.hash,
            config_sources=manager.loaded.source_kinds,
            bank_source=bank,
        )
        pusher = BalancePusher(
            http,
            url=cfg.endpoints.orchestrator_url,
            token=token,
            timeout_s=min(cfg.orchestrator.client_timeout_s, settings.poll_interval_s / 2),
        )
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
            return await _forever(watcher, registry, manager, allow_public)
        finally:
            await pusher.aclose()
            log.close()


async def _forever(
    watcher: BalanceWatcher,
    registry: CollectorRegistry,
    manager: ConfigManager,
    allow_public: bool,
) -> int:
    settings = manager.config.balance_watcher
    try:
        exporter = start_exporter(
            registry,
            port=settings.metrics_port,
            host=settings.host,
            allow_non_loopback=allow_public,
        )
    except ValueError as err:
        print(
            f"arbqos balance-watcher: balance_watcher.host: {err}; or set "
            f"{ALLOW_NON_LOOPBACK_ENV}=1",
            file=sys.stderr,
        )
        return 2
    except OSError as err:
        logger.error(
            "cannot serve /metrics on %s:%d: %s; change balance_watcher.metrics_port or stop "
            "the other process",
            settings.host,
            settings.metrics_port,
            err,
        )
        return 1
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(
        signal.SIGHUP,
        lambda: logger.warning(
            "SIGHUP ignored: restart the balance watcher to apply a new configuration"
        ),
    )
    logger.info(
        "balance watcher started",
        extra={
            "poll_interval_s": settings.poll_interval_s,
            "wallets": sorted(manager.config.risk.wallets),
            "bank_source": manager.config.risk.bank_source,
            "floor_usd": manager.config.risk.balance_alert_usd,
            "metrics_url": exporter.url,
            "config_hash": manager.hash,
        },
    )
    try:
        await watcher.run(stop)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        exporter.close()
    logger.info("balance watcher stopped", extra={"last_poll": watcher.last_poll})
    return 0
