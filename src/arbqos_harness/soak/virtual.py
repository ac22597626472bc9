"""The compressed soak's driver: the engine and both simulators on one fake clock, timed."""

from __future__ import annotations

import gc
import json
import os
import random
import statistics
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
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
from arbqos_harness.sim.engine import ArbEngine, EngineSettings
from arbqos_harness.sim.knobs import KnobBox, SimKnobs
from arbqos_harness.sim.legs import Pair, Quote, azuro_bet_body, sx_fill_body
from arbqos_harness.sim.observer import CallHandle, LegInfo, LegResult, Settlement
from arbqos_harness.sim.sx import FILL_PATH, SxSimulator
from arbqos_harness.soak.flatness import Bucket, CompressedReport, CompressedSettings, judge

SX_URL, AZURO_URL = "http://sx", "http://azuro"
NO_DELAYS = {"pregame_delay_s": [0.0, 0.0], "live_delay_s": [0.0, 0.0], "jitter_s": 0.0}


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
        body = sx_fill_body(
            pair,
            quote,
            stake,
            f"direct-{number}",
            taker=settings.taker,
            odds_slippage_pct=settings.odds_slippage_pct,
        )
        with self._samples.timed("sx:fill_handler"):
            await self._sx.fill(_json_request(FILL_PATH, body))
        expires = int(self._clock.now_utc().timestamp() + settings.order_ttl_s)
        bet = azuro_bet_body(
            pair,
            quote,
            stake,
            bettor=settings.bettor,
            odds_slippage_pct=settings.odds_slippage_pct,
            nonce=str(number),
            expires_at=expires,
        )
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
