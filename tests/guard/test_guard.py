"""QosGuard rules on hand-made scenarios: gate, boundaries, edge-triggering and re-arming."""

from __future__ import annotations

import sys
import threading

import pytest
from prometheus_client import CollectorRegistry

from arbqos.clock import FakeClock
from arbqos.config.schema import ArbqosConfig, ExecConfig
from arbqos.guard import RULES, QosGuard
from arbqos.instrument import ExecutionTracker
from arbqos.vocab import PAUSE_ALERTS, AlertName

CFG = ExecConfig(
    fill_ratio_min=0.85, p95_accept_time_ms_max=2000, qos_window_s=300, min_orders_in_window=20
)


class Recorder:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []

    def request_pause(self, reason: str, detail: str) -> None:
        self.requests.append((reason, detail))


def run_accepts(guard: QosGuard, fast: int, slow: int, t: float = 0.0) -> None:
    for i in range(fast + slow):
        guard.on_submit("sx", t)
        guard.on_result("sx", t, 10.0, 10.0, 2.5 if i >= fast else 2.0)  # 2.0 = threshold: fast


@pytest.mark.parametrize(
    ("fast", "slow", "trips"),
    [(19, 1, False), (18, 2, True), (18, 1, True), (38, 2, False), (37, 2, True), (57, 3, False)],
)
def test_p95_rule_is_more_than_5_percent_above_threshold(fast: int, slow: int, trips: bool) -> None:
    sink = Recorder()
    guard = QosGuard(CFG.model_copy(update={"min_orders_in_window": 1}), sink)
    run_accepts(guard, fast, slow)
    stats = guard.stats("sx")
    assert stats.accept_p95_high is trips
    assert (stats.p95_accept_s is not None and stats.p95_accept_s > 2.0) is trips
    assert [r for r, _ in sink.requests] == ([AlertName.ACCEPT_P95_HIGH] if trips else [])


def test_gate_holds_until_min_orders_submitted() -> None:
    sink = Recorder()
    guard = QosGuard(CFG, sink)
    for i in range(19):
        guard.on_submit("azuro", float(i))
        guard.on_result("azuro", float(i), 10.0, 0.0, None)
    assert sink.requests == [] and not guard.stats("azuro").gate_open
    guard.on_submit("azuro", 19.0)
    assert [r for r, _ in sink.requests] == [AlertName.FILL_RATIO_LOW]
    _reason, detail = sink.requests[0]
    assert detail == ("venue=azuro fill_ratio=0.0000 < 0.85 over 300s (n=20 submitted, 19 results)")


def test_persisting_breach_sends_once_and_rearms_after_recovery() -> None:
    sink = Recorder()
    guard = QosGuard(CFG, sink)
    t = 0.0
    for _ in range(30):  # fills of 40 %: breach from the 20th submit on
        t += 1
        guard.on_submit("sx", t)
        guard.on_result("sx", t, 10.0, 4.0, 0.5)
    assert [r for r, _ in sink.requests] == [AlertName.FILL_RATIO_LOW]
    for _ in range(300):  # full fills: the ratio climbs back above 0.85
        t += 1
        guard.on_submit("sx", t)
        guard.on_result("sx", t, 10.0, 10.0, 0.5)
    assert not guard.stats("sx").fill_ratio_low
    assert len(sink.requests) == 1
    for _ in range(300):  # a second episode: one new request
        t += 1
        guard.on_submit("sx", t)
        guard.on_result("sx", t, 10.0, 0.0, None)
    assert [r for r, _ in sink.requests] == [AlertName.FILL_RATIO_LOW, AlertName.FILL_RATIO_LOW]
    assert guard.requests_sent == 2


def test_venues_are_independent_and_time_eviction_recovers() -> None:
    sink = Recorder()
    guard = QosGuard(CFG.model_copy(update={"min_orders_in_window": 1}), sink)
    run_accepts(guard, 0, 3, t=10.0)
    guard.on_submit("azuro", 11.0)
    guard.on_result("azuro", 11.0, 5.0, 5.0, 0.1)
    assert [r for r, _ in sink.requests] == [AlertName.ACCEPT_P95_HIGH]
    assert sink.requests[0][1] == (
        "venue=sx p95_accept_time_ms=2500 > 2000 over 300s (slow=1/1 accepts, n=1 submitted)"
    )
    stats = guard.evaluate("sx", 310.0)  # everything from t=10 has left the window
    assert (stats.submitted, stats.accepts, stats.accept_p95_high) == (0, 0, False)
    assert guard.stats("azuro").fill_ratio == 1.0
    with pytest.raises(ValueError, match="unknown venue 'kalshi'"):
        guard.on_submit("kalshi", 1.0)


