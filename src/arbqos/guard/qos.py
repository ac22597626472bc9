"""QosGuard: evaluates fill ratio and p95 accept time per venue on every event, asks to pause."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from arbqos.config.schema import ExecConfig
from arbqos.guard.rules import RULES
from arbqos.guard.window import DEFAULT_MAX_EVENTS, QosWindow, WindowStats, new_mutex
from arbqos.metrics.definitions import VENUES

logger = logging.getLogger(__name__)

__all__ = ["PauseSink", "QosGuard", "WindowStats"]


class PauseSink(Protocol):
    """Where breaches go; must return at once (`PauseNotifier` queues to a thread)."""

    def request_pause(self, reason: str, detail: str) -> None:
        """Ask the orchestrator to pause trading for `reason`."""
        ...


class QosGuard:
    """The in-process fast path of auto-pause: exact window statistics, edge-triggered requests.

    Rules (stated once, in `arbqos.guard.rules`), per venue, over the events of the last
    `exec.qos_window_s` seconds, only while at least `exec.min_orders_in_window` legs were
    submitted in the window:

    - `ArbFillRatioLow`: filled / requested stake < `exec.fill_ratio_min`;
    - `ArbAcceptTimeP95High`: nearest-rank p95 accept time > `exec.p95_accept_time_ms_max`,
      evaluated as "more than 5 % of the accepts slower than the threshold" (equivalent, see
      `arbqos.guard.rules`).

    A rule sends one pause request when it becomes true and re-arms once it evaluates false
    (statistic recovered, or too few orders), so a persisting breach never spams. Each event
    costs O(1) amortised: deque append, evictions, a few integer comparisons.

    Versus the Prometheus alert on the same thresholds: the rule is the same inequality, but
    the guard counts exact events by their own times in `(now - window, now]`, while
    Prometheus sees counters sampled every scrape and `increase()` extrapolates to the range,
    so near the threshold the two can disagree for up to a scrape plus an evaluation interval.
    Time passing alone (no event) is only seen at the next event or an `evaluate()` call.

    >>> guard = QosGuard(config.exec, PauseNotifier(config.endpoints.orchestrator_url, token=t))
    >>> tracker = ExecutionTracker(registry, config, guard=guard)   # binds one window per venue
    >>> guard.stats("sx").fill_ratio
    0.97
    """

    def __init__(
        self,
        exec_config: ExecConfig,
        sink: PauseSink,
        *,
        venues: Iterable[str] = VENUES,
        max_events: int = DEFAULT_MAX_EVENTS,
    ) -> None:
        self._sink = sink
        self._lock = new_mutex()
        self._windows = {
            v: QosWindow(
                float(exec_config.qos_window_s),
                exec_config.p95_accept_time_ms_max / 1000,
                venue=v,
                min_orders=exec_config.min_orders_in_window,
                fill_ratio_min=exec_config.fill_ratio_min,
                max_events=max_events,
                lock=self._lock,
                on_change=self._transition,
            )
            for v in venues
        }
        self.requests_sent = 0

    def bind(self, venue: str) -> QosWindow:
        """The window of `venue`: its `add_submit` / `add_result` are the per-event hot path."""
        try:
            return self._windows[venue]
        except KeyError:
            raise ValueError(
                f"unknown venue {venue!r}; use one of {tuple(self._windows)}"
            ) from None

    def on_submit(self, venue: str, t: float) -> None:
        """A leg was submitted to `venue` at monotonic time `t`."""
        self.bind(venue).add_submit(t)

    def on_result(
        self,
        venue: str,
        t: float,
        requested_usd: float,
        filled_usd: float,
        accept_s: float | None,
    ) -> None:
        """A leg got its terminal result at `t`; `accept_s` is None unless stake was accepted."""
        self.bind(venue).add_result(t, requested_usd, filled_usd, accept_s)

    def evaluate(self, venue: str, now: float) -> WindowStats:
        """Evict to `now`, apply the rules (may request a pause) and return the statistics."""
        w = self.bind(venue)
        lock = self._lock
        lock.get()
        try:
            w.evict(now)
            return w.stats()
        finally:
            lock.put(True)

    def advance(self, now: float) -> None:
        """Evict every venue's window to `now` and apply the rules (may request a pause).

        Time passing alone can breach (good results leaving the window); call this on a
        timer so such a breach stops trading before the next leg, not at it. Computes no
        statistics, so the trading thread waits on the mutex only for the evictions.
        """
        lock = self._lock
        lock.get()
        try:
            for w in self._windows.values():
                w.evict(now)
        finally:
            lock.put(True)

    def stats(self, venue: str) -> WindowStats:
        """Return the statistics as of the venue's last event (or `evaluate`), changing nothing."""
        w = self.bind(venue)
        lock = self._lock
        lock.get()
        try:
            return w.stats()
        finally:
            lock.put(True)

    def _transition(self, w: QosWindow) -> None:
        """Trip the rules that started to hold, re-arm those that stopped (holding the mutex)."""
        armed = (w.fill_active, w.p95_active)
        verdict = w.breaches()
        w.fill_active, w.p95_active = verdict
        for rule, holds, was_armed in zip(RULES, verdict, armed, strict=True):
            if holds and not was_armed:
                self._trip(rule, w.detail(rule))
            elif was_armed and not holds:
                logger.info("guard re-armed: %s %s", rule, w.venue, extra={"venue": w.venue})

    def _trip(self, reason: str, detail: str) -> None:
        self.requests_sent += 1
        self._sink.request_pause(reason, detail)  # first: the pause before the log's I/O
        logger.warning("guard breach %s: %s", reason, detail, extra={"reason": reason})
