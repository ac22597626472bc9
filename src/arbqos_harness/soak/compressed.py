"""Compressed soak: two hours of demo traffic through the simulators in virtual time.

Both simulators and the real engine (`ArbEngine`) share one `FakeClock`. Every opportunity
moves the clock by 1/rate s; betting delays are zero, so the run takes as long as the work;
confirmation, settlement and any retention run on the virtual clock. One opportunity in
`engine_every` goes through the engine over in-process HTTP (`httpx.ASGITransport`: the apps'
own middleware, routing and handlers: quotes, fills, order polls); the others call the
simulators' order handlers directly with the same bodies (parsing, decision, decision log,
trade and order records, without the HTTP layer), which keeps two hours of traffic within a
minute. The engine checks settlements every `settle_poll_s` over HTTP, for every bet of its
wallets (the direct legs use the same wallets); the heartbeat's venue probes (`/metadata`,
the Azuro order probe, the subgraph `_meta`) run every `probe_every_s`. Each request is timed
in CPU seconds of this thread (the whole request runs on it), so other processes on the
machine do not move the figures; per bucket of virtual time the median and p95 per endpoint
are kept, and the RSS after a full garbage collection at each bucket end.

Run: `python -m arbqos_harness.soak.compressed [--legs 30000] [--json out.json]`.
Prints one line `RESULT sim_soak ...`; exit 1 when latency or memory is not flat.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.requests import Request

from arbqos.clock import FakeClock
from arbqos.probes.targets.subgraph import META_QUERY
from arbqos.probes.targets.venues import AZURO_PROBE_ORDER_ID
from arbqos_harness.demo.stack import BASE_KNOBS
from arbqos_harness.sim.azuro import PLACE_PATH, SUBGRAPH_PATH, AzuroSimulator
from arbqos_harness.sim.decisionlog import DecisionLog
from arbqos_harness.sim.engine import (
    ArbEngine,
    EngineSettings,
    Pair,
    Quote,
    azuro_bet_body,
    sx_fill_body,
)
from arbqos_harness.sim.knobs import KnobBox, SimKnobs
from arbqos_harness.sim.observer import CallHandle, LegInfo, LegResult, Settlement
from arbqos_harness.sim.sx import FILL_PATH, SxSimulator

SX_URL, AZURO_URL = "http://sx", "http://azuro"
NO_DELAYS = {"pregame_delay_s": [0.0, 0.0], "live_delay_s": [0.0, 0.0], "jitter_s": 0.0}
P50_DRIFT_MAX = 1.25
"""Largest median CPU time per request, last bucket over the first after warm-up."""
P95_DRIFT_MAX = 1.5
"""The same for the p95 (noisier: it holds the garbage collector's pauses)."""
RSS_GROWTH_PCT_MAX = 10.0
"""Largest RSS growth from the end of the warm-up to the end of the run."""
MIN_SAMPLES = 50
"""Endpoints with fewer requests in a bucket are not judged (too noisy)."""


@dataclass(frozen=True)
class CompressedSettings:
    """How much traffic, how fast in virtual time, and how it is cut into buckets."""

    legs: int = 30_000
    """Legs to send (two per opportunity): 30,000 is two hours of the demo's 2 per second."""
    rate: float = 2.0
    """Opportunities per virtual second (the demo's default)."""
    bucket_s: float = 600.0
    warmup_s: float = 1200.0
    """Virtual seconds before the first judged bucket (longer than any kept history)."""
    settle_poll_s: float = 2.0
    """As the demo engine (`engine_main`)."""
    probe_every_s: float = 5.0
    """As the demo heartbeat interval."""
    engine_every: int = 4
    """One opportunity in this many goes through the engine over HTTP; 1 sends them all."""
    wall_limit_s: float = 120.0
    """Stop early (and fail) when the run takes longer than this."""
    seed: int = 7


@dataclass
class Bucket:
    """Figures of one bucket of virtual time."""

    end_s: float
    rss_mb: float
    retained: int
    """Records the simulators and the engine keep (trades, orders, fill salts, open bets)."""
    log_mb: float
    """Size of the simulators' decision logs on disk."""
    endpoints: dict[str, dict[str, float]] = field(default_factory=dict)
    """endpoint -> {n, p50_ms, p95_ms} (CPU milliseconds per request)."""


@dataclass
class CompressedReport:
    """The whole run and its verdict."""

    settings: CompressedSettings
    legs: int
    virtual_s: float
    wall_s: float
    completed: bool
    buckets: list[Bucket]
    p50_drift: dict[str, float]
    p95_drift: dict[str, float]
    rss_growth_pct: float
    retained_ratio: float
    problems: list[str]

    def result_line(self) -> str:
        """`RESULT sim_soak ...`."""
        worst50 = max(self.p50_drift.items(), key=lambda kv: kv[1], default=("none", 0.0))
        worst95 = max(self.p95_drift.items(), key=lambda kv: kv[1], default=("none", 0.0))
        return (
            f"RESULT sim_soak legs={self.legs} virtual_s={self.virtual_s:.0f} "
            f"wall_s={self.wall_s:.1f} completed={int(self.completed)} "
            f"p50_drift_max={worst50[1]:.2f} p50_worst={worst50[0]} "
            f"p95_drift_max={worst95[1]:.2f} p95_worst={worst95[0]} "
            f"rss_growth_pct={self.rss_growth_pct:.1f} retained_ratio={self.retained_ratio:.2f}"
        )

    def table(self) -> list[str]:
        """One line per bucket: RSS, kept records, median CPU ms of each endpoint."""
        names = sorted({name for b in self.buckets for name in b.endpoints})
        head = "end_s   rss_mb  retained  log_mb  "
        out = [head + "  ".join(f"{n}(p50/p95 ms)" for n in names)]
        for b in self.buckets:
            cells = []
            for name in names:
                fig = b.endpoints.get(name)
                cells.append(f"{fig['p50_ms']:.3f}/{fig['p95_ms']:.3f}" if fig else "-")
            row = f"{b.end_s:6.0f} {b.rss_mb:7.1f} {b.retained:9d} {b.log_mb:7.1f}  "
            out.append(row + "  ".join(cells))
        return out

    def to_json(self) -> dict[str, Any]:
        """Everything as JSON values."""
        body = asdict(self)
        body["result"] = self.result_line()
        return body


class _Samples:
    """CPU and wall time per request, per endpoint, for the current bucket only."""

    def __init__(self) -> None:
        self.cpu: dict[str, list[float]] = {}

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        cpu0 = time.thread_time()
        try:
            yield
        finally:
            self.cpu.setdefault(name, []).append(time.thread_time() - cpu0)

    def close(self) -> dict[str, dict[str, float]]:
        figures = {}
        for name, values in self.cpu.items():
            values.sort()
            figures[name] = {
                "n": float(len(values)),
                "p50_ms": 1000 * statistics.median(values),
                "p95_ms": 1000 * values[min(len(values) - 1, int(0.95 * len(values)))],
            }
        self.cpu = {}
        return figures


class _Handle:
    def fail(self, error: str) -> None:
        """Failures are not judged here."""

    def fail_status(self, status: int) -> None:
        """Failures are not judged here."""


class TimingObserver:
    """An `EngineObserver` that times every venue call into `_Samples` and keeps nothing else."""

    def __init__(self, samples: _Samples) -> None:
        self._samples = samples
        self.settled = 0

    def leg_submitted(self, leg: LegInfo) -> None:
        """Nothing to keep."""

    def leg_result(self, leg: LegInfo, result: LegResult) -> None:
        """Nothing to keep."""

    def bet_settled(self, venue: str, outcome: Settlement) -> None:
        """Count it."""
        self.settled += 1

    def call(self, venue: str, endpoint: str) -> AbstractContextManager[CallHandle]:
        """Time the call in CPU seconds of this thread."""
        return self._call(f"{venue}:{endpoint}")

    @contextmanager
    def _call(self, name: str) -> Iterator[CallHandle]:
        with self._samples.timed(name):
            yield _Handle()


class DirectLegs:
    """Opportunities sent straight to the simulators' order handlers (no HTTP layer)."""

    def __init__(
        self,
        engine: ArbEngine,
        sx: SxSimulator,
        azuro: AzuroSimulator,
        samples: _Samples,
        clock: FakeClock,
    ) -> None:
        self._engine = engine
        self._sx = sx
        self._azuro = azuro
        self._samples = samples
        self._clock = clock
        self._rng = random.Random(f"{engine.settings.seed}:direct")  # noqa: S311 - simulation
        self.legs = 0

    async def opportunity(self, number: int) -> None:
        """One SX fill and one Azuro bet on a random pair at the simulators' own prices."""
        settings = self._engine.settings
        pairs = self._engine.pairs
        live = [p for p in pairs if p.phase == "live"]
        pregame = [p for p in pairs if p.phase == "pregame"]
        pool = live if self._rng.random() < settings.live_fraction else pregame
        pair: Pair = self._rng.choice(pool or pairs)
        quote = Quote(
            self._sx.markets[pair.sx_market].taker_odds(True) / 10**20,
            self._azuro.conditions[pair.azuro_condition].odds(pair.azuro_outcome),
            self._clock.monotonic(),
        )
        stake = round(self._rng.uniform(*settings.stake_usd), 2)
        body = sx_fill_body(settings, pair, quote, stake, f"direct-{number}")
        with self._samples.timed("sx:fill_handler"):
            await self._sx.fill(_json_request(FILL_PATH, body))
        expires = int(self._clock.now_utc().timestamp() + settings.order_ttl_s)
        bet = azuro_bet_body(settings, pair, quote, stake, nonce=str(number), expires_at=expires)
        with self._samples.timed("azuro:place_handler"):
            await self._azuro.place(_json_request(PLACE_PATH, bet))
        self.legs += 2


def _json_request(path: str, body: dict[str, Any]) -> Request:
    """A POST request with a JSON body, as the ASGI server would hand it to a handler."""
    raw = json.dumps(body).encode()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": [(b"content-type", b"application/json")],
        "query_string": b"",
    }
    return Request(scope, receive)


