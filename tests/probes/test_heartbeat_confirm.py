"""Confirmed failures in the heartbeat, in virtual time at the production timings (30 s, 10 s).

Targets follow a script of outcomes by the virtual time an attempt starts; every test checks
what was logged, exported and reported, and that the tick schedule never moved.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from arbqos.clock import Clock, parse_ts
from arbqos.eventlog import EventLog
from arbqos.probes.audit import run_audit
from arbqos.probes.base import ProbeResult, ProbeRunner, tick_margin
from arbqos.probes.confirm import Confirmation, ConfirmPolicy, TargetState
from arbqos.probes.heartbeat import Heartbeat
from arbqos.probes.schedule import LoopClock, run_virtual
from arbqos.registry.local import RuntimeRegistry
from arbqos.registry.model import ChainHealth, SequencerStatus

pytestmark = pytest.mark.timeout(60)

INTERVAL_S, TIMEOUT_S, RETRY_S = 30.0, 10.0, 5.0
POLICY = ConfirmPolicy(failure_threshold=3, success_threshold=2, retry_interval_s=RETRY_S)
DETECT_BOUND_S = INTERVAL_S + (POLICY.failure_threshold - 1) * RETRY_S + TIMEOUT_S
NOON = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
ANSWER_S = 0.05
"""How long an answering endpoint takes (ok or failing)."""

Plan = Callable[[float], str]
"""Outcome of an attempt starting at virtual time t: ok, fail, hang, stall or recovering."""


def healthy(t: float) -> str:
    return "ok"


def between(start: float, end: float, outcome: str = "fail") -> Plan:
    return lambda t: outcome if start <= t < end else "ok"


@dataclass(frozen=True)
class SimTarget:
    name: str
    chain: str | None = None
    kind: str = "sim"


class World:
    """Answers each attempt by its target's plan and records when attempts started."""

    def __init__(self, plans: Mapping[str, Plan]) -> None:
        self.plans = dict(plans)
        self.attempts: list[tuple[str, float, str]] = []
        self.running: set[str] = set()

    async def probe(
        self, target: SimTarget, *, http: httpx.AsyncClient, clock: Clock
    ) -> ProbeResult:
        now = asyncio.get_running_loop().time()
        outcome = self.plans.get(target.name, healthy)(now)
        self.attempts.append((target.name, now, outcome))
        assert target.name not in self.running, f"two attempts at {target.name} at once"
        self.running.add(target.name)
        try:
            if outcome == "hang":
                await asyncio.Event().wait()
            await asyncio.sleep(ANSWER_S)
        finally:
            self.running.discard(target.name)
        health = None
        if target.chain is not None:
            rpc_up = outcome != "fail"
            status: SequencerStatus = {"ok": "up", "recovering": "recovering"}.get(outcome, "down")
            health = ChainHealth(
                target.chain,
                rpc_up,
                status == "up",
                status,
                head_block=7,
                observed_at=clock.now_utc(),
            )
        return ProbeResult(outcome == "ok", f"simulated {outcome}", clock.now_utc(), chain=health)

    def starts(self, name: str) -> list[float]:
        return [round(t, 3) for n, t, _ in self.attempts if n == name]


class Recorder:
    """A reporter that keeps each report with the virtual time it was handed over."""

    def __init__(self) -> None:
        self.reports: list[tuple[float, Mapping[str, Any]]] = []

    def submit(self, report: Mapping[str, Any]) -> None:
        self.reports.append((asyncio.get_running_loop().time(), report))

    def chain(self, name: str) -> list[tuple[float, bool | None]]:
        """(time, reported rpc_up) of each report; None when the chain was left out (unknown)."""
        out = []
        for at, report in self.reports:
            health = report["chains"].get(name)
            out.append((round(at, 3), None if health is None else health["rpc_up"]))
        return out


