"""Alertmanager webhook intake: firing `action="pause"` alerts pause, idempotent per occurrence."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from arbqos.clock import format_ts
from arbqos.eventlog import EventLog
from arbqos.services.control import PauseControl, Unit
from arbqos.services.models import AlertmanagerPayload, AmAlert
from arbqos.services.state import Actor, alert_reason_name
from arbqos.services.store import AlertInstance
from arbqos.vocab import PauseSource

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
    Alertmanager pair may deliver. Per fingerprint the last notification is kept: a `firing`
    copy that started before the last known resolution is stale (a slower HA peer) and is
    ignored, as is a `resolved` copy that ended before the occurrence now firing started.
    Comparing start with end, not start with start, keeps a resolve effective when HA
    Prometheus replicas made Alertmanager merge slightly different `startsAt` values. A reason
    stays active while any firing fingerprint maps to it.
    """

    def __init__(self, control: PauseControl, event_log: EventLog | None) -> None:
        self._control = control
        self._events = event_log

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
        if self._events is not None:
            for alert, result in zip(payload.alerts, results, strict=True):
                fields = asdict(result)
                fields.update(
                    labels=dict(alert.labels),
                    starts_at=format_ts(alert.starts_at),
                    receiver=payload.receiver,
                )
                self._events.write("alert", fields)
        return results

    def _apply(self, unit: Unit, alert: AmAlert) -> AlertResult:
        alertname = alert.labels["alertname"]

        def result(action: str, detail: str, reason: str | None = None) -> AlertResult:
            return AlertResult(alertname, alert.fingerprint, alert.status, reason, action, detail)

        if alert.labels.get("action") != "pause":
            return result("ignored", 'no action="pause" label: notification only')
        name = alert_reason_name(alert.labels)
        previous = self._control.store.get_instance(alert.fingerprint)
        if alert.status == "firing":
            action, detail = self._firing(unit, alert, name, previous)
        else:
            action, detail = self._resolved(unit, alert, name, previous)
        return result(action, detail, name)

    def _firing(
        self, unit: Unit, alert: AmAlert, name: str, previous: AlertInstance | None
    ) -> tuple[str, str]:
        store = self._control.store
        starts = alert.starts_at
        if previous is not None:
            ended = previous.ends_at if previous.status == "resolved" else None
            if ended is not None and starts < ended:
                return "ignored", f"stale: this occurrence already resolved at {format_ts(ended)}"
            overridden = previous.status == "firing" and previous.overridden
            if overridden and starts <= previous.starts_at:
                return "ignored", "this occurrence was cleared by a forced resume"
        if previous is None or previous.status == "resolved" or starts > previous.starts_at:
            store.put_instance(AlertInstance(alert.fingerprint, starts, "firing", name), unit.now)
        detail = alert.annotations.get("summary") or alert.annotations.get("description", "")
        if unit.activate(SOURCE, name, detail[:500]):
            return "paused", "pause reason activated"
        return "already_paused", "reason already active"

    def _resolved(
        self, unit: Unit, alert: AmAlert, name: str, previous: AlertInstance | None
    ) -> tuple[str, str]:
        store = self._control.store
        ends = alert.ends_at if alert.ends_at and alert.ends_at.year > 1 else unit.now
        if previous is not None and previous.status == "resolved":
            return "ignored", "duplicate: occurrence already resolved"
        if previous is not None and ends <= previous.starts_at:
            began = format_ts(previous.starts_at)
            return "ignored", f"stale: ended before the occurrence firing since {began}"
        store.put_instance(
            AlertInstance(alert.fingerprint, alert.starts_at, "resolved", name, ends_at=ends),
            unit.now,
        )
        still = [i for i in store.firing_instances(name) if i.fingerprint != alert.fingerprint]
        if still:
            return "ignored", f"reason still firing from {len(still)} other alert(s)"
        if unit.deactivate((SOURCE, name), "alert resolved"):
            return "reason_resolved", "reason inactive; resume is allowed"
        return "ignored", "no active reason for this alert"
