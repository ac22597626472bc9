"""Nearest-rank p95 and the equivalence "p95 > T" <=> "more than 5 % of accepts above T"."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from arbqos.guard import QosWindow, p95_nearest_rank
from arbqos.guard.window import MICRO


def test_nearest_rank_definition() -> None:
    assert p95_nearest_rank([]) is None
    assert p95_nearest_rank([3.0]) == 3.0
    values = [float(i) for i in range(1, 101)]  # 1..100
    assert p95_nearest_rank(values) == 95.0  # rank ceil(95) = 95
    assert p95_nearest_rank(values[:20]) == 19.0  # rank ceil(19.0) = 19
    assert p95_nearest_rank(values[:21]) == 20.0  # rank ceil(19.95) = 20
    assert p95_nearest_rank([5.0, 1.0, 3.0]) == 5.0


@given(
    st.lists(st.floats(0, 20, allow_nan=False), min_size=1, max_size=300),
    st.floats(0, 20, allow_nan=False),
)
def test_p95_above_threshold_iff_more_than_5_percent_slower(values: list[float], t: float) -> None:
    n = len(values)
    slow = sum(v > t for v in values)
    p95 = p95_nearest_rank(values)
    assert p95 is not None
    assert (p95 > t) == (slow / n > 0.05) == (slow * 20 > n)
    # textbook nearest rank: the smallest value with at least 95 % of the values at or below it
    assert p95 == min(v for v in values if sum(x <= v for x in values) * 100 >= 95 * n)


def test_window_eviction_is_left_open() -> None:
    window = QosWindow(10.0, 1.0)
    window.add_submit(0.0)
    window.add_result(5.0, 10.0, 5.0, 2.0)
    window.add_submit(10.0)  # the event at t=0 sits exactly at now - window: gone
    assert list(window.submits) == [10.0]
    assert (window.requested, window.filled, window.accepts, window.slow) == (
        10_000_000,
        5_000_000,
        1,
        1,
    )
    window.evict(15.0)
    assert (window.requested, window.filled, window.accepts, window.slow) == (0, 0, 0, 0)
    assert window.fill_ratio() is None and window.p95_accept_s() is None


def test_out_of_order_time_and_bounded_memory() -> None:
    window = QosWindow(100.0, 1.0, max_events=5)
    window.add_submit(10.0)
    window.add_submit(9.0)  # a racing thread: kept, evicted once 10.0 leaves too
    window.add_submit(110.5)
    assert list(window.submits) == [110.5]
    for i in range(10):
        window.add_result(11.0 + i, 0.000001, 0.000001, 0.5)
    assert len(window.results) == 5 and window.saturated == 5
    assert window.requested == 5 and window.accepts == 5


def brute_verdict(
    submits: list[float], results: list[tuple[float, int, int, float | None]], now: float
) -> tuple[bool, bool]:
    """(fill low, p95 high) over (now - 10, now] with min_orders 3, ratio 0.9, threshold 1.0."""
    if sum(t > now - 10.0 for t in submits) < 3:
        return False, False
    live = [r for r in results if r[0] > now - 10.0]
    requested = sum(r[1] for r in live)
    filled = sum(r[2] for r in live)
    accepts = [r[3] for r in live if r[3] is not None]
    slow = sum(a > 1.0 for a in accepts)
    return requested > 0 and filled / requested < 0.9, slow / len(
        accepts
    ) > 0.05 if accepts else False


@given(
    st.lists(
        st.tuples(
            st.sampled_from([0.0, 0.0, 1.0, 2.5, 10.0, 11.0]),
            st.one_of(
                st.none(),
                st.tuples(
                    st.integers(1, 100).map(float),
                    st.sampled_from([0.0, 0.5, 0.95, 1.0]),
                    st.sampled_from([None, 0.5, 1.0, 1.5]),
                ),
            ),
        ),
        max_size=80,
    )
)
def test_on_change_fires_exactly_when_the_verdict_moves(
    stream: list[tuple[float, tuple[float, float, float | None] | None]],
) -> None:
    changes: list[tuple[bool, bool]] = []

    def on_change(w: QosWindow) -> None:
        verdict = w.breaches()
        assert verdict != (w.fill_active, w.p95_active)  # called only on a real change
        w.fill_active, w.p95_active = verdict
        changes.append(verdict)

    window = QosWindow(10.0, 1.0, min_orders=3, fill_ratio_min=0.9, on_change=on_change)
    submits: list[float] = []
    results: list[tuple[float, int, int, float | None]] = []
    expected: list[tuple[bool, bool]] = []
    now = 0.0
    for gap, result in stream:
        now += gap
        if result is None:
            window.add_submit(now)
            submits.append(now)
        else:
            stake, share, accept = result
            accepted = accept if share > 0 else None
            window.add_result(now, stake, stake * share, accepted)
            results.append((now, round(stake * MICRO), round(stake * share * MICRO), accepted))
        verdict = brute_verdict(submits, results, now)
        if verdict != (expected[-1] if expected else (False, False)):
            expected.append(verdict)
        assert window.breaches() == verdict
        assert window.results == [r for r in results if r[0] > now - 10.0]
    assert changes == expected
