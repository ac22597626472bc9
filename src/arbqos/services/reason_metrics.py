"""One Prometheus series per listed pause reason, so a dashboard can show *why* and since when.

`arb_orchestrator_reason_since_timestamp_seconds{source, reason, class, active}` is the unix
time a listed reason became active; the series disappears when the reason is cleared. Reason
names are bounded: alert-style names (`ArbFillRatioLow{venue="sx"}`) and short identifiers
pass until `limit` distinct names were seen, everything else is shown as `other`.
"""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry, Gauge

from arbqos.metrics.registry import gauge
from arbqos.services.policy import reason_class
from arbqos.services.state import Reason

_LABEL = r'[a-z_]{1,32}="[^"\n]{0,64}"'
_SAFE_NAME = re.compile(rf"^[A-Za-z][A-Za-z0-9_]{{0,63}}(\{{{_LABEL}(,{_LABEL})*\}})?$")
METRIC = "arb_orchestrator_reason_since_timestamp_seconds"


class ReasonSeries:
    """Keeps the reason series equal to the listed reasons."""

    def __init__(self, registry: CollectorRegistry, limit: int = 64) -> None:
        self._gauge: Gauge = gauge(registry, METRIC)
        self._limit = limit
        self._names: set[str] = set()
        self._shown: set[tuple[str, str, str, str]] = set()

    def sync(self, reasons: list[Reason]) -> None:
        """Set one series per reason, remove the series of reasons no longer listed."""
        current: dict[tuple[str, str, str, str], float] = {}
        for reason in reasons:
            labels = (
                reason.source,
                self._label(reason.name),
                reason_class(reason.source, reason.name).value,
                "true" if reason.active else "false",
            )
            since = reason.since.timestamp()
            current[labels] = min(since, current.get(labels, since))
        for labels in self._shown - set(current):
            self._gauge.remove(*labels)
        for labels, since in current.items():
            self._gauge.labels(*labels).set(since)
        self._shown = set(current)

    def _label(self, name: str) -> str:
        if not _SAFE_NAME.match(name):
            return "other"
        if name in self._names or len(self._names) < self._limit:
            self._names.add(name)
            return name
        return "other"
