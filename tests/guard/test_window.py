"""Nearest-rank p95 and the equivalence "p95 > T" <=> "more than 5 % of accepts above T"."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from arbqos.guard import QosWindow, p95_nearest_rank


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
