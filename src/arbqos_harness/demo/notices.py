"""What the demo's notification sink received during a scenario: kind, headline, and when."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from arbqos_harness.sink import SinkRecord

DIRECT_PATH = "/alertmanager"
"""Where Alertmanager's direct receiver posts (alerts that bypass the orchestrator)."""


class NoticeSeen(StrEnum):
    """The kinds of notification a scenario can wait for, told apart by their headline."""

    PAUSED = "paused"
    REASON_ADDED = "reason_added"
    RESUMED_AUTOMATICALLY = "resumed_automatically"
    RESUMED_BY_ADMIN = "resumed_by_admin"
    FIRING = "firing"
    RESOLVED = "resolved"
    PATH_SILENT = "path_silent"
    PATH_BACK = "path_back"
    DIRECT = "direct"
    """Alertmanager's own receiver (ArbOrchestratorDown), not through the orchestrator."""
    OTHER = "other"


_MARKERS: tuple[tuple[str, NoticeSeen], ...] = (
    ("trading PAUSED", NoticeSeen.PAUSED),
    ("reason added", NoticeSeen.REASON_ADDED),
    ("RESUMED automatically", NoticeSeen.RESUMED_AUTOMATICALLY),
    ("RESUMED by an admin", NoticeSeen.RESUMED_BY_ADMIN),
    ("alert path SILENT", NoticeSeen.PATH_SILENT),
    ("alert path back", NoticeSeen.PATH_BACK),
    (" firing: ", NoticeSeen.FIRING),
    ("resolved: ", NoticeSeen.RESOLVED),
)


@dataclass(frozen=True)
class Notice:
    """One notification as a scenario reports it."""

    at: float
    """Unix seconds the sink received it."""
    kind: NoticeSeen
    headline: str

    def to_json(self) -> dict[str, Any]:
        """Plain JSON."""
        return {"at": self.at, "kind": str(self.kind), "headline": self.headline}


def headline(record: SinkRecord) -> str:
    """The first line of a notification (its title); for Alertmanager's payload, its alerts."""
    if record.path.startswith(DIRECT_PATH) and isinstance(record.json, dict):
        alerts = record.json.get("alerts") or []
        names = sorted({str(a.get("labels", {}).get("alertname", "?")) for a in alerts})
        return f"Alertmanager direct: {record.json.get('status', '?')} {', '.join(names)}"
    first = record.text.strip().splitlines()[:1]
    return first[0] if first else f"{record.method} {record.path}"


def classify(record: SinkRecord) -> NoticeSeen:
    """The kind of a notification, from where it was posted and its headline."""
    if record.path.startswith(DIRECT_PATH):
        return NoticeSeen.DIRECT
    title = headline(record)
    for marker, kind in _MARKERS:
        if marker in title:
            return kind
    return NoticeSeen.OTHER


def notices(records: list[SinkRecord]) -> list[Notice]:
    """The records as notices, oldest first."""
    return [Notice(r.received_at.timestamp(), classify(r), headline(r)) for r in records]


def first_notice(found: Iterable[Notice], kind: NoticeSeen) -> Notice | None:
    """The earliest notice of `kind`."""
    return next((n for n in found if n.kind is kind), None)
