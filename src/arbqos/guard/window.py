"""Exact sliding-window QoS statistics of one venue, O(1) amortised per event.

Definitions (shared with the alert rules and the evidence computation):

- The window at time `now` holds the events with `now - window_s < t <= now`.
- Fill ratio = sum of filled stake / sum of requested stake over legs whose terminal result
  falls in the window. Stakes are kept in integer micro-USD (USDC and USDT have 6 decimals),
  so the running sums are exact and never drift.
- p95 accept time = nearest-rank 95th percentile of the accept times in the window: sort the
  n values ascending and take the one at rank ceil(0.95 n) (1-based).
- "p95 > T" holds exactly when more than 5 % of the accepts are slower than T: with k values
  above T, the rank-ceil(0.95 n) value exceeds T iff n - k < ceil(0.95 n) iff
  k > n - ceil(0.95 n) = floor(0.05 n) iff k > 0.05 n (k is an integer). That is the alert's
  `1 - bucket{le=T} / count > 0.05`, so the guard only needs the two counts n and k, kept
  incrementally; the p95 value itself is computed on demand (breach detail, stats).
"""

from __future__ import annotations

import logging
from collections import deque

logger = logging.getLogger(__name__)

MICRO = 1_000_000
DEFAULT_MAX_EVENTS = 250_000


def p95_nearest_rank(values: list[float]) -> float | None:
    """Nearest-rank 95th percentile (rank ceil(0.95 n), 1-based) of `values`; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = -(-95 * len(ordered) // 100)
    return ordered[rank - 1]


def to_micro(usd: float) -> int:
    """USD to integer micro-USD (the guard's exact stake unit)."""
    return round(usd * MICRO)


class QosWindow:
    """Events of one venue over the last `window_s` seconds, with running sums and counts.

    Times must not go backwards; an earlier time (threads racing to the lock) is clamped to the
    latest seen. Memory is bounded by eviction and, as a safety net, by `max_events` per deque
    (beyond it the oldest events are dropped and `saturated` counts them).
    """

    __slots__ = (
        "accepts",
        "fill_active",
        "filled",
        "last_t",
        "max_events",
        "p95_active",
        "requested",
        "results",
        "saturated",
        "slow",
        "submits",
        "threshold_s",
        "window_s",
    )

    def __init__(
        self, window_s: float, threshold_s: float, *, max_events: int = DEFAULT_MAX_EVENTS
    ) -> None:
        self.window_s = window_s
        self.threshold_s = threshold_s
        self.max_events = max_events
        self.submits: deque[float] = deque()
        self.results: deque[tuple[float, int, int, float | None]] = deque()
        self.requested = 0
        self.filled = 0
        self.accepts = 0
        self.slow = 0
        self.last_t = float("-inf")
        self.saturated = 0
        self.fill_active = False
        self.p95_active = False

    def add_submit(self, t: float) -> float:
        """Add a submitted leg at `t`, evict what left the window; return the (clamped) time."""
        if t < self.last_t:
            t = self.last_t
        self.last_t = t
        self.submits.append(t)
        if len(self.submits) > self.max_events:
            self.submits.popleft()
            self._saturate()
        self.evict(t)
        return t

    def add_result(
        self, t: float, requested_micro: int, filled_micro: int, accept_s: float | None
    ) -> float:
        """Add a terminal result at `t` (accept time None when nothing was accepted)."""
        if t < self.last_t:
            t = self.last_t
        self.last_t = t
        self.results.append((t, requested_micro, filled_micro, accept_s))
        self.requested += requested_micro
        self.filled += filled_micro
        if accept_s is not None:
            self.accepts += 1
            if accept_s > self.threshold_s:
                self.slow += 1
        if len(self.results) > self.max_events:
            self._pop_result()
            self._saturate()
        self.evict(t)
        return t

    def evict(self, now: float) -> None:
        """Drop the events with `t <= now - window_s`."""
        cutoff = now - self.window_s
        submits = self.submits
        while submits and submits[0] <= cutoff:
            submits.popleft()
        results = self.results
        while results and results[0][0] <= cutoff:
            self._pop_result()

    def _pop_result(self) -> None:
        _, requested, filled, accept_s = self.results.popleft()
        self.requested -= requested
        self.filled -= filled
        if accept_s is not None:
            self.accepts -= 1
            if accept_s > self.threshold_s:
                self.slow -= 1

    def _saturate(self) -> None:
        if not self.saturated:
            logger.warning(
                "QoS window holds more than %d events; dropping the oldest, so statistics now "
                "cover fewer than %s s (raise max_events or shorten exec.qos_window_s)",
                self.max_events,
                self.window_s,
                extra={"max_events": self.max_events},
            )
        self.saturated += 1

    def fill_ratio(self) -> float | None:
        """Filled / requested stake of the results in the window; None without results."""
        return self.filled / self.requested if self.requested else None

    def accept_times(self) -> list[float]:
        """The accept times in the window, in arrival order."""
        return [a for _, _, _, a in self.results if a is not None]

    def p95_accept_s(self) -> float | None:
        """Exact nearest-rank p95 of the accept times in the window (O(n log n), on demand)."""
        return p95_nearest_rank(self.accept_times())
