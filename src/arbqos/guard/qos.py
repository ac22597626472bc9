"""QosGuard: evaluates fill ratio and p95 accept time per venue on every event, asks to pause."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from arbqos.config.schema import ExecConfig
from arbqos.guard.window import DEFAULT_MAX_EVENTS, MICRO, QosWindow
from arbqos.metrics.definitions import VENUES

logger = logging.getLogger(__name__)

FILL_RATIO_LOW = "ArbFillRatioLow"
ACCEPT_P95_HIGH = "ArbAcceptTimeP95High"


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

    >>> guard = QosGuard(config.exec, PauseNotifier(config.endpoints.orchestrator_url, token=t))
    >>> tracker = ExecutionTracker(registry, config, guard=guard)
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
        self._threshold_s = exec_config.p95_accept_time_ms_max / 1000
        self._threshold_ms = exec_config.p95_accept_time_ms_max
        self._fill_min = exec_config.fill_ratio_min
        self._min_orders = exec_config.min_orders_in_window
        self._windows = {
            v: QosWindow(self._window_s, self._threshold_s, max_events=max_events) for v in venues
        }
        self._lock = threading.Lock()
        self.requests_sent = 0

    def on_submit(self, venue: str, t: float) -> None:
        """A leg was submitted to `venue` at monotonic time `t`."""
        with self._lock:
            window = self._window(venue)
            self._evaluate(venue, window, window.add_submit(t))

    def on_result(
        self,
        venue: str,
        t: float,
        requested_usd: float,
        filled_usd: float,
        accept_s: float | None,
    ) -> None:
        """A leg got its terminal result at `t`; `accept_s` is None unless stake was accepted."""
        requested = round(requested_usd * MICRO)
        filled = round(filled_usd * MICRO)
        with self._lock:
            window = self._window(venue)
            self._evaluate(venue, window, window.add_result(t, requested, filled, accept_s))

    def evaluate(self, venue: str, now: float) -> WindowStats:
        """Evict to `now`, apply the rules (may request a pause) and return the statistics."""
        with self._lock:
            window = self._window(venue)
            window.evict(now)
            self._evaluate(venue, window, now)
            return self._stats(venue, window)

    def stats(self, venue: str, now: float | None = None) -> WindowStats:
        """Return the statistics (evicted to `now` if given) without changing the rule state."""
        with self._lock:
            window = self._window(venue)
            if now is not None:
                window.evict(now)
            return self._stats(venue, window)

    def _window(self, venue: str) -> QosWindow:
        try:
            return self._windows[venue]
        except KeyError:
            raise ValueError(
                f"unknown venue {venue!r}; use one of {tuple(self._windows)}"
            ) from None

    def _evaluate(self, venue: str, w: QosWindow, now: float) -> None:
        gate = len(w.submits) >= self._min_orders
        fill_low = gate and w.requested > 0 and w.filled / w.requested < self._fill_min
        if fill_low != w.fill_active:
            w.fill_active = fill_low
            if fill_low:
                self._trip(FILL_RATIO_LOW, self._fill_detail(venue, w))
            else:
                logger.info("guard re-armed: %s %s", FILL_RATIO_LOW, venue, extra={"venue": venue})
        p95_high = gate and w.accepts > 0 and w.slow * 20 > w.accepts
        if p95_high != w.p95_active:
            w.p95_active = p95_high
            if p95_high:
                self._trip(ACCEPT_P95_HIGH, self._p95_detail(venue, w))
            else:
                logger.info("guard re-armed: %s %s", ACCEPT_P95_HIGH, venue, extra={"venue": venue})

    def _trip(self, reason: str, detail: str) -> None:
        self.requests_sent += 1
        logger.warning("guard breach %s: %s", reason, detail, extra={"reason": reason})
        self._sink.request_pause(reason, detail)

    def _fill_detail(self, venue: str, w: QosWindow) -> str:
        return (
            f"venue={venue} fill_ratio={w.filled / w.requested:.4f} < {self._fill_min} over "
            f"{self._window_s:g}s (n={len(w.submits)} submitted, {len(w.results)} results)"
        )

    def _p95_detail(self, venue: str, w: QosWindow) -> str:
        p95 = w.p95_accept_s() or 0.0
        return (
            f"venue={venue} p95_accept_time_ms={p95 * 1000:.0f} > {self._threshold_ms} over "
            f"{self._window_s:g}s (slow={w.slow}/{w.accepts} accepts, n={len(w.submits)} submitted)"
        )

    def _stats(self, venue: str, w: QosWindow) -> WindowStats:
        gate = len(w.submits) >= self._min_orders
        ratio = w.fill_ratio()
        return WindowStats(
            venue=venue,
            window_s=self._window_s,
            submitted=len(w.submits),
            results=len(w.results),
            requested_usd=w.requested / MICRO,
            filled_usd=w.filled / MICRO,
            fill_ratio=ratio,
            accepts=w.accepts,
            slow_accepts=w.slow,
            p95_accept_s=w.p95_accept_s(),
            gate_open=gate,
            fill_ratio_low=gate and ratio is not None and ratio < self._fill_min,
            accept_p95_high=gate and w.accepts > 0 and w.slow * 20 > w.accepts,
        )