@dataclass
class Run:
    heartbeat: Heartbeat
    world: World
    recorder: Recorder
    registry: CollectorRegistry
    log_path: Path

    def lines(self, event: str | None = None) -> list[dict[str, Any]]:
        """Records of the rotated files, then the live one."""
        paths = [*sorted(self.log_path.parent.glob(self.log_path.name + ".*")), self.log_path]
        records = [json.loads(x) for path in paths for x in path.read_text().splitlines()]
        return [r for r in records if event is None or r["event"] == event]


TARGETS = [
    SimTarget("sx_rollup", "sx_rollup"),
    SimTarget("arbitrum", "arbitrum"),
    SimTarget("sx_api"),
]


def simulate(
    tmp_path: Path, plans: Mapping[str, Plan], ticks: int, policy: ConfirmPolicy = POLICY
) -> Run:
    """Run `ticks` ticks from t=0 in virtual time; the retries of the last tick end too."""
    registry = CollectorRegistry()
    world, recorder = World(plans), Recorder()
    log_path = tmp_path / "heartbeat.log"

    async def main() -> Heartbeat:
        clock = LoopClock(NOON, loop_start=0.0)
        log = EventLog(log_path, clock, config_hash="ab" * 32, retention_days=400)
        async with httpx.AsyncClient() as http:
            runner = ProbeRunner(
                registry, probers={"sim": world.probe}, http=http, clock=clock, timeout_s=TIMEOUT_S
            )
            heartbeat = Heartbeat(
                TARGETS,
                runner=runner,
                clock=clock,
                interval_s=INTERVAL_S,
                config_hash=log.config_hash,
                event_log=log,
                registry=registry,
                runtime=RuntimeRegistry(registry),
                reporter=recorder,
                policy=policy,
            )
            assert await heartbeat.run(max_ticks=ticks, origin=0.0) == ticks
        log.close()
        return heartbeat

    return Run(run_virtual(main(), start=0.0), world, recorder, registry, log_path)


def _assert_on_schedule(run: Run, ticks: int) -> None:
    """Tick k was due at k x 30 s, started on time, and no retry ever moved it."""
    lines = run.lines("tick")
    assert [line["tick"] for line in lines] == list(range(1, ticks + 1))
    for index, line in enumerate(lines):
        assert line["lateness_ms"] == 0.0
        offset = (parse_ts(line["scheduled_ts"]) - NOON).total_seconds()
        assert offset == pytest.approx(index * INTERVAL_S, abs=1e-6)


def _at(run: Run, event: str) -> list[float]:
    return [(parse_ts(r["ts"]) - NOON).total_seconds() for r in run.lines(event)]


def test_start_up_confirms_healthy_targets_after_one_retry(tmp_path: Path) -> None:
    run = simulate(tmp_path, {}, ticks=3)
    _assert_on_schedule(run, 3)
    assert run.world.starts("sx_rollup") == [0.0, 5.0, 30.0, 60.0]  # one retry confirms up
    first = run.lines("tick")[0]["targets"]["sx_rollup"]
    assert (first["ok"], first["state"], first["confirmed"]) == (True, "unknown", None)
    assert first["confirm"] == "success 1 of 2 before up" and "confirmed_chain" not in first
    assert run.recorder.chain("sx_rollup")[:2] == [(0.05, None), (5.05, True)]  # reported at once
    changes = run.lines("state_change")
    assert {(c["target"], c["from"], c["to"], c["attempt"]) for c in changes} == {
        (name, "unknown", "up", 2) for name in ("sx_rollup", "arbitrum", "sx_api")
    }
    assert run.registry.get_sample_value("arb_rpc_up", {"chain": "sx_rollup"}) == 1


