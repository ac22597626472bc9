"""QosGuard: evaluates fill ratio and p95 accept time per venue on every event, asks to pause."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from arbqos.config.schema import ExecConfig
from arbqos.guard.window import DEFAULT_MAX_EVENTS, MICRO, QosWindow, new_mutex
from arbqos.metrics.definitions import VENUES
from arbqos.vocab import AlertName

logger = logging.getLogger(__name__)


class PauseSink(Protocol):
    """Where breaches go; must return at once (`PauseNotifier` queues to a thread)."""

    def request_pause(self, reason: str, detail: str) -> None:
        """Ask the orchestrator to pause trading for `reason`."""
        ...


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


class QosGuard:
    """The in-process fast path of auto-pause: exact window statistics, edge-triggered requests.

    Rules, per venue, over the events of the last `exec.qos_window_s` seconds, only while at
    least `exec.min_orders_in_window` legs were submitted in the window:

    - `ArbFillRatioLow`: filled / requested stake < `exec.fill_ratio_min`;
    - `ArbAcceptTimeP95High`: nearest-rank p95 accept time > `exec.p95_accept_time_ms_max`,
      evaluated as "more than 5 % of the accepts slower than the threshold" (equivalent, see
      `arbqos.guard.window`).

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
        self._window_s = float(exec_config.qos_window_s)
        self._threshold_ms = exec_config.p95_accept_time_ms_max
        self._fill_min = exec_config.fill_ratio_min
        self._min_orders = exec_config.min_orders_in_window
        self._lock = new_mutex()
        self._windows = {
            v: QosWindow(
                self._window_s,
                exec_config.p95_accept_time_ms_max / 1000,
                venue=v,
                min_orders=self._min_orders,
                fill_ratio_min=self._fill_min,
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
            if w.changed():
                self._transition(w)
            return self._stats(w)
        finally:
            lock.put(True)

    def stats(self, venue: str) -> WindowStats:
        """Return the statistics as of the venue's last event (or `evaluate`), changing nothing."""
        w = self.bind(venue)
        lock = self._lock
        lock.get()
        try:
            return self._stats(w)
        finally:
            lock.put(True)

    def _transition(self, w: QosWindow) -> None:
        """Send or re-arm after a rule's outcome changed (called holding the mutex)."""
        venue = w.venue
        fill_low, p95_high = w.breaches()
        if fill_low != w.fill_active:
            w.fill_active = fill_low
            if fill_low:
                self._trip(AlertName.FILL_RATIO_LOW, self._fill_detail(venue, w))
            else:
                logger.info(
                    "guard re-armed: %s %s", AlertName.FILL_RATIO_LOW, venue, extra={"venue": venue}
                )
        if p95_high != w.p95_active:
            w.p95_active = p95_high
            if p95_high:
                self._trip(AlertName.ACCEPT_P95_HIGH, self._p95_detail(venue, w))
            else:
                logger.info(
                    "guard re-armed: %s %s",
                    AlertName.ACCEPT_P95_HIGH,
                    venue,
                    extra={"venue": venue},
                )

    def _trip(self, reason: str, detail: str) -> None:
        self.requests_sent += 1
        logger.warning("guard breach %s: %s", reason, detail, extra={"reason": reason})
        self._sink.request_pause(reason, detail)

    def _fill_detail(self, venue: str, w: QosWindow) -> str:
        return (
            f"venue={venue} fill_ratio={w.filled / w.requested:.4f} < {self._fill_min} over "
            f"{self._window_s:g}s (n={len(w.submits)} submitted, {w.result_count()} results)"
        )

    def _p95_detail(self, venue: str, w: QosWindow) -> str:
        p95 = w.p95_accept_s() or 0.0
        return (
            f"venue={venue} p95_accept_time_ms={p95 * 1000:.0f} > {self._threshold_ms} over "
            f"{self._window_s:g}s (slow={w.slow}/{w.accepts} accepts, n={len(w.submits)} submitted)"
        )

    def _stats(self, w: QosWindow) -> WindowStats:
        fill_low, p95_high = w.breaches()
        return WindowStats(
            venue=w.venue,
            window_s=self._window_s,
            submitted=len(w.submits),
            results=w.result_count(),
            requested_usd=w.requested / MICRO,
            filled_usd=w.filled / MICRO,
            fill_ratio=w.fill_ratio(),
            accepts=w.accepts,
            slow_accepts=w.slow,
            p95_accept_s=w.p95_accept_s(),
            gate_open=len(w.submits) >= self._min_orders,
            fill_ratio_low=fill_low,
            accept_p95_high=p95_high,
        )
