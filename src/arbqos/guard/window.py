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
  k > n - ceil(0.95 n) = floor(0.05 n) iff k > 0.05 n iff 20 k - n > 0 (k is an integer).
  That is the alert's `1 - bucket{le=T} / count > 0.05`, so the guard keeps one integer,
  `excess` = 20 k - n, incrementally (+19 per slow accept, -1 per other accept); n, k and
  the p95 value itself are computed on demand (breach detail, stats).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from queue import SimpleQueue

logger = logging.getLogger(__name__)

MICRO = 1_000_000
DEFAULT_MAX_EVENTS = 250_000

Mutex = SimpleQueue[bool]
"""A mutex as a one-token queue: `get()` takes the token, `put(True)` gives it back."""


def new_mutex() -> Mutex:
    """A free mutex for the guard's windows (see `Mutex`).

    `get()` blocks while another thread holds the token, exactly like `Lock.acquire()`, and
    `put(True)` wakes one waiter, like `release()`; always pair them with try/finally. On
    CPython 3.11 both are fast-call C methods, whereas `Lock.acquire()` parses its optional
    arguments on every call: the pair costs about 100 ns instead of 180 ns, and the guard
    takes it on every order event.
    """
    mutex: Mutex = SimpleQueue()
    mutex.put(True)
    return mutex


