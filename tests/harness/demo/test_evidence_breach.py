"""The evidence's breach moment: exact window statistics from the simulators' decision logs."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from arbqos.clock import format_ts
from arbqos.config import ExecConfig
from arbqos.guard import QosGuard
from arbqos.vocab import AlertName
from arbqos_harness.demo.breach import SimEvent, first_breaches, log_files, read_sim_events

CFG = ExecConfig(
    fill_ratio_min=0.8, p95_accept_time_ms_max=1000, qos_window_s=10, min_orders_in_window=4
)


def submit(t: float, venue: str = "sx") -> SimEvent:
    return SimEvent(t, venue, "submit")


def result(
    t: float, filled: float = 1.0, accept: float | None = 0.2, venue: str = "sx"
) -> SimEvent:
    return SimEvent(t, venue, "result", 1_000_000, round(filled * 1_000_000), accept)


def test_p95_breaches_at_the_result_that_makes_more_than_5_percent_slow() -> None:
    events = [submit(t) for t in range(5)] + [result(t + 0.5) for t in range(4)]
    events.append(result(4.5, accept=1.5))  # 1 slow of 5 accepts: 20 % > 5 %
    (breach,) = first_breaches(events, CFG, after=0.0, until=100.0)
    assert (breach.rule, breach.venue, breach.at, breach.value) == (
        AlertName.ACCEPT_P95_HIGH,
        "sx",
        4.5,
        1.5,
    )
    assert (breach.submitted, breach.results) == (5, 5)


def test_nothing_breaches_below_min_orders_or_outside_the_interval() -> None:
    few = [submit(0), submit(1), submit(2), result(2.5, filled=0.0, accept=None)]
    assert first_breaches(few, CFG, after=0.0, until=100.0) == []
    events = [submit(t) for t in range(5)] + [result(5.0, filled=0.1)]
    assert first_breaches(events, CFG, after=5.5, until=100.0)[0].at == 5.5
    assert first_breaches(events, CFG, after=0.0, until=4.9) == []


def test_a_good_leg_leaving_the_window_can_be_the_breach() -> None:
    # Ratio (1 + 0.7 + 0.7) / 3 = 0.8 holds until the full fill at t=1 leaves at t=11.
    events = [submit(t) for t in (0, 0.5, 1, 1.5, 8, 9, 9.5, 10)]
    events += [result(1.0), result(8.5, filled=0.7), result(9.5, filled=0.7)]
    breaches = first_breaches(events, CFG, after=0.0, until=30.0)
    assert [(b.rule, b.at) for b in breaches] == [(AlertName.FILL_RATIO_LOW, 11.0)]
    assert breaches[0].value == pytest.approx(0.7)


def test_each_venue_and_rule_reports_its_own_first_moment() -> None:
    events = [submit(t, v) for v in ("sx", "azuro") for t in range(4)]
    events += [result(4.0, filled=0.0, accept=None, venue="azuro"), result(6.0, accept=3.0)]
    found = {(b.rule, b.venue): b.at for b in first_breaches(events, CFG, after=0, until=50)}
    assert found == {
        (AlertName.FILL_RATIO_LOW, "azuro"): 4.0,
        (AlertName.ACCEPT_P95_HIGH, "sx"): 6.0,
    }


class Sink:
    """Records the guard's pause requests."""

    def __init__(self) -> None:
        self.reasons: list[str] = []

    def request_pause(self, reason: str, detail: str) -> None:
        self.reasons.append(reason)


@pytest.mark.parametrize("seed", range(12))
def test_same_first_moment_as_the_guard_fed_the_same_events(seed: int) -> None:
    rng = random.Random(seed)
    events: list[SimEvent] = []
    t = 0.0
    for _ in range(60):
        t += rng.uniform(0.05, 1.0)
        events.append(submit(t))
        decided = t + rng.uniform(0.01, 0.5)
        bad = t > 20 and rng.random() < 0.5
        filled = rng.choice([0.0, 0.4]) if bad else 1.0
        accept = None if filled == 0.0 else (rng.uniform(1.1, 3.0) if bad else 0.3)
        events.append(result(decided, filled, accept))
    events.sort(key=lambda e: e.t)
    breaches = first_breaches(events, CFG, after=0.0, until=t + 20)
    recorder = Sink()
    guard = QosGuard(CFG, recorder, venues=("sx",))
    moments = sorted({e.t for e in events} | {e.t + CFG.qos_window_s for e in events})
    first: dict[str, float] = {}
    queue = list(events)
    for moment in moments:
        while queue and queue[0].t <= moment:
            e = queue.pop(0)
            if e.kind == "submit":
                guard.on_submit("sx", e.t)
            else:
                guard.on_result(
                    "sx", e.t, e.requested_micro / 1e6, e.filled_micro / 1e6, e.accept_s
                )
            for reason in recorder.reasons:
                first.setdefault(reason, e.t)
        guard.evaluate("sx", moment)
        for reason in recorder.reasons:
            first.setdefault(reason, moment)
    assert {b.rule: b.at for b in breaches} == first


def test_reads_both_simulators_log_shapes_and_rotated_files(tmp_path: Path) -> None:
    def ts(seconds: float) -> str:
        return format_ts(datetime.fromtimestamp(1_790_000_000 + seconds, UTC))

    rows = [
        {"ts": ts(0), "event": "order_submitted", "venue": "sx", "requested_usd": 20.0},
        {
            "ts": ts(0.6),
            "event": "order_result",
            "venue": "sx",
            "result": "partial",
            "decided_ts": ts(0.6),
            "requested_usd": 20.0,
            "filled_usd": 7.5,
            "accept_s": 0.6,
        },
        {"ts": ts(1), "event": "order_submitted", "venue": "azuro", "requested_usd": 9.1},
        {
            "ts": ts(1),
            "event": "order_result",
            "venue": "azuro",
            "result": "rejected",
            "decided_ts": ts(1.8),
            "requested_usd": 9.1,
            "filled_usd": 0.0,
            "accept_s": None,
        },
        {"ts": ts(2), "event": "knobs_changed", "venue": "sx", "changes": {}},
    ]
    live = tmp_path / "sx_events.log"
    rotated = tmp_path / "sx_events.log.2026-11-25"
    rotated.write_text(json.dumps(rows[0]) + "\nnot json\n")
    live.write_text("".join(json.dumps(r) + "\n" for r in rows[1:]))
    assert log_files(live) == [rotated, live]
    events = read_sim_events(log_files(live))
    base = 1_790_000_000
    assert [(round(e.t - base, 3), e.venue, e.kind) for e in events] == [
        (0.0, "sx", "submit"),
        (0.6, "sx", "result"),
        (1.0, "azuro", "submit"),
        (1.8, "azuro", "result"),
    ]
    assert (events[1].requested_micro, events[1].filled_micro, events[1].accept_s) == (
        20_000_000,
        7_500_000,
        0.6,
    )
    assert events[3].accept_s is None and events[3].filled_micro == 0
