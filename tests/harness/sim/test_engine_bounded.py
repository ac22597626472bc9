"""The engine's settlement lookups cost what is open, not what was ever traded."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from arbqos_harness.sim import KnobBox, SimKnobs, serve
from arbqos_harness.sim.azuro import AzuroSimulator
from arbqos_harness.sim.engine import SX_START_MARGIN_S, ArbEngine, EngineSettings
from arbqos_harness.sim.sx import SxSimulator

FAST = SimKnobs(time_scale=0.05, jitter_s=0.0, confirm_s=2.0, settle_after_s=10.0)


def settings(sx_url: str, azuro_url: str, **changes: object) -> EngineSettings:
    base: dict[str, object] = {
        "opportunities_per_s": 20.0,
        "poll_interval_s": 0.05,
        "settle_poll_s": 0.2,
        "shutdown_grace_s": 2.0,
    }
    return EngineSettings(sx_url, azuro_url, **{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.deep
async def test_sx_lookups_start_at_the_oldest_open_bet() -> None:
    asked: list[tuple[float, httpx.URL]] = []

    async def remember(request: httpx.Request) -> None:
        if request.url.path == "/trades":
            asked.append((time.time(), request.url))

    with (
        serve(SxSimulator(seed=3, knobs=KnobBox(FAST)).app) as sx,
        serve(AzuroSimulator(seed=3, knobs=KnobBox(FAST)).app) as azuro,
    ):
        async with httpx.AsyncClient(event_hooks={"request": [remember]}) as http:
            engine = ArbEngine(settings(sx.url, azuro.url), trading_allowed=lambda: True, http=http)
            stats = await engine.run(duration_s=3.0)
    assert sum(stats.settled.values()) >= 4 and len(asked) >= 5
    starts = [int(url.params["startDate"]) for _at, url in asked]
    assert starts == sorted(starts)
    # Bets settle 0.5 s after acceptance: a lookup never reaches further back than that
    # plus the clock margin (and a second of rounding), however long the engine has traded.
    reach = [at - start for at, start in zip([at for at, _ in asked], starts, strict=True)]
    assert max(reach) <= SX_START_MARGIN_S + 2.0
    assert all(url.params["bettor"] == engine.settings.taker for _at, url in asked)


@pytest.mark.deep
async def test_bets_that_never_settle_or_vanish_are_given_up() -> None:
    never = FAST.with_changes({"settle_after_s": 1e6})
    with (
        serve(SxSimulator(seed=3, knobs=KnobBox(never)).app) as sx,
        serve(AzuroSimulator(seed=3, knobs=KnobBox(FAST), max_records=2).app) as azuro,
    ):
        engine = ArbEngine(
            settings(sx.url, azuro.url, settle_give_up_s=0.6),
            trading_allowed=lambda: True,
        )
        task = asyncio.create_task(engine.run())
        await asyncio.sleep(2.5)
        engine.stop()
        stats = await asyncio.wait_for(task, 5)
    accepted = stats.results["sx:filled"] + stats.results["sx:partial"]
    assert accepted >= 10
    # SX bets never settle: each is dropped 0.6 s after acceptance; Azuro keeps only two
    # orders, so older ones answer 404 and are dropped too.
    assert stats.unsettled_dropped >= accepted // 2
    assert engine.open_bets() <= 0.6 * 20 * 2 + 16
    assert stats.to_json()["unsettled_dropped"] == stats.unsettled_dropped
