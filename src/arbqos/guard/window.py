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
import threading
from collections import deque
from collections.abc import Callable

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


class QosWindow:
    """Events of one venue over the last `window_s` seconds, with running sums and counts.

    `add_submit` / `add_result` are the hot path: under `lock` they add the event, evict what
    left the window and, only when a rule's outcome differs from the armed state
    (`fill_active`, `p95_active`), call `on_change(self)`. Times are expected in order; an
    event a few microseconds out of order (threads racing to the lock) is only evicted that
    much late, never lost. Memory is bounded by eviction and, as a safety net, by `max_events`
    per deque (beyond it the oldest events are dropped and `saturated` counts them).
    """

    __slots__ = (
        "accepts",
        "fill_active",
        "fill_ratio_min",
        "filled",
        "lock",
        "max_events",
        "min_orders",
        "on_change",
        "p95_active",
        "requested",
        "results",
        "saturated",
        "slow",
        "submits",
        "threshold_s",
        "venue",
        "window_s",
    )

    def __init__(
        self,
        window_s: float,
        threshold_s: float,
        *,
        venue: str = "",
        min_orders: int = 1,
        fill_ratio_min: float = 1.0,
        max_events: int = DEFAULT_MAX_EVENTS,
        lock: threading.Lock | None = None,
        on_change: Callable[[QosWindow], None] | None = None,
    ) -> None:
        self.window_s = window_s
        self.threshold_s = threshold_s
        self.venue = venue
        self.min_orders = min_orders
        self.fill_ratio_min = fill_ratio_min
        self.max_events = max_events
        self.lock = lock or threading.Lock()
        self.on_change = on_change or _ignore
        self.submits: deque[float] = deque()
        self.results: deque[tuple[float, int, int, float | None]] = deque()
        self.requested = 0
        self.filled = 0
        self.accepts = 0
        self.slow = 0
        self.saturated = 0
        self.fill_active = False
        self.p95_active = False

    def add_submit(self, t: float) -> None:
        """Add a leg submitted at monotonic time `t`, evict, apply the rules."""
        lock = self.lock
        lock.acquire()  # explicit acquire/release: cheaper than `with` on the hot path
        try:
            submits = self.submits
            if len(submits) >= self.max_events:
                submits.popleft()
                self._saturate()
            gate_before = len(submits) >= self.min_orders
            submits.append(t)
            cutoff = t - self.window_s
            while submits[0] <= cutoff:  # the new event itself stays (window_s > 0)
                submits.popleft()
            results = self.results
            if results and results[0][0] <= cutoff:
                self._evict_results(cutoff)
                if self.changed():
                    self.on_change(self)
            elif (len(submits) >= self.min_orders) is not gate_before and self.changed():
                # only the gate moved; the sums did not
                self.on_change(self)
        finally:
            lock.release()

    def add_result(
        self, t: float, requested_usd: float, filled_usd: float, accept_s: float | None
    ) -> None:
        """Add a terminal result at `t` (accept None when nothing was accepted), evict, apply."""
        requested = round(requested_usd * 1_000_000)  # MICRO, as a constant on the hot path
        filled = requested if filled_usd == requested_usd else round(filled_usd * 1_000_000)
        lock = self.lock
        lock.acquire()
        try:
            results = self.results
            if len(results) >= self.max_events:
                self._pop_result()
                self._saturate()
            results.append((t, requested, filled, accept_s))
            requested += self.requested
            filled += self.filled
            accepts = self.accepts
            slow = self.slow
            threshold_s = self.threshold_s
            if accept_s is not None:
                accepts += 1
                if accept_s > threshold_s:
                    slow += 1
            cutoff = t - self.window_s
            while results[0][0] <= cutoff:  # inline eviction: amortised one per event
                _, old_requested, old_filled, old_accept = results.popleft()
                requested -= old_requested
                filled -= old_filled
                if old_accept is not None:
                    accepts -= 1
                    if old_accept > threshold_s:
                        slow -= 1
            self.requested = requested
            self.filled = filled
            self.accepts = accepts
            self.slow = slow
            submits = self.submits
            while submits and submits[0] <= cutoff:
                submits.popleft()
            # changed(), inlined
            if len(submits) < self.min_orders:
                if self.fill_active or self.p95_active:
                    self.on_change(self)
            elif (
                requested > 0 and filled / requested < self.fill_ratio_min
            ) is not self.fill_active or (accepts > 0 and slow * 20 > accepts) is not (
                self.p95_active
            ):
                self.on_change(self)
        finally:
            lock.release()

    def evict(self, now: float) -> None:
        """Drop the events with `t <= now - window_s` (callers hold `lock`)."""
        cutoff = now - self.window_s
        submits = self.submits
        while submits and submits[0] <= cutoff:
            submits.popleft()
        self._evict_results(cutoff)

    def breaches(self) -> tuple[bool, bool]:
        """(fill ratio low, p95 accept time high), both False below `min_orders` submitted."""
        if len(self.submits) < self.min_orders:
            return False, False
        requested = self.requested
        accepts = self.accepts
        return (
            requested > 0 and self.filled / requested < self.fill_ratio_min,
            accepts > 0 and self.slow * 20 > accepts,
        )

    def changed(self) -> bool:
        """True when `breaches()` differs from the armed state (`fill_active`, `p95_active`)."""
        if len(self.submits) < self.min_orders:
            return self.fill_active or self.p95_active
        requested = self.requested
        accepts = self.accepts
        fill_low = requested > 0 and self.filled / requested < self.fill_ratio_min
        p95_high = accepts > 0 and self.slow * 20 > accepts
        return fill_low is not self.fill_active or p95_high is not self.p95_active

    def fill_ratio(self) -> float | None:
        """Filled / requested stake of the results in the window; None without results."""
        return self.filled / self.requested if self.requested else None

    def accept_times(self) -> list[float]:
        """The accept times in the window, in arrival order."""
        return [a for _, _, _, a in self.results if a is not None]

    def p95_accept_s(self) -> float | None:
        """Exact nearest-rank p95 of the accept times in the window (O(n log n), on demand)."""
        return p95_nearest_rank(self.accept_times())

    def _evict_results(self, cutoff: float) -> None:
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
                "QoS window of %s holds more than %d events; dropping the oldest, so its "
                "statistics cover less than %s s (raise max_events or shorten exec.qos_window_s)",
                self.venue,
                self.max_events,
                self.window_s,
                extra={"venue": self.venue, "max_events": self.max_events},
            )
        self.saturated += 1


def _ignore(window: QosWindow) -> None:
    """Default `on_change`: nothing to do."""
