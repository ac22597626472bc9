"""Exact sliding-window QoS statistics of one venue, judged by its rules on every event.

The window, the gate and the rules are defined once, in `arbqos.guard.rules`: the window at
`now` holds the events with `now - window_s < t <= now`; stakes are summed in integer
micro-USD; "p95 > T" is kept as one integer, `excess` = 20 x slow accepts - accepts > 0.
Each event costs O(1) amortised: deque appends, the evictions it causes, one verdict.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from queue import SimpleQueue

from arbqos.guard.rules import MICRO, RULES, QosRules, Verdict, p95_nearest_rank
from arbqos.vocab import AlertName

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_MAX_EVENTS", "MICRO", "Mutex", "QosWindow", "WindowStats", "new_mutex"]

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


@dataclass(frozen=True)
class WindowStats:
    """The guard's view of one venue's window at one moment."""

    venue: str
    window_s: float
    submitted: int
    results: int
    requested_usd: float
    filled_usd: float
    fill_ratio: float | None
    accepts: int
    slow_accepts: int
    p95_accept_s: float | None
    gate_open: bool
    """At least `min_orders_in_window` legs were submitted in the window."""
    fill_ratio_low: bool
    accept_p95_high: bool


class QosWindow:
    """Events of one venue over the last `window_s` seconds, with running sums and counts.

    `add_submit` / `add_result` are the hot path: holding `lock` (a `Mutex`, shared by the
    windows of one guard) they add the event, `evict` what left the window and, when the
    verdict of `rules` differs from the armed state (`fill_active`, `p95_active`), call
    `on_change(self)`, which must arm the new verdict (`QosGuard` does). Times are expected in
    order; an event a few microseconds out of order (threads racing to the mutex) is only
    evicted that much late, never lost. Memory is bounded by eviction and, as a safety net,
    by `max_events` per kind of event (beyond it the oldest events are dropped and
    `saturated` counts them).

    A result is one entry in each of four parallel deques (time, requested and filled
    micro-USD, accept seconds) rather than a tuple: a window holds thousands of results, and a
    tuple kept alive per result made every event measurably slower.
    """

    __slots__ = (
        "_accept",
        "_filled",
        "_requested",
        "excess",
        "fill_active",
        "filled",
        "lock",
        "max_events",
        "on_change",
        "p95_active",
        "requested",
        "result_times",
        "rules",
        "saturated",
        "submits",
        "venue",
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
        self.rules = QosRules(
            window_s=window_s,
            threshold_s=threshold_s,
            min_orders=min_orders,
            fill_ratio_min=fill_ratio_min,
        )
        self.venue = venue
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
        """20 x slow accepts - accepts (sum of `rules.slow_weight`): > 0 iff p95 > T."""
        self.saturated = 0
        self.fill_active = False
        self.p95_active = False

    def add_submit(self, t: float) -> None:
        """Add a leg submitted at monotonic time `t`, then `evict` to `t`."""
        lock = self.lock
        lock.get()  # take the mutex (try/finally rather than a `with` block: cheaper)
        try:
            self.submits.append(t)
            self.evict(t)
        finally:
            lock.put(True)

    def add_result(
        self, t: float, requested_usd: float, filled_usd: float, accept_s: float | None
    ) -> None:
        """Add a terminal result at `t` (accept None when nothing was accepted), `evict` to `t`."""
        # in micro-USD; round() spelt as the float method: same value, a third of the call cost
        requested = (requested_usd * MICRO).__round__()
        filled = requested if filled_usd == requested_usd else (filled_usd * MICRO).__round__()
        lock = self.lock
        lock.get()
        try:
            self.result_times.append(t)
            self._requested.append(requested)
            self._filled.append(filled)
            self._accept.append(accept_s)
            self.requested += requested
            self.filled += filled
            self.excess += self.rules.slow_weight(accept_s)
            self.evict(t)
        finally:
            lock.put(True)

    def evict(self, now: float) -> None:
        """Drop the events at `t <= now - window_s` (and beyond `max_events`), apply the rules.

        Callers hold `lock`. When the verdict then differs from the armed state, `on_change`
        is called; it must arm the new verdict, so that the next event compares against it.
        """
        cutoff = now - self.rules.window_s
        submits = self.submits
        while submits and submits[0] <= cutoff:
            submits.popleft()
        times = self.result_times
        while times and times[0] <= cutoff:
            self._drop_oldest_result()
        while len(submits) > self.max_events:  # safety net: keep memory bounded, count it
            submits.popleft()
            self._saturate()
        while len(times) > self.max_events:
            self._drop_oldest_result()
            self._saturate()
        if self.breaches() != (self.fill_active, self.p95_active):
            self.on_change(self)

    def breaches(self) -> Verdict:
        """(fill ratio low, p95 accept time high) now, both False below `min_orders` submitted."""
        return self.rules.verdict(len(self.submits), self.requested, self.filled, self.excess)

    def detail(self, rule: AlertName) -> str:
        """Why `rule` holds now (its statistic against its threshold), for a pause request."""
        rules, submitted = self.rules, len(self.submits)
        if rule is AlertName.FILL_RATIO_LOW:
            return rules.fill_detail(
                self.venue,
                requested=self.requested,
                filled=self.filled,
                submitted=submitted,
                results=len(self.result_times),
            )
        if rule is AlertName.ACCEPT_P95_HIGH:
            return rules.p95_detail(
                self.venue,
                p95_s=self.p95_accept_s() or 0.0,
                slow=self.slow,
                accepts=self.accepts,
                submitted=submitted,
            )
        raise ValueError(f"{rule} is not a rule of the QoS guard; use one of {RULES}")

    def stats(self) -> WindowStats:
        """The window's statistics and verdict, as of its last event or `evict`."""
        fill_low, p95_high = self.breaches()
        submitted = len(self.submits)
        return WindowStats(
            venue=self.venue,
            window_s=self.rules.window_s,
            submitted=submitted,
            results=len(self.result_times),
            requested_usd=self.requested / MICRO,
            filled_usd=self.filled / MICRO,
            fill_ratio=self.fill_ratio(),
            accepts=self.accepts,
            slow_accepts=self.slow,
            p95_accept_s=self.p95_accept_s(),
            gate_open=self.rules.gate_open(submitted),
            fill_ratio_low=fill_low,
            accept_p95_high=p95_high,
        )

    def fill_ratio(self) -> float | None:
        """Filled / requested stake of the results in the window; None without results."""
        return self.filled / self.requested if self.requested else None

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
        """Accepts in the window slower than the threshold (`excess` = 20 x slow - accepts)."""
        return (self.excess + self.accepts) // 20

    def accept_times(self) -> list[float]:
        """The accept times in the window, in arrival order."""
        return [a for a in self._accept if a is not None]

    def p95_accept_s(self) -> float | None:
        """Exact nearest-rank p95 of the accept times in the window (O(n log n), on demand)."""
        return p95_nearest_rank(self.accept_times())

    def _drop_oldest_result(self) -> None:
        """Remove the oldest result from the deques and the sums: `add_result` undone."""
        self.result_times.popleft()
        self.requested -= self._requested.popleft()
        self.filled -= self._filled.popleft()
        self.excess -= self.rules.slow_weight(self._accept.popleft())

    def _saturate(self) -> None:
        if not self.saturated:
            logger.warning(
                "QoS window of %s holds more than %d events; dropping the oldest, so its "
                "statistics cover less than %s s (raise max_events or shorten exec.qos_window_s)",
                self.venue,
                self.max_events,
                self.rules.window_s,
                extra={"venue": self.venue, "max_events": self.max_events},
            )
        self.saturated += 1


def _ignore(window: QosWindow) -> None:
    """Default `on_change`: nothing to do."""
