"""What a notification says: the `Notice` facts the caller knows, and builders for each kind.

The caller (the orchestrator) passes facts, never prose: what broke, where, the value and the
threshold, since when, whether trading is paused and how it resumes. `arbqos.notify.render`
turns a notice into the short plain text a person reads at 3 a.m.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from arbqos.clock import format_ts
from arbqos.vocab import Severity


class NoticeKind(StrEnum):
    """What happened."""

    ALERT_FIRING = "alert_firing"
    ALERT_RESOLVED = "alert_resolved"
    PAUSED = "paused"
    """Trading went from running to paused."""
    REASON_ADDED = "reason_added"
    """Trading was already paused and one more reason arrived."""
    RESUMED_BY_ADMIN = "resumed_by_admin"
    RESUMED_AUTOMATICALLY = "resumed_automatically"
    ALERT_PATH_SILENT = "alert_path_silent"
    """ArbWatchdog stopped arriving: Prometheus or Alertmanager is down."""
    ALERT_PATH_BACK = "alert_path_back"


TRANSITIONS: frozenset[NoticeKind] = frozenset(
    {
        NoticeKind.PAUSED,
        NoticeKind.REASON_ADDED,
        NoticeKind.RESUMED_BY_ADMIN,
        NoticeKind.RESUMED_AUTOMATICALLY,
    }
)
ALERT_PATH: frozenset[NoticeKind] = frozenset(
    {NoticeKind.ALERT_PATH_SILENT, NoticeKind.ALERT_PATH_BACK}
)
LOCATION_LABELS: tuple[str, ...] = ("venue", "chain", "wallet", "token", "target", "endpoint")
"""Alert labels shown first under `where`, in this order; other identifying labels follow."""
HIDDEN_LABELS: frozenset[str] = frozenset(
    {"alertname", "severity", "action", "instance", "job", "service", "receiver"}
)


@dataclass(frozen=True)
class Notice:
    """The facts of one notification; build it with the functions below or directly.

    >>> n = Notice(NoticeKind.ALERT_FIRING, "ArbWalletBalanceLow", Severity.WARNING,
    ...            where={"wallet": "azuro"}, value="12.40 USD", threshold="15 USD")
    >>> n.route_severity
    <Severity.WARNING: 'warning'>
    """

    kind: NoticeKind
    subject: str
    """What: an alert name, or the headline pause reason."""
    severity: Severity = Severity.CRITICAL
    """The alert's severity; transitions and alert-path notices always route as critical."""
    summary: str = ""
    """What, in words (an alert's `summary` annotation)."""
    where: Mapping[str, str] = field(default_factory=dict)
    """Venue / chain / wallet labels, shown as `venue=sx, chain=polygon`."""
    value: str = ""
    """The observed value, with its unit (`12.40 USD`)."""
    threshold: str = ""
    """The threshold it crossed, with its unit (`15 USD`)."""
    since: datetime | None = None
    ended: datetime | None = None
    """When it resolved, resumed or came back."""
    paused: bool | None = None
    """Whether trading is paused now; None when the caller does not know."""
    resume: str = ""
    """The exact resume command, or what the automatic resume waits for."""
    detail: str = ""
    """More words (an alert's `description`); the first thing cut when the text is too long."""
    items: tuple[str, ...] = ()
    """A list shown at the end (pause reasons), cut with `… and N more` when too long."""
    items_noun: str = "reasons"
    actor: str = ""
    """Who did it (`admin from 10.0.0.5`)."""
    key: str = ""
    """Identity for de-duplication; empty: derived from kind, subject, where and times."""

    @property
    def route_severity(self) -> Severity:
        """The severity that picks the channels: critical for transitions and the alert path."""
        if self.kind in TRANSITIONS or self.kind in ALERT_PATH:
            return Severity.CRITICAL
        return self.severity

    def dedup_key(self) -> str:
        """`key`, or one derived from what makes two notices the same event."""
        if self.key:
            return self.key
        where = ",".join(f"{k}={v}" for k, v in sorted(self.where.items()))
        since = format_ts(self.since) if self.since else ""
        ended = format_ts(self.ended) if self.ended else ""
        return f"{self.kind}|{self.subject}|{where}|{since}|{ended}|{'|'.join(self.items)}"


def alert_notice(
    *,
    status: str,
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    starts_at: datetime | None,
    ends_at: datetime | None = None,
    paused: bool | None = None,
    resume: str = "",
) -> Notice:
    """Build the notice of one Alertmanager alert (`status` is `firing` or `resolved`).

    Reads the `summary`, `description`, `value` and `threshold` annotations; an unknown or
    missing `severity` label routes as critical, so nothing is lost by a typo in a rule.
    """
    try:
        severity = Severity(labels.get("severity", ""))
    except ValueError:
        severity = Severity.CRITICAL
    shown = [k for k in LOCATION_LABELS if k in labels]
    shown += sorted(k for k in labels if k not in HIDDEN_LABELS and k not in LOCATION_LABELS)
    firing = status == "firing"
    identity = ",".join(f"{k}={labels[k]}" for k in sorted(labels))
    since = format_ts(starts_at) if starts_at else ""
    return Notice(
        kind=NoticeKind.ALERT_FIRING if firing else NoticeKind.ALERT_RESOLVED,
        subject=labels.get("alertname", "unnamed alert"),
        severity=severity,
        summary=annotations.get("summary", ""),
        where={k: labels[k] for k in shown},
        value=annotations.get("value", ""),
        threshold=annotations.get("threshold", ""),
        since=starts_at,
        ended=None if firing or ends_at is None or ends_at.year <= 1 else ends_at,
        paused=paused,
        resume=resume,
        detail=annotations.get("description", ""),
        key=f"{status}|{identity}|{since}",
    )


def reason_line(
    source: str, name: str, since: datetime | None = None, detail: str = "", active: bool = True
) -> str:
    """One pause reason as a list line: `alert ArbRpcDown since 2026-...Z: SX Rollup RPC down`."""
    text = f"{source} {name}"
    if since is not None:
        text += f" since {format_ts(since)}"
    if detail:
        text += f": {detail}"
    return text if active else f"{text} (recovered)"


def paused_notice(
    cause: str, reasons: Sequence[str], *, since: datetime, resume: str, added: bool = False
) -> Notice:
    """Trading paused because of `cause`, or (`added`) `cause` arrived while already paused.

    Args:
        cause: the name of the reason that paused trading or was added (`ArbRpcDown`).
        reasons: every current reason as `reason_line()` text, the most important first.
        since: when trading paused (or the reason was added).
        resume: the exact resume command, or what the automatic resume waits for.
    """
    return Notice(
        kind=NoticeKind.REASON_ADDED if added else NoticeKind.PAUSED,
        subject=cause,
        since=since,
        paused=True,
        resume=resume,
        items=tuple(reasons),
    )


def resumed_notice(
    cleared: Sequence[str],
    *,
    at: datetime,
    by_admin: bool,
    actor: str = "",
    paused_since: datetime | None = None,
) -> Notice:
    """Trading resumed, by an admin (`actor` says who) or automatically; `cleared` lists why."""
    return Notice(
        kind=NoticeKind.RESUMED_BY_ADMIN if by_admin else NoticeKind.RESUMED_AUTOMATICALLY,
        subject="trading resumed",
        since=paused_since,
        ended=at,
        paused=False,
        actor=actor,
        items=tuple(cleared),
        items_noun="reasons cleared",
    )
