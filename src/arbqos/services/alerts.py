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

logger = logging.getLogger(__name__)

SOURCE = "alert"


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

    An occurrence is (fingerprint, startsAt). Repeats of an occurrence change nothing, so the
    two members of an HA Alertmanager pair may both deliver; a late `firing` copy of an
    occurrence already seen `resolved` is stale and ignored. A reason stays active while any
    firing occurrence maps to it.
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
        store = self._control.store
        previous = store.get_instance(alert.fingerprint)
        if previous is not None and alert.starts_at < previous.starts_at:
            return result(
                "ignored",
                f"stale: a newer occurrence started at {format_ts(previous.starts_at)}",
                name,
            )
        same = previous is not None and previous.starts_at == alert.starts_at
        if alert.status == "firing":
            if same and previous is not None and previous.status == "resolved":
                return result("ignored", "stale: this occurrence was already resolved", name)
            if same and previous is not None and previous.overridden:
                return result("ignored", "this occurrence was cleared by a forced resume", name)
            store.put_instance(
                AlertInstance(alert.fingerprint, alert.starts_at, "firing", name), unit.now
            )
            detail = alert.annotations.get("summary") or alert.annotations.get("description", "")
            if unit.activate(SOURCE, name, detail[:500]):
                return result("paused", "pause reason activated", name)
            return result("already_paused", "reason already active", name)
        if same and previous is not None and previous.status == "resolved":
            return result("ignored", "duplicate: occurrence already resolved", name)
        overridden = same and previous is not None and previous.overridden
        store.put_instance(
            AlertInstance(alert.fingerprint, alert.starts_at, "resolved", name, overridden),
            unit.now,
        )
        still = [i for i in store.firing_instances(name) if i.fingerprint != alert.fingerprint]
        if still:
            return result("ignored", f"reason still firing from {len(still)} other alert(s)", name)
        if unit.deactivate((SOURCE, name), "alert resolved"):
            return result("reason_resolved", "reason inactive; resume is allowed", name)
        return result("ignored", "no active reason for this alert", name)
