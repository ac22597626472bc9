"""Watch the watcher: notice when the always-firing ArbWatchdog stops arriving.

Prometheus evaluates `ArbWatchdog` (always firing) and Alertmanager re-sends it to the
orchestrator every `alerting.watchdog_repeat_s`. While it keeps arriving, rules are evaluated
and alerts are delivered. When it has been silent longer than the timeout, Prometheus or
Alertmanager is down and the backstop pause path is blind (the in-process guard and the
heartbeat still pause): `arb_alerting_pipeline_up` drops to 0 and exactly one notice says so;
the first arrival afterwards sets it back to 1 with one "back" notice.

Start-up grace: the moment the tracker starts counts as an arrival. Alertmanager re-sends
only every repeat interval, so right after an orchestrator restart nothing may arrive for a
while; the path is declared silent only if no ArbWatchdog arrives within `startup_grace_s`
(default: the timeout) of the start. Until the first real arrival `status()` says `starting`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from arbqos.clock import Clock, format_ts
from arbqos.notify.metrics import NotifyMetrics
from arbqos.notify.notice import Notice, NoticeKind
from arbqos.vocab import AlertName

PipelineState = Literal["starting", "up", "silent"]
SILENT_CONSEQUENCE = "the backstop pause path is blind; the guard and heartbeat still pause"


class WatchdogTracker:
    """Feed it every ArbWatchdog arrival; call `check()` on the periodic tick.

    >>> tracker = WatchdogTracker(timeout_s=180, clock=clock, metrics=metrics)
    >>> tracker.arrived()          # from the Alertmanager intake; None or a "back" notice
    >>> tracker.check()            # every tick; None or one "silent" notice per silence

    Both return the notice to submit (the tracker never sends anything itself).
    """

    def __init__(
        self,
        *,
        timeout_s: float,
        clock: Clock,
        metrics: NotifyMetrics | None = None,
        startup_grace_s: float | None = None,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(f"watchdog timeout_s must be > 0, got {timeout_s}")
        self.timeout_s = timeout_s
        self._grace = timeout_s if startup_grace_s is None else startup_grace_s
        self._clock = clock
        self._metrics = metrics
        self._started_mono = clock.monotonic()
        self._started_at = clock.now_utc()
        self._last_mono: float | None = None
        self._last_at: datetime | None = None
        self._silent_since: datetime | None = None
        self._state: PipelineState = "starting"
        self._set_gauge(1)

    @property
    def state(self) -> PipelineState:
        """`starting` (no arrival yet, within the grace), `up` or `silent`."""
        return self._state

    @property
    def up(self) -> bool:
        """False only while the alert path is known to be silent."""
        return self._state != "silent"

    def arrived(self) -> Notice | None:
        """Record one ArbWatchdog arrival now; return the "back" notice if it was silent."""
        now_mono, now_at = self._clock.monotonic(), self._clock.now_utc()
        was_silent, silent_since = self._state == "silent", self._silent_since
        self._last_mono, self._last_at = now_mono, now_at
        self._state, self._silent_since = "up", None
        self._set_gauge(1)
        if not was_silent:
            return None
        return Notice(
            kind=NoticeKind.ALERT_PATH_BACK,
            subject=AlertName.WATCHDOG,
            summary="Prometheus/Alertmanager deliver again; the backstop pause path works",
            since=silent_since,
            ended=now_at,
            detail="ArbWatchdog arrived again. Alerts raised during the silence arrive now "
            "if they still fire; check the dashboard for what happened meanwhile.",
        )

    def check(self) -> Notice | None:
        """Declare the path silent once it is past the timeout; return that notice once."""
        if self._state == "silent":
            return None
        if self._last_mono is None:
            quiet, limit = self._clock.monotonic() - self._started_mono, self._grace
        else:
            quiet, limit = self._clock.monotonic() - self._last_mono, self.timeout_s
        if quiet <= limit:
            return None
        self._state = "silent"
        self._silent_since = self._last_at or self._started_at
        self._set_gauge(0)
        heard = (
            f"last ArbWatchdog at {format_ts(self._last_at)}"
            if self._last_at
            else f"no ArbWatchdog since this orchestrator started at {format_ts(self._started_at)}"
        )
        return Notice(
            kind=NoticeKind.ALERT_PATH_SILENT,
            subject=AlertName.WATCHDOG,
            summary=f"Prometheus/Alertmanager silent since {format_ts(self._silent_since)}: "
            f"{SILENT_CONSEQUENCE}",
            since=self._silent_since,
            detail=f"{heard}, timeout {self.timeout_s:g} s. Alerts (low balance, stake cap, "
            "config drift) reach nobody until it is back. Check: systemctl status prometheus "
            "prometheus-alertmanager",
        )

    def status(self) -> dict[str, Any]:
        """The alert pipeline block of `GET /v1/status`."""
        return {
            "state": self._state,
            "up": self.up,
            "last_watchdog_at": format_ts(self._last_at) if self._last_at else None,
            "silent_since": format_ts(self._silent_since) if self._silent_since else None,
            "timeout_s": self.timeout_s,
        }

    def _set_gauge(self, value: int) -> None:
        if self._metrics is not None:
            self._metrics.pipeline_up.set(value)