def test_one_failed_attempt_is_retried_and_never_reported_down(tmp_path: Path) -> None:
    run = simulate(tmp_path, {"sx_rollup": between(60, 61)}, ticks=4)
    _assert_on_schedule(run, 4)
    assert run.world.starts("sx_rollup") == [0.0, 5.0, 30.0, 60.0, 65.0, 90.0]
    tick3 = run.lines("tick")[2]["targets"]["sx_rollup"]
    assert (tick3["ok"], tick3["rpc_up"]) == (False, False)  # the raw attempt stays visible
    assert (tick3["state"], tick3["confirmed"], tick3["in_row"]) == ("up", True, 1)
    assert tick3["confirmed_chain"] == {
        "rpc_up": True,
        "sequencer_up": True,
        "sequencer_status": "up",
    }
    assert tick3["confirm"] == "failure 1 of 3 before down"
    (retry,) = run.lines("retry")[-1:]
    assert (retry["tick"], retry["attempt"], retry["target"], retry["ok"]) == (
        3,
        2,
        "sx_rollup",
        True,
    )
    assert all(up is not False for _, up in run.recorder.chain("sx_rollup"))
    assert [c["to"] for c in run.lines("state_change") if c["target"] == "sx_rollup"] == ["up"]
    tick_report = next(r for at, r in run.recorder.reports if round(at, 3) == 60.05)
    assert tick_report["targets"]["sx_rollup"]["ok"] is True  # confirmed verdict
    assert tick_report["targets"]["sx_rollup"]["attempt_ok"] is False  # raw verdict
    assert "failure 1 of 3 before down" in tick_report["chains"]["sx_rollup"]["detail"]


@pytest.mark.parametrize("outage_start", [30.001, 44.0, 59.9])
def test_a_sustained_outage_is_reported_down_within_the_bound(
    tmp_path: Path, outage_start: float
) -> None:
    run = simulate(tmp_path, {"sx_rollup": between(outage_start, 10_000)}, ticks=5)
    _assert_on_schedule(run, 5)
    assert run.world.starts("sx_rollup")[3:6] == [60.0, 65.0, 70.0]
    (change,) = [c for c in run.lines("state_change") if c["to"] == "down"]
    assert (change["target"], change["tick"], change["attempt"]) == ("sx_rollup", 3, 3)
    assert change["changed"]["rpc_up"] == [True, False]
    first_down = next(at for at, up in run.recorder.chain("sx_rollup") if up is False)
    assert first_down == 70.05  # reported at the confirming retry, not at the next tick (90)
    assert first_down - outage_start <= DETECT_BOUND_S
    assert run.registry.get_sample_value("arb_rpc_up", {"chain": "sx_rollup"}) == 0
    assert run.registry.get_sample_value("arb_sequencer_up", {"chain": "sx_rollup"}) == 0
    assert run.lines("tick")[3]["down"] == ["sx_rollup"]  # tick 4 knows it is down
    assert run.world.starts("sx_rollup")[6:] == [90.0, 120.0]  # settled down: no more retries


def test_hanging_endpoints_are_confirmed_down_by_the_next_tick_at_the_latest(
    tmp_path: Path,
) -> None:
    """Each hung attempt takes the whole timeout, so retries start when the previous one ends."""
    run = simulate(tmp_path, {"sx_rollup": between(31, 10_000, "hang")}, ticks=5)
    _assert_on_schedule(run, 5)
    assert run.world.starts("sx_rollup")[3:6] == [60.0, 70.0, 80.0]  # 80 + 10 still fits in 90
    first_down = next(at for at, up in run.recorder.chain("sx_rollup") if up is False)
    assert first_down == pytest.approx(90.0, abs=0.01)
    retries = POLICY.failure_threshold - 1
    assert first_down - 31 <= INTERVAL_S + retries * max(RETRY_S, TIMEOUT_S) + TIMEOUT_S


def test_recovery_is_confirmed_by_one_retry_and_reported_at_once(tmp_path: Path) -> None:
    run = simulate(tmp_path, {"arbitrum": between(31, 95, "stall")}, ticks=6)
    _assert_on_schedule(run, 6)
    reports = [(at, r["chains"].get("arbitrum")) for at, r in run.recorder.reports]
    up_flags = [(round(at, 2), h["rpc_up"], h["sequencer_up"]) for at, h in reports if h]
    assert (70.05, True, False) in up_flags  # a stall: RPC up, sequencer down
    assert up_flags[-1] == (150.05, True, True)
    recovered = [c for c in run.lines("state_change") if c["target"] == "arbitrum"][-1]
    assert (recovered["to"], recovered["tick"], recovered["attempt"]) == ("up", 5, 2)
    assert (parse_ts(recovered["ts"]) - NOON).total_seconds() == pytest.approx(125.05, abs=0.01)
    assert run.world.starts("arbitrum")[-4:] == [90.0, 120.0, 125.0, 150.0]


