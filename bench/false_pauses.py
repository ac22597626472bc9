"""False pauses a day, detection and automatic resume, measured in virtual time.

The real heartbeat (confirmation, retries, schedule) probes a simulated SX Rollup RPC at the
production timings and default thresholds, and hands every report to the real orchestrator
(pause state, resume policy, SQLite state on tmpfs) on the same virtual clock:

- at independent attempt failure rates of 0.5 %, 2 % and 5 %, with no real outage (every
  pause is a false pause), for 300, 100 and 30 simulated days (`--scale` multiplies them): a
  rare event needs a long run before its mean says anything, and one run of three failed
  attempts in 30 days already reads as 0.03 a day;
- sustained outages of 15 s, 60 s and 10 min at random offsets: how long from the start of
  the outage to `paused` (a 15 s blip must not pause at all), and from its end to `running`.

Prints `RESULT false_pauses p05_per_day=<mean> p2_per_day=<mean> p5_per_day=<mean>
detect_s_max=<x> resume_s_max=<x>` and the bounds they are judged against:
detection within `interval + (failure_threshold - 1) * retry_interval_s + probe_timeout_s`,
resume within `infra_resume_after_s + interval` after the outage ends.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CollectorRegistry

from arbqos.clock import Clock
from arbqos.config import ArbqosConfig
from arbqos.probes.base import ProbeResult, ProbeRunner
from arbqos.probes.confirm import ConfirmPolicy
from arbqos.probes.heartbeat import Heartbeat
from arbqos.probes.schedule import LoopClock, run_virtual
from arbqos.registry.model import ChainHealth
from arbqos.services import ControlService
from arbqos.services.control import Unit
from arbqos.services.state import Actor, State
from arbqos.wire import HeartbeatReport

DAY_S = 86_400.0
NOON = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
ANSWER_S = 0.05
TICK_S = 1.0
"""How often the orchestrator's periodic check runs (as in production)."""


@dataclass(frozen=True)
class SxRpc:
    """The simulated target: an SX Rollup RPC probed by the heartbeat."""

    name: str = "sx_rollup"
    chain: str = "sx_rollup"
    kind: str = "sim"


@dataclass
class Outcome:
    """Transitions the orchestrator made during one simulation."""

    paused_at: list[float] = field(default_factory=list)
    running_at: list[float] = field(default_factory=list)


def simulate(
    fails: Callable[[float], bool], seconds: float, seed_dir: Path, tick_s: float = TICK_S
) -> Outcome:
    """Run heartbeat + orchestrator for `seconds` of virtual time; return their transitions.

    `tick_s` is the period of the orchestrator's own checks (1 s in production); the long
    runs that only count pauses use a longer one to go faster.
    """
    config = ArbqosConfig()
    hb = config.heartbeat
    ticks = int(seconds // hb.interval_s)
    outcome = Outcome()
    state_dir = Path(tempfile.mkdtemp(prefix="false-pauses-", dir=seed_dir))

    async def probe(target: SxRpc, *, http: httpx.AsyncClient, clock: Clock) -> ProbeResult:
        now = asyncio.get_running_loop().time()
        await asyncio.sleep(ANSWER_S)
        ok = not fails(now)
        health = ChainHealth(
            target.chain, ok, ok, "up" if ok else "down", head_block=7, observed_at=clock.now_utc()
        )
        return ProbeResult(ok, "ok" if ok else "simulated failure", clock.now_utc(), chain=health)

    async def main() -> None:
        clock = LoopClock(NOON, loop_start=0.0)
        service = ControlService.build(
            config,
            state_dir=state_dir,
            clock=clock,
            registry=CollectorRegistry(),
            config_hash="ab" * 32,
        )
        loop = asyncio.get_running_loop()

        def watch(unit: Unit, before: State, after: State, _since: datetime) -> None:
            if after is State.PAUSED and before is State.RUNNING:
                outcome.paused_at.append(loop.time())
            elif after is State.RUNNING and before is State.PAUSED:
                outcome.running_at.append(loop.time())

        service.control.listeners.append(watch)
        actor = Actor("pause", "bench")
        pending: set[asyncio.Task[Any]] = set()

        class Deliver:
            def submit(self, report: Mapping[str, Any]) -> None:
                body = HeartbeatReport.model_validate(dict(report))
                task = loop.create_task(service.heartbeat(body, actor))
                pending.add(task)
                task.add_done_callback(pending.discard)

        async def periodic() -> None:
            while True:
                await asyncio.sleep(tick_s)
                service.tick()

        ticker = loop.create_task(periodic())
        async with httpx.AsyncClient() as http:
            runner = ProbeRunner(
                CollectorRegistry(),
                probers={"sim": probe},
                http=http,
                clock=clock,
                timeout_s=hb.probe_timeout_s,
            )
            heartbeat = Heartbeat(
                [SxRpc()],
                runner=runner,
                clock=clock,
                interval_s=hb.interval_s,
                config_hash="ab" * 32,
                reporter=Deliver(),
                policy=ConfirmPolicy.from_config(hb),
            )
            await heartbeat.run(max_ticks=ticks, origin=0.0)
        await asyncio.sleep(hb.interval_s)  # let the last grace run out
        ticker.cancel()
        service.close()

    try:
        run_virtual(main(), start=0.0)
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)
    return outcome


