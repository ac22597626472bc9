"""The orchestrator tells a person: its own transitions, every alert, and a silent alert path.

- Transitions are announced by the orchestrator itself, with no Prometheus or Alertmanager in
  the path, once each: paused (with every reason), reason added while paused, resumed by an
  admin, resumed automatically (with the reasons cleared). Each says how trading resumes.
- Every alert Alertmanager delivers is announced once per state (firing, then resolved),
  except those whose pause the transition notice already announced, and ArbWatchdog, which
  only feeds the watchdog: when it stops arriving for `watchdog_timeout_s`, the alert path is
  down (`arb_alerting_pipeline_up` 0, `GET /v1/status` `alerting`), one notice says so, and
  with `orchestrator.pause_on_pipeline_down` trading pauses (`system:AlertPipelineDown`, an
  infrastructure reason that lifts itself once the watchdog is back).

Delivery is the notifier's job (background threads, retries); nothing here waits on it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import replace
from datetime import datetime
from typing import Any

from arbqos.clock import format_ts
from arbqos.notify import (
    Notice,
    Notifier,
    WatchdogTracker,
    alert_notice,
    paused_notice,
    reason_line,
    resumed_notice,
)
from arbqos.services.control import AUTO_RESUME, PauseControl, Unit
from arbqos.services.policy import reason_class
from arbqos.services.state import SYSTEM, State
from arbqos.vocab import AlertName, PauseSource, ReasonClass, SystemReason
from arbqos.wire import AmAlert

logger = logging.getLogger(__name__)

PIPELINE_DOWN = (PauseSource.SYSTEM, SystemReason.ALERT_PIPELINE_DOWN)
SEEN_MAX = 10_000
"""Alert states remembered to announce each once (oldest forgotten first)."""


class Announcer:
    """Builds notices from what the orchestrator sees and hands them to the notifier."""

    def __init__(
        self,
        control: PauseControl,
        watchdog: WatchdogTracker,
        *,
        notifier: Notifier | None,
        resume_url: str,
        pause_on_pipeline_down: bool = False,
    ) -> None:
        self._control = control
        self.watchdog = watchdog
        self.notifier = notifier
        self._resume_url = resume_url
        self._pause_on_pipeline_down = pause_on_pipeline_down
        self._seen: OrderedDict[str, None] = OrderedDict()
        control.listeners.append(self.transition)

    def transition(self, unit: Unit, before: State, after: State, paused_since: datetime) -> None:
        """Announce a state change, or reasons added while paused (a `PauseControl` listener)."""
        if after is State.PAUSED and before is State.RUNNING:
            cause = unit.activated[0] if unit.activated else None
            name = f"{cause.source}:{cause.name}" if cause else "paused"
            self._send(
                paused_notice(name, self._reason_lines(), since=unit.now, resume=self.resume_hint())
            )
        elif after is State.PAUSED and unit.activated:
            for reason in unit.activated:
                self._send(
                    paused_notice(
                        f"{reason.source}:{reason.name}",
                        self._reason_lines(),
                        since=unit.now,
                        resume=self.resume_hint(),
                        added=True,
                    )
                )
        elif after is State.RUNNING and before is State.PAUSED:
            cleared = [reason_line(s, n) for s, n in unit.cleared]
            by_admin = unit.action != AUTO_RESUME
            actor = f"{unit.actor.scope} from {unit.actor.client}" if unit.actor.client else ""
            self._send(
                resumed_notice(
                    cleared,
                    at=unit.now,
                    by_admin=by_admin,
                    actor=actor if by_admin else "",
                    paused_since=paused_since,
                )
            )

    def alert(self, alert: AmAlert, action: str) -> None:
        """Announce one alert of a webhook, once per state; feed the watchdog with ArbWatchdog."""
        labels = alert.labels
        if labels.get("alertname") == AlertName.WATCHDOG:
            self.watchdog_arrived()
            return
        if alert.status == "firing" and action in ("paused", "already_paused"):
            return  # the pause itself is announced by the transition notice
        key = f"{alert.fingerprint}|{alert.status}|{format_ts(alert.starts_at)}"
        if key in self._seen:
            return
        self._seen[key] = None
        while len(self._seen) > SEEN_MAX:
            self._seen.popitem(last=False)
        paused = self._control.state is State.PAUSED
        self._send(
            alert_notice(
                status=alert.status,
                labels=labels,
                annotations=alert.annotations,
                starts_at=alert.starts_at,
                ends_at=alert.ends_at,
                paused=paused,
                resume=self.resume_hint() if paused else "",
            )
        )

    def watchdog_arrived(self) -> None:
        """ArbWatchdog arrived: the alert path works (announce when it was silent)."""
        notice = self.watchdog.arrived()
        if notice is None:
            return
        self._send(replace(notice, paused=self._control.state is State.PAUSED))
        with self._control.unit("alert_path_back", SYSTEM) as unit:
            unit.deactivate(PIPELINE_DOWN, "ArbWatchdog arrives again")

    def tick(self) -> None:
        """Check the watchdog (the periodic task calls this every second)."""
        notice = self.watchdog.check()
        if notice is None:
            return
        if self._pause_on_pipeline_down:
            detail = (
                f"no ArbWatchdog for {self.watchdog.timeout_s:g} s: Prometheus or "
                "Alertmanager is down"
            )
            with self._control.unit("alert_path_down", SYSTEM) as unit:
                unit.activate(*PIPELINE_DOWN, detail)
                unit.note(
                    changed=True, source=PIPELINE_DOWN[0], reason=PIPELINE_DOWN[1], detail=detail
                )
        self._send(replace(notice, paused=self._control.state is State.PAUSED))

    def resume_hint(self) -> str:
        """How trading resumes now, in one line (never containing a token)."""
        reasons = self._control.reasons
        needs_admin = [
            r
            for r in reasons
            if r.escalated or reason_class(r.source, r.name) is not ReasonClass.INFRA
        ]
        command = f'curl -X POST -H "Authorization: Bearer $ARBQOS_ADMIN_TOKEN" {self._resume_url}'
        if not needs_admin:
            after = self._control.policy.infra_resume_after_s
            return f"resumes by itself {after:g} s after every infrastructure reason recovered"
        if any(r.active and not r.latched for r in needs_admin):
            return f"after the alerts resolve, an admin resumes: {command}"
        return f"an admin resumes: {command}"

    def status(self) -> dict[str, Any]:
        """The `alerting` part of `GET /v1/status`."""
        body = dict(self.watchdog.status())
        body["pipeline_up"] = self.watchdog.up
        body["pause_on_pipeline_down"] = self._pause_on_pipeline_down
        if self.notifier is not None:
            body["channels"] = [c.to_json() for c in self.notifier.status()]
        else:
            body["channels"] = []
        return body

    def _reason_lines(self) -> list[str]:
        return [
            reason_line(r.source, r.name, r.since, r.detail, r.active)
            for r in self._control.reasons
        ]

    def _send(self, notice: Notice) -> None:
        if self.notifier is None:
            logger.info("notice not sent (no channel configured): %s", notice.subject)
            return
        self.notifier.submit(notice)