def test_a_grace_is_live_not_a_failure_and_ends_with_a_reported_change(tmp_path: Path) -> None:
    plans = {"arbitrum": lambda t: "stall" if 31 <= t < 95 else "recovering" if t < 155 else "ok"}
    run = simulate(tmp_path, plans, ticks=7)
    statuses = [
        (round(at, 2), r["chains"]["arbitrum"]["sequencer_status"])
        for at, r in run.recorder.reports
        if "arbitrum" in r["chains"]
    ]
    assert (125.05, "recovering") in statuses  # confirmed live again, still in its grace
    assert statuses[-1] == (180.05, "up")
    tick6 = run.lines("tick")[5]["targets"]["arbitrum"]  # t=150, recovering: raw not ok, live
    assert (tick6["ok"], tick6["state"], tick6["sequencer_status"]) == (False, "up", "recovering")
    assert 155.0 not in run.world.starts("arbitrum")  # recovering is settled: no retries


def test_alternating_results_never_flap(tmp_path: Path) -> None:
    attempts = iter(range(1_000))
    plans = {"sx_api": lambda t: "ok" if next(attempts) % 2 == 0 else "fail"}
    run = simulate(tmp_path, plans, ticks=4)
    _assert_on_schedule(run, 4)
    assert [c for c in run.lines("state_change") if c["target"] == "sx_api"] == []
    starts = run.world.starts("sx_api")
    assert starts[:6] == [0.0, 5.0, 10.0, 15.0, 20.0, 30.0]  # unsettled: retried to the limit
    assert 25.0 not in starts  # 25 + 10 would still run at 30, when the next tick probes
    assert all("sx_api" not in r["chains"] for _, r in run.recorder.reports)


def test_probe_success_is_raw_while_the_registry_is_confirmed(tmp_path: Path) -> None:
    run = simulate(tmp_path, {"sx_rollup": between(90, 91)}, ticks=4)
    get = run.registry.get_sample_value
    assert get("arb_probe_success", {"target": "sx_rollup"}) == 1  # last attempt (retry) ok
    assert get("arb_probe_duration_seconds_count", {"target": "sx_rollup"}) == 6
    assert get("arb_rpc_up", {"chain": "sx_rollup"}) == 1
    assert get("arb_heartbeat_ticks_total", {"result": "degraded"}) == 1


def test_audit_counts_only_ticks_among_retries_and_state_changes(tmp_path: Path) -> None:
    run = simulate(tmp_path, {"sx_rollup": between(31, 200)}, ticks=10)
    assert run.lines("retry") and run.lines("state_change")
    out, err = io.StringIO(), io.StringIO()
    assert run_audit([run.log_path], max_gap_s=None, interval_s=INTERVAL_S, out=out, err=err) == 0
    assert out.getvalue().startswith("ticks=10 gaps=0 duplicates=0 max_gap_s=30.000 ")
    assert err.getvalue() == ""


def test_an_attempt_running_into_the_next_tick_is_finished_and_counted_first(
    tmp_path: Path,
) -> None:
    """With an exact fit (2 x 10 + 10 = 30), the last hung retry ends as the next tick starts."""
    exact = ConfirmPolicy(failure_threshold=3, success_threshold=2, retry_interval_s=10.0)
    run = simulate(tmp_path, {"sx_api": lambda t: "hang"}, ticks=2, policy=exact)
    _assert_on_schedule(run, 2)
    assert run.world.starts("sx_api") == [0.0, 10.0, 20.0, 30.0]  # never two at once
    (change,) = [c for c in run.lines("state_change") if c["target"] == "sx_api"]
    assert (change["tick"], change["attempt"], change["to"]) == (1, 3, "down")
    assert run.lines("tick")[1]["targets"]["sx_api"]["state"] == "down"