def false_pauses_per_day(rate: float, days: float, seed: int, work: Path) -> float:
    """Pauses a day with independent attempt failures at `rate` and no real outage."""
    rng = random.Random(seed)
    outcome = simulate(lambda _t: rng.random() < rate, days * DAY_S, work)
    return len(outcome.paused_at) / days


def outages(length_s: float, count: int, seed: int, work: Path) -> tuple[list[float], list[float]]:
    """Detection and resume times of `count` outages of `length_s` at random offsets."""
    rng = random.Random(seed)
    spacing = 1800.0
    starts = [300.0 + i * spacing + rng.uniform(0, 30) for i in range(count)]
    windows = [(s, s + length_s) for s in starts]

    def fails(t: float) -> bool:
        return any(a <= t < b for a, b in windows)

    outcome = simulate(fails, 300.0 + count * spacing, work)
    detect, resume = [], []
    for start, end in windows:
        paused = [t for t in outcome.paused_at if start <= t < start + spacing]
        if paused:
            detect.append(paused[0] - start)
            running = [t for t in outcome.running_at if t >= paused[0]]
            resume.append(running[0] - end if running else float("inf"))
    return detect, resume


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the simulated days (1: 300/100/30)"
    )
    parser.add_argument("--outages", type=int, default=10, help="outages of each length")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # thousands of confirmed-down and pause lines otherwise
    config = ArbqosConfig()
    hb, orch = config.heartbeat, config.orchestrator
    detect_bound = hb.down_within_s()
    resume_bound = orch.infra_resume_after_s + hb.interval_s
    work = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    started = time.monotonic()
    runs = {"p05": (0.005, 300.0), "p2": (0.02, 100.0), "p5": (0.05, 30.0)}
    per_day: dict[str, float] = {}
    with ProcessPoolExecutor(max_workers=2) as pool:
        futures = {
            key: pool.submit(false_pauses_per_day, rate, days * args.scale, seed, work)
            for seed, (key, (rate, days)) in enumerate(runs.items(), start=11)
        }
        for key, future in futures.items():
            rate, days = runs[key]
            per_day[key] = future.result()
            expected = rate**hb.failure_threshold * DAY_S / hb.interval_s
            print(
                f"{rate:.1%} failed attempts, {days * args.scale:g} days: {per_day[key]:.4f} "
                f"false pauses a day (p^{hb.failure_threshold} x ticks a day: {expected:.4f})",
                flush=True,
            )
    detect_all: list[float] = []
    resume_all: list[float] = []
    for length in (15.0, 60.0, 600.0):
        detect, resume = outages(length, args.outages, seed=int(length), work=work)
        detect_all += detect
        resume_all += resume
        print(
            f"outage {length:g} s x {args.outages}: paused {len(detect)} times, detection "
            f"max {max(detect, default=0):.1f} s, resume max {max(resume, default=0):.1f} s "
            "after the end",
            flush=True,
        )
    detect_max = max(detect_all, default=0.0)
    resume_max = max(resume_all, default=0.0)
    print(
        f"bounds: detection {detect_bound:g} s, resume {resume_bound:g} s after recovery; "
        f"goals: < 0.01/day at 0.5 %, < 0.1/day at 2 %; took {time.monotonic() - started:.0f} s"
    )
    print(
        f"RESULT false_pauses p05_per_day={per_day['p05']:.2f} p2_per_day={per_day['p2']:.2f} "
        f"p5_per_day={per_day['p5']:.2f} detect_s_max={detect_max:.1f} "
        f"resume_s_max={resume_max:.1f}"
    )
    ok = (
        per_day["p05"] < 0.01
        and per_day["p2"] < 0.1
        and detect_max <= detect_bound
        and resume_max <= resume_bound
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
