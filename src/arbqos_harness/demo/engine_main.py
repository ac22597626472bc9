"""`python -m arbqos_harness.demo.engine_main`: the simulated arb engine as its own process.

It wires arbqos exactly as the README's "Instrumenting the engine" says: one
`arbqos.engine.connect()` (config layers, pause token from `ARBQOS_PAUSE_TOKEN_FILE`, QoS
guard, status poller, bank from the orchestrator's registry, `/metrics` on
`alerting.engine_target`), `trading_allowed()` before every leg, every leg through
`qos.tracker`, and `on_pause` / `on_resume` callbacks. Every half second it writes its
counters, the guard's window statistics, the bank and the transitions heard to
`--status-file` (JSON).

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
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from arbqos.clock import SystemClock, format_ts
from arbqos.config import ArbqosConfig
from arbqos.engine import EngineQos, TradingChange, connect
from arbqos.errors import ArbqosError
from arbqos.log import configure_logging
from arbqos.metrics.definitions import VENUES
from arbqos.vocab import Venue
from arbqos_harness.sim.engine import ArbEngine, EngineSettings
from arbqos_harness.sim.tracking import TrackerObserver

logger = logging.getLogger(__name__)

STATUS_EVERY_S = 0.5
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
    """Run the engine until SIGTERM/SIGINT; exit 2 on bad config or token, 1 on a taken port."""
    args = build_parser().parse_args(argv)
    environ = os.environ if env is None else env
    configure_logging()
    try:
        qos = connect(args.config_dir, env=environ)
    except ArbqosError as err:
        print(f"arbqos engine: {err}", file=sys.stderr)
        return int(err.exit_code)
    with qos:
        try:
            settings = engine_settings(args, qos.config)
        except ValueError as err:
            print(f"arbqos engine: {err}", file=sys.stderr)
            return 2
        return asyncio.run(_run(qos, settings, args.status_file, args.start_delay_s))


async def _run(
    qos: EngineQos,
    settings: EngineSettings,
    status_file: Path | None,
    start_delay_s: float = 0.0,
) -> int:
    engine = ArbEngine(
        settings, trading_allowed=qos.trading_allowed, observer=TrackerObserver(qos.tracker)
    )
    heard: list[dict[str, Any]] = []

    async def on_change(change: TradingChange) -> None:
        # A taker has no resting orders; a maker would cancel them here (see the README).
        heard.append(
            {
                "ts": format_ts(change.at),
                "allowed": change.allowed,
                "cause": str(change.cause),
                "reasons": list(change.reasons),
            }
        )
        del heard[:-PAUSE_CHANGES_KEPT]

    qos.on_pause(on_change)
    qos.on_resume(on_change)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def terminate() -> None:
        stopping.set()
        engine.stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, terminate)
    reporter = asyncio.create_task(_report(engine, qos, heard, status_file))
    logger.info(
        "engine started",
        extra={
            "metrics_url": qos.exporter.url if qos.exporter else None,
            "rate": settings.opportunities_per_s,
        },
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
    logger.info("engine stopped", extra={"stats": stats.to_json()})
    return 0


async def _report(
    engine: ArbEngine, qos: EngineQos, heard: list[dict[str, Any]], status_file: Path | None
) -> None:
    """Write the engine's counters, the guard's windows and the bank to the status file."""
    while True:
        if status_file is not None:
            guard, now = qos.guard, qos.tracker.monotonic()
            windows = {v: asdict(guard.evaluate(v, now)) for v in VENUES} if guard else {}
            counters = engine.stats.to_json()
            counters["pause_changes"] = counters["pause_changes"][-PAUSE_CHANGES_KEPT:]
            body: dict[str, Any] = {
                "ts": format_ts(SystemClock().now_utc()),
                "pid": os.getpid(),
                "trading_allowed": qos.trading_allowed(),
                "why_not": qos.why_not(),
                "inflight": engine.inflight,
                "bank_usd": qos.bank,
                "changes": list(heard),
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