def test_the_guard_rules_are_pausing_alerts_and_only_they_have_details() -> None:
    assert set(RULES) <= PAUSE_ALERTS  # the orchestrator pauses on the guard's reasons
    window = QosGuard(CFG, Recorder()).bind("sx")
    with pytest.raises(ValueError, match="ArbRpcDown is not a rule of the QoS guard"):
        window.detail(AlertName.RPC_DOWN)


def test_tracker_drives_the_guard(registry: CollectorRegistry, fake_clock: FakeClock) -> None:
    sink = Recorder()
    config = ArbqosConfig(exec=CFG)
    guard = QosGuard(config.exec, sink)
    tracker = ExecutionTracker(registry, config, clock=fake_clock, guard=guard)
    legs = [tracker.submit("sx", "live", 25.0, 0.5) for _ in range(20)]
    fake_clock.advance(3.0)  # every accept takes 3 s > 2 s
    for leg in legs:
        leg.result("filled")
    assert [r for r, _ in sink.requests] == [AlertName.ACCEPT_P95_HIGH]
    stats = guard.stats("sx")
    assert (stats.submitted, stats.results, stats.accepts, stats.slow_accepts) == (20, 20, 20, 20)
    assert stats.p95_accept_s == pytest.approx(3.0)
    assert stats.fill_ratio == 1.0


def test_threads_sharing_a_guard_keep_its_window_consistent() -> None:
    guard = QosGuard(
        ExecConfig(qos_window_s=1, min_orders_in_window=1, p95_accept_time_ms_max=1000),
        Recorder(),
    )

    def trade(offset: float) -> None:
        for k in range(3000):
            t = 1000.0 + offset + k * 1e-3  # 1 s window: events keep leaving it
            guard.on_submit("sx", t)
            guard.on_result("sx", t, 2.0, 2.0 if k % 4 else 0.5, 1.5 if k % 10 == 0 else 0.1)

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=trade, args=(i * 1e-4,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch)
    window = guard.bind("sx")
    results = window.results  # the parallel deques still line up (zip is strict)
    assert 1000 <= len(results) <= 12_000  # how many are left depends on the interleaving
    assert window.requested == sum(r[1] for r in results)
    assert window.filled == sum(r[2] for r in results)
    assert window.excess == sum(19 if r[3] > 1.0 else -1 for r in results if r[3] is not None)
    stats = guard.stats("sx")
    assert (stats.results, stats.accepts) == (len(results), len(results))
    assert stats.slow_accepts == sum(r[3] is not None and r[3] > 1.0 for r in results)


def test_an_event_waits_while_another_thread_holds_the_mutex() -> None:
    guard = QosGuard(CFG, Recorder())
    window = guard.bind("sx")
    window.lock.get()  # as another event in progress would
    thread = threading.Thread(target=guard.on_submit, args=("sx", 1.0))
    try:
        thread.start()
        thread.join(timeout=0.2)
        assert thread.is_alive() and len(window.submits) == 0
    finally:
        window.lock.put(True)
    thread.join(timeout=5)
    assert not thread.is_alive() and list(window.submits) == [1.0]


def test_advance_finds_a_breach_made_by_time_alone() -> None:
    """Good results leaving the window lower the ratio: `advance` trips without a new event."""
    sink = Recorder()
    config = CFG.model_copy(
        update={"qos_window_s": 10, "min_orders_in_window": 2, "fill_ratio_min": 0.5}
    )
    guard = QosGuard(config, sink)
    for t, filled in ((0.0, 10.0), (0.0, 10.0), (5.0, 0.0), (5.0, 0.0)):
        guard.on_submit("sx", t)
        guard.on_result("sx", t, 10.0, filled, 1.0 if filled else None)
    assert sink.requests == []  # 20 of 40 USD filled, no breach
    guard.advance(9.9)
    assert sink.requests == []
    guard.advance(10.0)  # the filled legs leave the window: 0 of 20 USD filled
    assert [r for r, _ in sink.requests] == [AlertName.FILL_RATIO_LOW]
    assert guard.stats("sx").submitted == 2
