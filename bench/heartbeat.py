"""Heartbeat cadence in real time: 300+ ticks at 0.1 s with one target hanging.

Six targets are probed over real loopback HTTP (the fakes run in a child process, so they do
not share this process's interpreter): five healthy, `arbitrum` hangs and is cut by the 0.05 s
hard timeout every tick. Each tick writes its log line and sends a report to a fake
orchestrator. Lateness is what the heartbeat logs (actual start minus scheduled start);
max_gap_s is the largest distance between consecutive tick lines, as `heartbeat-audit`
measures it. Ends with:

    RESULT heartbeat ticks=<n> lateness_p50_ms=<x> lateness_p99_ms=<y> max_gap_s=<z>

Usage: .venv/bin/python bench/heartbeat.py [--ticks 300] [--interval 0.1] [--timeout 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import sys
import tempfile
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the loopback fakes live with the tests

import httpx  # noqa: E402
from prometheus_client import CollectorRegistry  # noqa: E402

from arbqos.clock import SystemClock  # noqa: E402
from arbqos.eventlog import EventLog  # noqa: E402
from arbqos.log import configure_logging  # noqa: E402
from arbqos.probes.audit import audit_files  # noqa: E402
from arbqos.probes.base import ProbeRunner  # noqa: E402
from arbqos.probes.confirm import ConfirmPolicy  # noqa: E402
from arbqos.probes.heartbeat import Heartbeat  # noqa: E402
from arbqos.probes.report import OrchestratorReporter  # noqa: E402
from arbqos.probes.targets import PROBERS, build_targets  # noqa: E402
from arbqos.registry.local import RuntimeRegistry  # noqa: E402


def serve_fakes(conn: Connection, log_dir: str) -> None:
    """Child process: run the loopback fakes, send their config, serve until told to stop."""
    from tests.probes.conftest import FakeWorld
    from tests.probes.fakes import LoopbackServer

    servers: list[LoopbackServer] = []

    def start(handler: object, port: int = 0) -> LoopbackServer:
        server = LoopbackServer(handler, port).start()  # type: ignore[arg-type]
        servers.append(server)
        return server

    world = FakeWorld(start)
    world.arbitrum.mode = "hang"
    conn.send(world.config(Path(log_dir) / "heartbeat.log").model_dump(mode="json"))
    conn.recv()
    for server in servers:
        server.stop()


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(math.ceil(pct / 100 * len(ordered)), 1)
    return ordered[rank - 1]


async def run(
    config: dict[str, object], ticks: int, interval: float, probe_timeout_s: float
) -> Path:
    """Run the heartbeat for `ticks` ticks against the fakes; return the log path."""
    from arbqos.config.schema import ArbqosConfig

    cfg = ArbqosConfig.model_validate(config)
    heartbeat_cfg = cfg.heartbeat.model_copy(
        update={"interval_s": interval, "probe_timeout_s": probe_timeout_s}
    )
    cfg = cfg.model_copy(update={"heartbeat": heartbeat_cfg})
    clock = SystemClock()
    registry = CollectorRegistry()
    log_path = Path(cfg.heartbeat.log_path)
    log = EventLog(log_path, clock, config_hash="bench" + "0" * 59)
    async with httpx.AsyncClient() as http:
        reporter = OrchestratorReporter(
            http, url=cfg.endpoints.orchestrator_url, token="pause-token", timeout_s=interval / 2
        )
        runner = ProbeRunner(
            registry, probers=PROBERS, http=http, clock=clock, timeout_s=probe_timeout_s
        )
        heartbeat = Heartbeat(
            build_targets(cfg, http),
            runner=runner,
            clock=clock,
            interval_s=interval,
            config_hash=log.config_hash,
            event_log=log,
            registry=registry,
            runtime=RuntimeRegistry(registry),
            reporter=reporter,
            policy=ConfirmPolicy(retry_interval_s=(interval - probe_timeout_s) / 2),
        )
        await heartbeat.run(max_ticks=ticks)
        await reporter.flush(1.0)
        await reporter.aclose()
    log.close()
    return log_path


def main() -> int:
    """Run the benchmark and print the RESULT line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=300)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--timeout", type=float, default=0.05)
    args = parser.parse_args()
    configure_logging("error")
    with tempfile.TemporaryDirectory(prefix="arbqos-bench-") as tmp:
        parent, child = multiprocessing.get_context("spawn").Pipe()
        fakes = multiprocessing.get_context("spawn").Process(target=serve_fakes, args=(child, tmp))
        fakes.start()
        try:
            config = parent.recv()
            log_path = asyncio.run(run(config, args.ticks, args.interval, args.timeout))
        finally:
            parent.send("stop")
            fakes.join(timeout=10)
        lines = [json.loads(line) for line in log_path.read_text().splitlines()]
        records = [r for r in lines if r["event"] == "tick"]  # retries and state changes too
        lateness = [float(r["lateness_ms"]) for r in records]
        hung = sum(r["targets"]["arbitrum"]["ok"] is False for r in records)
        audit = audit_files([log_path], limit_s=1.5 * args.interval, interval_s=args.interval)
    print(
        f"bench: {len(records)} ticks, interval {args.interval:g} s, probe timeout "
        f"{args.timeout:g} s, arbitrum failed (hanging) in {hung} ticks, audit gaps "
        f"{len(audit.gaps)} above {1.5 * args.interval:g} s, max lateness {max(lateness):.3f} ms"
    )
    print(
        f"RESULT heartbeat ticks={len(records)} lateness_p50_ms={percentile(lateness, 50):.3f} "
        f"lateness_p99_ms={percentile(lateness, 99):.3f} max_gap_s={audit.max_gap_s:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
