"""Alertmanager webhook intake: firing `action="pause"` alerts pause, idempotent per occurrence."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from arbqos.clock import format_ts
from arbqos.eventlog import EventLog
from arbqos.services.control import PauseControl, Unit
from arbqos.services.state import Actor, alert_reason_name
from arbqos.services.store import AlertInstance
from arbqos.vocab import PauseSource
from arbqos.wire import AlertmanagerPayload, AmAlert

logger = logging.getLogger(__name__)

SOURCE = PauseSource.ALERT


@dataclass(frozen=True)
class AlertResult:
    """What the orchestrator did with one alert of a webhook."""

    alertname: str
    fingerprint: str
    status: str
    reason: str | None
    action: str
    """`paused`, `already_paused`, `reason_resolved` or `ignored`."""
    detail: str


class AlertIntake:
    """Turn Alertmanager notifications into pause reasons.

    Activation is level-triggered, so repeats change nothing and both members of an HA
    Alertmanager pair may deliver. Per fingerprint the last notification is kept, and the
    occurrence is identified by its `startsAt`, give or take `same_occurrence_s` (HA
    Prometheus replicas evaluate at slightly different moments and Alertmanager may merge
    their starts). Only the order of arrival and that identity decide, never a comparison
    with the orchestrator's clock or between clocks, so a Prometheus replica whose clock runs
    ahead or behind cannot mute a breach:

    - a `firing` notice after a resolve pauses, unless it is a late copy of the very
      occurrence that was resolved (a slower HA peer);
    - a `resolved` notice clears the occurrence firing now, unless it names an occurrence
      that started before it (a late resolve of an earlier occurrence).

    A reason stays active while any firing fingerprint maps to it. Stored end times are capped
    at the orchestrator's clock (a future `endsAt` is stored as the time it was received).
    """

    def __init__(
        self, control: PauseControl, event_log: EventLog | None, *, same_occurrence_s: float = 2.0
    ) -> None:
        self._control = control
        self._events = event_log
        self._same_s = same_occurrence_s
        self.listeners: list[Callable[[AmAlert, str], None]] = []
        """Called with each alert of a webhook and what was done with it (after applying)."""
        self.persisted = True
        """Whether the last webhook's changes are on disk (False: held in memory, retried)."""

    def receive(self, payload: AlertmanagerPayload, actor: Actor) -> list[AlertResult]:
        """Apply one webhook in one transaction, then log one event line per alert."""
        if payload.truncated_alerts:
            logger.warning(
                "alertmanager truncated alerts; raise max_alerts in its webhook config",
                extra={
                    "truncated_alerts": payload.truncated_alerts,
                    "group_key": payload.group_key,
                },
            )
        with self._control.unit("alertmanager", actor) as unit:
            results = [self._apply(unit, alert) for alert in payload.alerts]
            unit.note(
                changed=any(r.action in ("paused", "reason_resolved") for r in results),
                detail=f"{payload.status}: {len(payload.alerts)} alert(s) "
                f"for receiver {payload.receiver!r}",
                data={
                    "group_key": payload.group_key,
                    "alerts": [
                        {"fingerprint": r.fingerprint, "status": r.status, "action": r.action}
                        for r in results
                    ],
                },
            )
        self.persisted = unit.persisted
        if self._events is not None:
            self._log_events(payload, results)
        for alert, result in zip(payload.alerts, results, strict=True):
            for listener in self.listeners:
                try:
                    listener(alert, result.action)
                except Exception:  # notifications never fail a webhook
                    logger.exception("alert listener failed")
        return results

    def _log_events(self, payload: AlertmanagerPayload, results: list[AlertResult]) -> None:
        """Write one event line per alert; best effort (the decision above already stands)."""
        try:
            for alert, result in zip(payload.alerts, results, strict=True):
                fields = asdict(result)
                fields.update(
                    labels=dict(alert.labels),
                    starts_at=format_ts(alert.starts_at),
                    receiver=payload.receiver,
                )
                self._events.write("alert", fields)  # type: ignore[union-attr]
        except OSError as err:
            logger.warning("alert event log not written (%s); the alerts were applied", err)

    def _apply(self, unit: Unit, alert: AmAlert) -> AlertResult:
        alertname = alert.labels["alertname"]

        def result(action: str, detail: str, reason: str | None = None) -> AlertResult:
            return AlertResult(alertname, alert.fingerprint, alert.status, reason, action, detail)

        if alert.labels.get("action") != "pause":
            return result("ignored", 'no action="pause" label: notification only')
        name = alert_reason_name(alert.labels)
        previous = unit.get_instance(alert.fingerprint)
        if alert.status == "firing":
            action, detail = self._firing(unit, alert, name, previous)
        else:
            action, detail = self._resolved(unit, alert, name, previous)
        return result(action, detail, name)

    def _same(self, a: datetime, b: datetime) -> bool:
        """True when two `startsAt` name the same occurrence (within `same_occurrence_s`)."""
        return abs((a - b).total_seconds()) <= self._same_s

    def _firing(
        self, unit: Unit, alert: AmAlert, name: str, previous: AlertInstance | None
    ) -> tuple[str, str]:
        starts = alert.starts_at
        if previous is not None and self._same(starts, previous.starts_at):
            if previous.status == "resolved" and previous.ends_at is not None:
                ended = format_ts(previous.ends_at)
                return "ignored", f"duplicate: this occurrence already resolved at {ended}"
            if previous.status == "firing" and previous.overridden:
                return "ignored", "this occurrence was cleared by a forced resume"
        if previous is None or previous.status == "resolved" or starts > previous.starts_at:
            unit.put_instance(AlertInstance(alert.fingerprint, starts, "firing", name))
        detail = alert.annotations.get("summary") or alert.annotations.get("description", "")
        if unit.activate(SOURCE, name, detail[:500]):
            return "paused", "pause reason activated"
        return "already_paused", "reason already active"

    def _resolved(
        self, unit: Unit, alert: AmAlert, name: str, previous: AlertInstance | None
    ) -> tuple[str, str]:
        ends = alert.ends_at if alert.ends_at and alert.ends_at.year > 1 else unit.now
        ends = min(ends, unit.now)  # a future end is stored as the moment it arrived
        if previous is not None and previous.status == "resolved":
            return "ignored", "duplicate: occurrence already resolved"
        if (
            previous is not None
            and alert.starts_at < previous.starts_at
            and not self._same(alert.starts_at, previous.starts_at)
        ):
            began = format_ts(previous.starts_at)
            return "ignored", (
                f"stale: resolves an occurrence that started {format_ts(alert.starts_at)}, "
                f"before the one firing since {began}"
            )
        starts = previous.starts_at if previous is not None else alert.starts_at
        unit.put_instance(AlertInstance(alert.fingerprint, starts, "resolved", name, ends_at=ends))
        still = [i for i in unit.firing_instances(name) if i.fingerprint != alert.fingerprint]
        if still:
            return "ignored", f"reason still firing from {len(still)} other alert(s)"
        if unit.deactivate((SOURCE, name), "alert resolved"):
            return "reason_resolved", "reason inactive; resume is allowed"
        return "ignored", "no active reason for this alert"