def p95_nearest_rank(values: list[float]) -> float | None:
    """Nearest-rank 95th percentile (rank ceil(0.95 n), 1-based) of `values`; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = -(-95 * len(ordered) // 100)
    return ordered[rank - 1]


class QosWindow:
    """Events of one venue over the last `window_s` seconds, with running sums and counts.

    `add_submit` / `add_result` are the hot path: holding `lock` (a `Mutex`, shared by the
    windows of one guard) they add the event, evict what left the window and, when the
    verdict may have moved and differs from the armed state (`fill_active`, `p95_active`),
    call `on_change(self)`. Times are expected in order; an event a few microseconds out of
    order (threads racing to the mutex) is only evicted that much late, never lost. Memory is
    bounded by eviction and, as a safety net, by `max_events` per kind of event (beyond it
    the oldest events are dropped and `saturated` counts them).

    A result is one entry in each of four parallel deques (time, requested and filled
    micro-USD, accept seconds) rather than a tuple: a window holds thousands of results, and a
    tuple kept alive per result made every event measurably slower. A rule can only change
    when the sums or the gate move, so an event that moves neither (a submit that evicts no
    result and leaves the gate where it was) proves the verdict unchanged without
    recomputing it; `on_change` must set `fill_active` / `p95_active` to the new verdict
    (`QosGuard` does), since that is the state the next events compare against.
    """

    __slots__ = (
        "_accept",
        "_filled",
        "_requested",
        "excess",
        "fill_active",
        "fill_ratio_min",
        "filled",
        "lock",
        "max_events",
        "min_orders",
        "on_change",
        "p95_active",
        "requested",
        "result_times",
        "saturated",
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
        lock: Mutex | None = None,
        on_change: Callable[[QosWindow], None] | None = None,
    ) -> None:
        self.window_s = window_s
        self.threshold_s = threshold_s
        self.venue = venue
        self.min_orders = min_orders
        self.fill_ratio_min = fill_ratio_min
        self.max_events = max_events
        self.lock = lock if lock is not None else new_mutex()
        self.on_change = on_change or _ignore
        self.submits: deque[float] = deque()
        self.result_times: deque[float] = deque()
        self._requested: deque[int] = deque()
        self._filled: deque[int] = deque()
        self._accept: deque[float | None] = deque()
        self.requested = 0
        self.filled = 0
        self.excess = 0
        """20 x slow accepts - accepts in the window: > 0 exactly when more than 5 % are slow."""
        self.saturated = 0
        self.fill_active = False
        self.p95_active = False

    def add_submit(self, t: float) -> None:
        """Add a leg submitted at monotonic time `t`, evict, apply the rules."""
        lock = self.lock
        lock.get()  # take the mutex (try/finally rather than a `with` block: cheaper)
        try:
            submits = self.submits
            submits.append(t)
            cutoff = t - self.window_s
            if submits[0] <= cutoff:
                submits.popleft()
                while submits[0] <= cutoff:  # the new event itself stays (window_s > 0)
                    submits.popleft()
                gate_may_move = len(submits) < self.min_orders  # it may have closed
            else:
                count = len(submits)
                gate_may_move = count == self.min_orders  # it may have opened
                if count > self.max_events:  # nothing left: safety net, drop the oldest
                    submits.popleft()
                    self._saturate()
            times = self.result_times
            if times and times[0] <= cutoff:
                # results trail submits, so they are mostly evicted here (inline, as in
                # add_result); the sums moved: apply both rules
                requested = self.requested
                filled = self.filled
                excess = self.excess
                threshold_s = self.threshold_s
                requested_q = self._requested
                filled_q = self._filled
                accept_q = self._accept
                while times and times[0] <= cutoff:
                    times.popleft()
                    requested -= requested_q.popleft()
                    filled -= filled_q.popleft()
                    old_accept = accept_q.popleft()
                    if old_accept is not None:
                        excess -= 19 if old_accept > threshold_s else -1
                self.requested = requested
                self.filled = filled
                self.excess = excess
            elif gate_may_move:
                requested = self.requested
                filled = self.filled
                excess = self.excess
            else:
                return  # neither the sums nor the gate moved: the verdict stands
            if self.fill_active or self.p95_active:  # a breach is armed: full comparison
                if self.changed():
                    self.on_change(self)
            elif (
                excess > 0 or (requested > 0 and filled / requested < self.fill_ratio_min)
            ) and len(submits) >= self.min_orders:  # nothing armed: a rule holds, gate open
                self.on_change(self)
        finally:
            lock.put(True)

    def add_result(
        self, t: float, requested_usd: float, filled_usd: float, accept_s: float | None
    ) -> None:
        """Add a terminal result at `t` (accept None when nothing was accepted), evict, apply."""
        # round(x * MICRO), spelt as the float method: same value, a third of the call cost
        requested = (requested_usd * 1e6).__round__()
        filled = requested if filled_usd == requested_usd else (filled_usd * 1e6).__round__()
        lock = self.lock
        lock.get()
        try:
            times = self.result_times
            times.append(t)
            requested_q = self._requested
            requested_q.append(requested)
            filled_q = self._filled
            filled_q.append(filled)
            accept_q = self._accept
            accept_q.append(accept_s)
            requested += self.requested
            filled += self.filled
            excess = self.excess
            threshold_s = self.threshold_s
            if accept_s is not None:
                excess += 19 if accept_s > threshold_s else -1
            cutoff = t - self.window_s
            if times[0] <= cutoff:
                while times[0] <= cutoff:  # stops at the new event at the latest
                    times.popleft()
                    requested -= requested_q.popleft()
                    filled -= filled_q.popleft()
                    old_accept = accept_q.popleft()
                    if old_accept is not None:
                        excess -= 19 if old_accept > threshold_s else -1
            elif len(times) > self.max_events:  # nothing left: safety net, drop the oldest
                self.requested, self.filled, self.excess = requested, filled, excess
                self._drop_oldest_result()
                self._saturate()
                requested, filled, excess = self.requested, self.filled, self.excess
            self.requested = requested
            self.filled = filled
            self.excess = excess
            submits = self.submits
            while submits and submits[0] <= cutoff:
                submits.popleft()
            # same verdict check as in add_submit, kept inline: a shared method costs a call
            if self.fill_active or self.p95_active:  # a breach is armed: full comparison
                if self.changed():
                    self.on_change(self)
            elif (
                excess > 0 or (requested > 0 and filled / requested < self.fill_ratio_min)
            ) and len(submits) >= self.min_orders:  # nothing armed: a rule holds, gate open
                self.on_change(self)
        finally:
            lock.put(True)

    def evict(self, now: float) -> None:
        """Drop the events with `t <= now - window_s` (callers hold `lock`)."""
        cutoff = now - self.window_s
        submits = self.submits
        while submits and submits[0] <= cutoff:
            submits.popleft()
        times = self.result_times
        while times and times[0] <= cutoff:
            self._drop_oldest_result()

    def breaches(self) -> tuple[bool, bool]:
        """(fill ratio low, p95 accept time high), both False below `min_orders` submitted."""
        if len(self.submits) < self.min_orders:
            return False, False
        requested = self.requested
        return requested > 0 and self.filled / requested < self.fill_ratio_min, self.excess > 0

    def changed(self) -> bool:
        """True when `breaches()` differs from the armed state (`fill_active`, `p95_active`)."""
        fill_low, p95_high = self.breaches()
        return fill_low is not self.fill_active or p95_high is not self.p95_active

    def fill_ratio(self) -> float | None:
        """Filled / requested stake of the results in the window; None without results."""
        return self.filled / self.requested if self.requested else None

    def result_count(self) -> int:
        """Number of results in the window."""
        return len(self.result_times)

    @property
    def results(self) -> list[tuple[float, int, int, float | None]]:
        """The results in the window, oldest first: (t, requested, filled micro-USD, accept_s)."""
        return list(
            zip(self.result_times, self._requested, self._filled, self._accept, strict=True)
        )

    @property
    def accepts(self) -> int:
        """Number of results in the window that accepted stake (counted on demand)."""
        return len(self._accept) - self._accept.count(None)

    @property
    def slow(self) -> int:
        """Accepts in the window slower than `threshold_s` (counted on demand)."""
        threshold_s = self.threshold_s
        return sum(1 for a in self._accept if a is not None and a > threshold_s)

    def accept_times(self) -> list[float]:
        """The accept times in the window, in arrival order."""
        return [a for a in self._accept if a is not None]

    def p95_accept_s(self) -> float | None:
        """Exact nearest-rank p95 of the accept times in the window (O(n log n), on demand)."""
        return p95_nearest_rank(self.accept_times())

    def _drop_oldest_result(self) -> None:
        self.result_times.popleft()
        self.requested -= self._requested.popleft()
        self.filled -= self._filled.popleft()
        accept_s = self._accept.popleft()
        if accept_s is not None:
            self.excess -= 19 if accept_s > self.threshold_s else -1

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
