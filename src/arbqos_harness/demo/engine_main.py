"""`python -m arbqos_harness.demo.engine_main`: the simulated arb engine as its own process.

Every leg goes through the real instrumentation (`ExecutionTracker`, served on
`alerting.engine_target`) and the QoS guard, whose breaches reach the orchestrator as
`source="guard"` pauses with the pause token (`ARBQOS_PAUSE_TOKEN_FILE`). The engine asks the
orchestrator before every leg and stops sending while paused. Every half second it writes
its counters and the guard's window statistics to `--status-file` (JSON).

Run alone: `python -m arbqos_harness.demo.engine_main --config-dir C --sx-url U --azuro-url U`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CollectorRegistry

from arbqos.clock import SystemClock, format_ts
from arbqos.config import ArbqosConfig, ConfigManager
from arbqos.errors import ConfigError
from arbqos.guard import PauseNotifier, QosGuard
from arbqos.instrument import ExecutionTracker, start_exporter
from arbqos.log import configure_logging
from arbqos.metrics.definitions import VENUES
from arbqos.probes.report import read_pause_token
from arbqos.registry.remote import RemoteRegistryError, RemoteRuntimeRegistry
from arbqos.sdk import AsyncOrchestratorClient
from arbqos.vocab import Venue
from arbqos_harness.demo.promstack import split_listen
from arbqos_harness.sim.engine import ArbEngine, EngineSettings
from arbqos_harness.sim.tracking import TrackerObserver

logger = logging.getLogger(__name__)

STATUS_EVERY_S = 0.5
BANK_EVERY_S = 5.0
PAUSE_CHANGES_KEPT = 20


def build_parser() -> argparse.ArgumentParser:
    """The engine's command line."""
    parser = argparse.ArgumentParser(
        prog="python -m arbqos_harness.demo.engine_main", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--config-dir", type=Path, required=True)
    parser.add_argument("--sx-url", required=True, help="SX Bet API base URL (simulator)")
    parser.add_argument("--azuro-url", required=True, help="Azuro API base URL (simulator)")
    parser.add_argument("--status-file", type=Path, default=None, help="JSON status output")
    parser.add_argument("--rate", type=float, default=2.0, help="opportunities per second")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--live-fraction", type=float, default=0.3)
    parser.add_argument("--max-concurrency", type=int, default=16)
    parser.add_argument(
        "--poll-interval-s",
        type=float,
        default=0.1,
        help="Azuro order polls (the Azuro SDK's 1 s, compressed 10x like the venue delays)",
    )
    parser.add_argument(
        "--start-delay-s",
        type=float,
        default=0.0,
        help="serve /metrics this long before the first leg, so Prometheus sees every counter "
        "start at zero (its window statistics then match the exact ones)",
    )
    return parser


def engine_settings(args: argparse.Namespace, config: ArbqosConfig) -> EngineSettings:
    """EngineSettings from the flags; the wallets come from `risk.wallets`."""
    wallets = config.risk.wallets
    return EngineSettings(
        sx_url=args.sx_url,
        azuro_url=args.azuro_url,
        opportunities_per_s=args.rate,
        max_concurrency=args.max_concurrency,
        live_fraction=args.live_fraction,
        poll_interval_s=args.poll_interval_s,
        settle_poll_s=2.0,
        seed=args.seed,
        taker=wallets[Venue.SX].address,
        bettor=wallets[Venue.AZURO].address,
    )


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run the engine until SIGTERM/SIGINT; exit 2 on bad config or token file."""
    args = build_parser().parse_args(argv)
    environ = os.environ if env is None else env
    configure_logging()
    registry = CollectorRegistry()
    try:
        manager = ConfigManager.load(
            args.config_dir, env=environ, overrides=(), service="engine", registry=registry
        )
        token = read_pause_token(environ)
        settings = engine_settings(args, manager.config)
    except (ConfigError, ValueError) as err:
        print(f"arbqos engine: {err}", file=sys.stderr)
        return 2
    return asyncio.run(
        _run(manager.config, registry, settings, token, args.status_file, args.start_delay_s)
    )


async def _run(
    config: ArbqosConfig,
    registry: CollectorRegistry,
    settings: EngineSettings,
    token: str | None,
    status_file: Path | None,
    start_delay_s: float = 0.0,
) -> int:
    host, port = split_listen(config.alerting.engine_target)
    notifier = PauseNotifier(
        config.endpoints.orchestrator_url,
        token=token,
        source="guard",
        timeout_s=config.orchestrator.client_timeout_s,
    )
    guard = QosGuard(config.exec, notifier) if config.exec.guard_enabled else None
    tracker = ExecutionTracker(registry, config, clock=SystemClock(), guard=guard)
    try:
        exporter = start_exporter(registry, port=port, host=host)
    except OSError as err:
        notifier.close(0)
        print(f"arbqos engine: cannot serve /metrics on {host}:{port}: {err}", file=sys.stderr)
        return 1
    client = AsyncOrchestratorClient.from_config(config)
    engine = ArbEngine(
        settings, trading_allowed=client.trading_allowed, observer=TrackerObserver(tracker)
    )
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def terminate() -> None:
        stopping.set()
        engine.stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, terminate)
    async with httpx.AsyncClient() as http:
        remote = RemoteRuntimeRegistry(config.endpoints.orchestrator_url, http, timeout_s=2.0)
        reporter = asyncio.create_task(_report(engine, guard, tracker, remote, status_file))
        logger.info(
            "engine started",
            extra={"metrics_url": exporter.url, "rate": settings.opportunities_per_s},
        )
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=start_delay_s)
            stats = await engine.run()
        finally:
            reporter.cancel()
            await asyncio.gather(reporter, return_exceptions=True)
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            await client.aclose()
            notifier.close()
            exporter.close()
    logger.info("engine stopped", extra={"stats": stats.to_json()})
    return 0


async def _report(
    engine: ArbEngine,
    guard: QosGuard | None,
    tracker: ExecutionTracker,
    remote: RemoteRuntimeRegistry,
    status_file: Path | None,
) -> None:
    """Evaluate the guard on the clock (evictions), refresh the bank, write the status file."""
    bank: float | None = None
    next_bank = 0.0
    while True:
        now = time.monotonic()
        windows = {v: asdict(guard.evaluate(v, now)) for v in VENUES} if guard else {}
        if now >= next_bank:
            next_bank = now + BANK_EVERY_S
            try:
                bank = await tracker.refresh_bank(remote)
            except RemoteRegistryError as err:
                logger.debug("bank not refreshed: %s", err)
        if status_file is not None:
            stats = engine.stats
            allowed = stats.pause_changes[-1][1] if stats.pause_changes else None
            counters = stats.to_json()
            counters["pause_changes"] = counters["pause_changes"][-PAUSE_CHANGES_KEPT:]
            body: dict[str, Any] = {
                "ts": format_ts(SystemClock().now_utc()),
                "pid": os.getpid(),
                "trading_allowed": allowed,
                "inflight": engine.inflight,
                "bank_usd": bank,
                "engine": counters,
                "guard": windows,
            }
            write_json_atomic(status_file, body)
        await asyncio.sleep(STATUS_EVERY_S)


def write_json_atomic(path: Path, body: Mapping[str, Any]) -> None:
    """Write JSON to `path` through a temporary file, so readers never see half of it."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(body, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, path)


if __name__ == "__main__":
    raise SystemExit(main())