def test_a_lone_tick_makes_no_retries_and_one_attempt_decides(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    world = World({"sx_rollup": lambda t: "fail"})

    async def main() -> Any:
        clock = LoopClock(NOON, loop_start=0.0)
        async with httpx.AsyncClient() as http:
            runner = ProbeRunner(
                registry, probers={"sim": world.probe}, http=http, clock=clock, timeout_s=TIMEOUT_S
            )
            heartbeat = Heartbeat(
                TARGETS, runner=runner, clock=clock, interval_s=INTERVAL_S, config_hash="x"
            )
            outcome = await heartbeat.tick(1)
            await asyncio.sleep(60)
            return outcome, heartbeat.state("sx_rollup")

    outcome, state = run_virtual(main())
    assert not outcome.ok and str(state) == "down"  # `--once`: no history to confirm against
    assert world.starts("sx_rollup") == [0.0]


def test_stopping_cancels_pending_retries(tmp_path: Path) -> None:
    world = World({"sx_rollup": lambda t: "fail"})

    async def main() -> None:
        clock = LoopClock(NOON, loop_start=0.0)
        stop = asyncio.Event()
        async with httpx.AsyncClient() as http:
            runner = ProbeRunner(
                None, probers={"sim": world.probe}, http=http, clock=clock, timeout_s=TIMEOUT_S
            )
            heartbeat = Heartbeat(
                TARGETS,
                runner=runner,
                clock=clock,
                interval_s=INTERVAL_S,
                config_hash="x",
                policy=POLICY,
            )
            asyncio.get_running_loop().call_later(2.0, stop.set)
            assert await heartbeat.run(stop=stop, origin=0.0) == 1
            await asyncio.sleep(60)

    run_virtual(main())
    assert world.starts("sx_rollup") == [0.0]  # the retry due at 5 s never ran


@pytest.mark.deep
def test_a_day_of_two_percent_failed_attempts_on_schedule_with_every_attempt_counted(
    tmp_path: Path,
) -> None:
    rng = random.Random(20261126)
    plans = {t.name: (lambda t: "fail" if rng.random() < 0.02 else "ok") for t in TARGETS}
    run = simulate(tmp_path, plans, ticks=2880)
    _assert_on_schedule(run, 2880)
    records = run.lines()
    for target in TARGETS:
        outcomes = [o == "ok" for n, _, o in run.world.attempts if n == target.name]
        expected, current = 0, Confirmation()
        for ok in outcomes:
            after = current.observe(ok, POLICY)
            expected += after.state is TargetState.DOWN and current.state is not TargetState.DOWN
            current = after
        downs = [r for r in records if r["event"] == "state_change" and r["target"] == target.name]
        assert sum(r["to"] == "down" for r in downs) == expected
        failures = outcomes.count(False)
        retries = sum(r["event"] == "retry" and r["target"] == target.name for r in records)
        assert failures > 30 and retries >= failures  # every failure was re-probed


def test_an_attempt_that_ignores_cancellation_is_abandoned_after_the_margin() -> None:
    async def stubborn(target: SimTarget, *, http: httpx.AsyncClient, clock: Clock) -> ProbeResult:
        try:
            await asyncio.sleep(1_000)
        except asyncio.CancelledError:
            await asyncio.sleep(30)  # a buggy probe that swallows its cancellation
        return ProbeResult(True, "too late", clock.now_utc())

    async def main() -> tuple[ProbeResult, float]:
        clock = LoopClock(NOON, loop_start=0.0)
        async with httpx.AsyncClient() as http:
            runner = ProbeRunner(
                None, probers={"sim": stubborn}, http=http, clock=clock, timeout_s=TIMEOUT_S
            )
            result = await runner.run_attempt(SimTarget("sx_api"))
            ended = asyncio.get_running_loop().time()
            await asyncio.sleep(60)  # the orphan finishes in the background, ignored
            return result, ended

    result, ended = run_virtual(main())
    assert not result.ok and result.detail == "abandoned: still running 11 s after it started"
    assert ended == pytest.approx(TIMEOUT_S + tick_margin(TIMEOUT_S))
