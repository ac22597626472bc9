"""The simulated arb engine trades both venues, reports every leg and stops while paused."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry

from arbqos.clock import SystemClock
from arbqos.config.schema import ArbqosConfig
from arbqos.eventlog import EventLog
from arbqos.instrument.tracker import ExecutionTracker
from arbqos_harness.sim import KnobBox, SimKnobs, SimServer, serve
from arbqos_harness.sim.azuro import AzuroSimulator
from arbqos_harness.sim.engine import ArbEngine, EngineSettings
from arbqos_harness.sim.observer import FanOut, RecordingObserver
from arbqos_harness.sim.sx import SxSimulator
from arbqos_harness.sim.tracking import TrackerObserver
from tests.harness.sim.conftest import read_log
from tests.support.wait import returns_within

FAST = SimKnobs(time_scale=0.05, jitter_s=0.0, confirm_s=2.0, settle_after_s=10.0)
"""Pregame accept 25 ms, live 150-500 ms, settlement 0.5 s after acceptance."""


@pytest.fixture
def venues(tmp_path: Path) -> Iterator[tuple[SimServer, SimServer]]:
    clock = SystemClock()
    sx_log = EventLog(tmp_path / "sx.log", clock, config_hash="e")
    az_log = EventLog(tmp_path / "azuro.log", clock, config_hash="e")
    sx = serve(SxSimulator(seed=2, knobs=KnobBox(FAST), event_log=sx_log).app)
    azuro = serve(AzuroSimulator(seed=2, knobs=KnobBox(FAST), event_log=az_log).app)
    yield sx, azuro
    sx.stop()
    azuro.stop()


def settings(sx: SimServer, azuro: SimServer, **changes: object) -> EngineSettings:
    base: dict[str, object] = {
        "opportunities_per_s": 20.0,
        "poll_interval_s": 0.05,
        "settle_poll_s": 0.2,
        "shutdown_grace_s": 2.0,
        "live_fraction": 0.5,
    }
    return EngineSettings(sx.url, azuro.url, **{**base, **changes})  # type: ignore[arg-type]


async def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_engine_stops_sending_while_trading_is_not_allowed(
    venues: tuple[SimServer, SimServer],
) -> None:
    allowed = {"now": True}
    asked: list[bool] = []

    def trading_allowed() -> bool:
        asked.append(allowed["now"])
        return allowed["now"]

    observer = RecordingObserver()
    engine = ArbEngine(settings(*venues), trading_allowed=trading_allowed, observer=observer)
    task = asyncio.create_task(engine.run())
    await wait_until(lambda: len(observer.of_kind("submitted")) >= 8)
    allowed["now"] = False
    await asyncio.sleep(0.3)  # in-flight quotes finish; nothing new may start
    paused_at = len(observer.of_kind("submitted"))
    await asyncio.sleep(1.0)
    assert len(observer.of_kind("submitted")) == paused_at
    assert engine.stats.skipped_paused >= 10
    allowed["now"] = True
    await wait_until(lambda: len(observer.of_kind("submitted")) > paused_at + 4)
    engine.stop()
    stats = await asyncio.wait_for(task, 5)
    assert [allowed for _ts, allowed in stats.pause_changes] == [True, False, True]
    assert len(asked) >= len(observer.of_kind("submitted"))  # asked before every leg at least
    assert stats.legs["sx"] == stats.legs["azuro"]
    assert len(observer.of_kind("result")) == len(observer.of_kind("submitted"))


async def test_async_and_failing_permission_callables(venues: tuple[SimServer, SimServer]) -> None:
    async def allow() -> bool:
        await asyncio.sleep(0)
        return True

    engine = ArbEngine(settings(*venues), trading_allowed=allow)
    stats = await engine.run(duration_s=0.5)
    assert stats.legs["sx"] >= 3

    def broken() -> bool:
        raise ConnectionError("orchestrator unreachable")

    closed = ArbEngine(settings(*venues), trading_allowed=broken)
    stats = await closed.run(duration_s=0.4)
    assert stats.legs == {} and stats.skipped_paused >= 4  # fails closed


async def test_results_match_the_venue_logs_and_bets_settle(
    venues: tuple[SimServer, SimServer], tmp_path: Path
) -> None:
    observer = RecordingObserver()
    engine = ArbEngine(settings(*venues), trading_allowed=lambda: True, observer=observer)
    task = asyncio.create_task(engine.run())
    await wait_until(lambda: len(observer.of_kind("settled")) >= 6, timeout_s=8)
    engine.stop()
    stats = await asyncio.wait_for(task, 5)
    for venue in ("sx", "azuro"):
        logged = [
            r
            for r in read_log(tmp_path / f"{venue}.log")
            if r["event"] == "order_result" and r["result"] in ("filled", "partial")
        ]
        accepted = [
            result
            for leg, result in observer.of_kind("result")
            if leg.venue == venue and result.result in ("filled", "partial")
        ]
        assert {r["order_id"] for r in logged} == {r.order_id for r in accepted}
        assert sum(r["filled_usd"] for r in logged) == pytest.approx(
            sum(r.filled_usd for r in accepted), abs=0.05
        )
    for leg, result in observer.of_kind("result"):
        if result.result == "filled":
            assert leg.submitted_at <= result.accepted_at
            assert 0 < result.filled_prob < 1
    assert sum(stats.settled.values()) == len(observer.of_kind("settled"))
    endpoints = {(venue, endpoint) for venue, endpoint, _e, _d in observer.of_kind("call")}
    assert {("sx", "orders_fill"), ("azuro", "bet_order_place"), ("sx", "trades")} <= endpoints


async def test_outage_turns_into_failures_not_crashes(
    venues: tuple[SimServer, SimServer],
) -> None:
    sx, azuro = venues
    observer = RecordingObserver()
    engine = ArbEngine(settings(sx, azuro), trading_allowed=lambda: True, observer=observer)
    task = asyncio.create_task(engine.run())
    await wait_until(lambda: len(observer.of_kind("submitted")) >= 4)
    async with httpx.AsyncClient() as http:
        await http.post(sx.url + "/sim/knobs", json={"outage": "503"})
        await asyncio.sleep(0.5)
        await http.post(sx.url + "/sim/knobs", json={"outage": "none"})
    engine.stop()
    stats = await asyncio.wait_for(task, 5)
    assert stats.quote_failures >= 3
    failed = [(venue, e) for venue, _ep, e, _d in observer.of_kind("call") if e]
    assert ("sx", "http_5xx") in failed


async def test_stop_cancels_slow_legs_and_still_reports_them(tmp_path: Path) -> None:
    slow = KnobBox(
        SimKnobs(time_scale=1.0, pregame_delay_s=(20.0, 20.0), live_delay_s=(20.0, 20.0))
    )
    with (
        serve(SxSimulator(seed=1, knobs=slow).app) as sx,
        serve(AzuroSimulator(seed=1, knobs=KnobBox(FAST)).app) as azuro,
    ):
        observer = RecordingObserver()
        engine = ArbEngine(
            settings(sx, azuro, shutdown_grace_s=0.2),
            trading_allowed=lambda: True,
            observer=observer,
        )
        task = asyncio.create_task(engine.run())
        await wait_until(lambda: engine.inflight >= 4)
        engine.stop()
        await returns_within(task, 10, "the engine's stop with legs in flight")
    submitted = observer.of_kind("submitted")
    results = observer.of_kind("result")
    assert len(results) == len(submitted)
    assert any(r.code == "cancelled" for _leg, r in results)
    assert engine.inflight == 0


async def test_tracker_observer_feeds_the_real_instrumentation(
    venues: tuple[SimServer, SimServer],
) -> None:
    registry = CollectorRegistry()
    tracker = ExecutionTracker(registry, ArbqosConfig(), bank=2_000.0)
    recorder = RecordingObserver()
    observer = FanOut([TrackerObserver(tracker), recorder])
    engine = ArbEngine(settings(*venues), trading_allowed=lambda: True, observer=observer)
    task = asyncio.create_task(engine.run())
    await wait_until(lambda: len(recorder.of_kind("settled")) >= 2, timeout_s=8)
    engine.stop()
    stats = await asyncio.wait_for(task, 5)

    def value(name: str, **labels: str) -> float:
        return registry.get_sample_value(name, labels) or 0.0

    for venue in ("sx", "azuro"):
        assert value("arb_orders_submitted_total", venue=venue) == stats.legs[venue]
        results = sum(
            value("arb_order_results_total", venue=venue, result=r)
            for r in ("filled", "partial", "rejected", "expired", "error")
        )
        assert results == stats.legs[venue]
        accepted = stats.results[f"{venue}:filled"] + stats.results[f"{venue}:partial"]
        accept_count = sum(
            value("arb_accept_time_seconds_count", venue=venue, phase=p)
            for p in ("pregame", "live")
        )
        assert accept_count == accepted
    settled = value("arb_bets_settled_total", venue="sx") + value(
        "arb_bets_settled_total", venue="azuro"
    )
    assert settled == sum(stats.settled.values())
    assert (
        value("arb_venue_request_duration_seconds_count", venue="sx", endpoint="orders_fill") >= 1
    )
