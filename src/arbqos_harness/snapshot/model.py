"""What a snapshot fetches and reports: series, per-panel data, the result, the error type."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


class SnapshotError(Exception):
    """The dashboard or the Prometheus answer cannot be used."""


@dataclass
class Series:
    """One result series of a range query."""

    labels: dict[str, str]
    times: list[datetime]
    values: list[float]
    name: str = ""
    ref_id: str = ""
    """The `refId` of the query that returned the series (for `byFrameRefID` overrides)."""


@dataclass
class PanelData:
    """What was fetched for one panel."""

    panel: dict[str, Any]
    series: list[Series] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def type(self) -> str:
        """Grafana panel type."""
        return str(self.panel.get("type", "unknown"))

    @property
    def title(self) -> str:
        """Panel title (may be empty)."""
        return str(self.panel.get("title") or "")


@dataclass(frozen=True)
class PanelReport:
    """One drawn panel: type, title, number of series, errors."""

    type: str
    title: str
    series: int
    errors: tuple[str, ...]


@dataclass(frozen=True)
class SnapshotResult:
    """The written PNG and what it shows."""

    path: Path
    width_px: int
    height_px: int
    start: datetime
    end: datetime
    panels: tuple[PanelReport, ...]

    @property
    def panel_count(self) -> int:
        """Panels drawn, row headers included."""
        return len(self.panels)

    @property
    def errors(self) -> list[str]:
        """Every query or drawing error, prefixed with the panel title."""
        return [f"{p.title or p.type}: {e}" for p in self.panels for e in p.errors]