def rss_mb() -> float:
    """Resident set size of this process, MB (from /proc/self/statm)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def dir_mb(path: Path) -> float:
    """Total size of the files in `path`, MB."""
    return sum(f.stat().st_size for f in path.iterdir()) / 1e6


def retained(sx: SxSimulator, azuro: AzuroSimulator, engine: ArbEngine) -> int:
    """Records kept by the simulators and the engine."""
    return sx.kept_records() + azuro.kept_records() + engine.open_bets()


async def run_compressed(settings: CompressedSettings, log_dir: Path) -> CompressedReport:
    """Drive the engine and both simulators for `settings.legs` legs; judge the figures."""
    clock = FakeClock()
    knobs = SimKnobs().with_changes({**BASE_KNOBS, **NO_DELAYS})
    sx = SxSimulator(
        seed=settings.seed,
        knobs=KnobBox(knobs),
        clock=clock,
        event_log=DecisionLog(log_dir / "sx_events.log", clock, config_hash="soak"),
    )
    azuro = AzuroSimulator(
        seed=settings.seed,
        knobs=KnobBox(knobs),
        clock=clock,
        event_log=DecisionLog(log_dir / "azuro_events.log", clock, config_hash="soak"),
    )
    samples = _Samples()
    mounts = {
        SX_URL: httpx.ASGITransport(app=sx.app),
        AZURO_URL: httpx.ASGITransport(app=azuro.app),
    }
    async with httpx.AsyncClient(mounts=mounts, timeout=30.0) as http:
        engine = ArbEngine(
            EngineSettings(
                SX_URL,
                AZURO_URL,
                opportunities_per_s=settings.rate,
                max_concurrency=16,
                poll_interval_s=0.1,
                settle_poll_s=settings.settle_poll_s,
                shutdown_grace_s=60.0,
                seed=settings.seed,
            ),
            trading_allowed=lambda: True,
            observer=TimingObserver(samples),
            clock=clock,
            http=http,
        )
        buckets, completed, wall_s, direct_legs = await _drive(
            settings, clock, engine, http, samples, sx, azuro, log_dir
        )
    legs = sum(engine.stats.legs.values()) + direct_legs
    return judge(settings, legs, clock.monotonic(), wall_s, completed, buckets)


async def _drive(
    settings: CompressedSettings,
    clock: FakeClock,
    engine: ArbEngine,
    http: httpx.AsyncClient,
    samples: _Samples,
    sx: SxSimulator,
    azuro: AzuroSimulator,
    log_dir: Path,
) -> tuple[list[Bucket], bool, float, int]:
    if not await engine.prepare():
        raise RuntimeError("the simulators list no markets to pair")
    wall0 = time.monotonic()
    period = 1.0 / settings.rate
    next_opportunity = next_settle = next_probe = clock.monotonic()
    bucket_end = settings.bucket_s
    buckets: list[Bucket] = []
    direct = DirectLegs(engine, sx, azuro, samples, clock)
    opportunity = 0
    while sum(engine.stats.legs.values()) + direct.legs < settings.legs:
        if time.monotonic() - wall0 > settings.wall_limit_s:
            return buckets, False, time.monotonic() - wall0, direct.legs
        if clock.monotonic() < next_opportunity:
            clock.advance(next_opportunity - clock.monotonic())
        next_opportunity += period
        if opportunity % settings.engine_every == 0:
            await engine.tick()
            await engine.drain()
        else:
            await direct.opportunity(opportunity)
        opportunity += 1
        if clock.monotonic() >= next_settle:
            next_settle += settings.settle_poll_s
            await engine.check_settlements()
        if clock.monotonic() >= next_probe:
            next_probe += settings.probe_every_s
            await _probe(http, samples)
        if clock.monotonic() >= bucket_end:
            gc.collect()
            held = retained(sx, azuro, engine)
            logs = dir_mb(log_dir)
            buckets.append(Bucket(bucket_end, rss_mb(), held, logs, samples.close()))
            bucket_end += settings.bucket_s
    return buckets, True, time.monotonic() - wall0, direct.legs


async def _probe(http: httpx.AsyncClient, samples: _Samples) -> None:
    """The heartbeat's venue probes, timed like the engine's calls."""
    with samples.timed("sx:metadata"):
        await http.get(SX_URL + "/metadata")
    with samples.timed("azuro:order_probe"):
        await http.get(f"{AZURO_URL}/bet/orders/{AZURO_PROBE_ORDER_ID}")
    with samples.timed("azuro:subgraph_meta"):
        await http.post(AZURO_URL + SUBGRAPH_PATH, json={"query": META_QUERY})


def judge(
    settings: CompressedSettings,
    legs: int,
    virtual_s: float,
    wall_s: float,
    completed: bool,
    buckets: list[Bucket],
) -> CompressedReport:
    """Drift of each endpoint and memory growth from the end of the warm-up; the verdict."""
    problems: list[str] = []
    if not completed:
        problems.append(
            f"only {legs} of {settings.legs} legs in the wall limit of "
            f"{settings.wall_limit_s:g} s (virtual {virtual_s:.0f} s): requests got slower"
        )
    judged = [b for b in buckets if b.end_s > settings.warmup_s]
    warm = [b for b in buckets if b.end_s <= settings.warmup_s]
    p50: dict[str, float] = {}
    p95: dict[str, float] = {}
    growth = 0.0
    ratio = 1.0
    if len(judged) >= 2 and warm:
        first, last = judged[0], judged[-1]
        for name, fig in first.endpoints.items():
            end = last.endpoints.get(name)
            if end is None or min(fig["n"], end["n"]) < MIN_SAMPLES:
                continue
            p50[name] = end["p50_ms"] / fig["p50_ms"] if fig["p50_ms"] > 0 else 1.0
            p95[name] = end["p95_ms"] / fig["p95_ms"] if fig["p95_ms"] > 0 else 1.0
        base = warm[-1]
        growth = 100.0 * (last.rss_mb - base.rss_mb) / base.rss_mb
        ratio = last.retained / max(base.retained, 1)
    elif completed:
        problems.append("too few buckets after the warm-up to judge (raise --legs)")
    problems += [
        f"{name}: median CPU per request x{value:.2f} (limit x{P50_DRIFT_MAX})"
        for name, value in sorted(p50.items())
        if value > P50_DRIFT_MAX
    ]
    problems += [
        f"{name}: p95 CPU per request x{value:.2f} (limit x{P95_DRIFT_MAX})"
        for name, value in sorted(p95.items())
        if value > P95_DRIFT_MAX
    ]
    if growth > RSS_GROWTH_PCT_MAX:
        problems.append(f"RSS grew {growth:.1f} % after the warm-up (limit {RSS_GROWTH_PCT_MAX} %)")
    return CompressedReport(
        settings, legs, virtual_s, wall_s, completed, buckets, p50, p95, growth, ratio, problems
    )


def main(argv: list[str] | None = None) -> int:
    """Run the compressed soak, print the table and the RESULT line; 1 when not flat."""
    parser = argparse.ArgumentParser(prog="python -m arbqos_harness.soak.compressed")
    parser.add_argument("--legs", type=int, default=CompressedSettings.legs)
    parser.add_argument("--wall-limit-s", type=float, default=CompressedSettings.wall_limit_s)
    parser.add_argument("--json", type=Path, default=None, help="write the report here")
    args = parser.parse_args(argv)
    settings = CompressedSettings(legs=args.legs, wall_limit_s=args.wall_limit_s)
    with tempfile.TemporaryDirectory(prefix="arbqos-sim-soak-") as tmp:
        report = asyncio.run(run_compressed(settings, Path(tmp)))
    for line in report.table():
        print(line)
    for problem in report.problems:
        print(f"FAIL {problem}")
    print(report.result_line())
    if args.json is not None:
        args.json.write_text(json.dumps(report.to_json(), indent=2), encoding="utf-8")
    sys.stdout.flush()
    return 1 if report.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
