"""Pause state vocabulary: the state enum, pause reasons, who asked, and reason naming."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from arbqos.clock import format_ts
from arbqos.vocab import AlertName, PauseSource, SystemReason

Scope = Literal["admin", "pause", "system"]
"""Who acted: the token scope of the caller, or `system` for the orchestrator's own timers."""

LATCHED_SOURCES: frozenset[PauseSource] = frozenset({PauseSource.MANUAL, PauseSource.GUARD})
"""Reasons a human clears with resume; they never become inactive on their own."""
LATCHED_REASONS: frozenset[tuple[str, str]] = frozenset(
    {(PauseSource.SYSTEM, SystemReason.STATE_LOST)}
)
"""Further reasons only a human clears: state lost at start must be checked by a person."""
AUTOMATIC_SOURCES: frozenset[PauseSource] = frozenset(
    {PauseSource.ALERT, PauseSource.HEARTBEAT, PauseSource.DEADMAN}
)
"""Reasons that become inactive when their signal recovers; resume refuses while active."""

NON_IDENTIFYING_LABELS: frozenset[str] = frozenset(
    {"alertname", "instance", "job", "severity", "action"}
)
"""Alert labels left out of a reason name: they do not say *what* broke."""

_ALERT_NAMES: frozenset[str] = frozenset(AlertName)
"""Alert names from the rules; always allowed as a metric `reason` label."""
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


class State(StrEnum):
    """Whether the bot may trade."""

    RUNNING = "running"
    PAUSED = "paused"


@dataclass(frozen=True)
class Actor:
    """The caller of a request, as journaled: token scope and client address, never the token."""

    scope: Scope
    client: str = ""


SYSTEM = Actor("system", "")


@dataclass(frozen=True)
class Reason:
    """One reason the orchestrator is paused.

    `active` is False once the signal behind an automatic reason recovered; the reason stays
    listed (and trading stays paused) until resume or auto-resume clears it.
    """

    source: str
    name: str
    since: datetime
    detail: str = ""
    active: bool = True
    inactive_since: datetime | None = None
    escalated: bool = False
    """An infrastructure reason that arrived after too many automatic resumes: a person
    clears it (see `arbqos.services.policy`)."""

    @property
    def key(self) -> tuple[str, str]:
        """The identity of the reason: (source, name)."""
        return (self.source, self.name)

    @property
    def latched(self) -> bool:
        """True when only a human clears it (manual and guard pauses, state lost at start)."""
        return self.source in LATCHED_SOURCES or self.key in LATCHED_REASONS

    def to_json(self) -> dict[str, Any]:
        """Return the `/v1/status` form of the reason."""
        return {
            "source": self.source,
            "name": self.name,
            "since": format_ts(self.since),
            "detail": self.detail,
            "active": self.active,
            "inactive_since": format_ts(self.inactive_since) if self.inactive_since else None,
            "escalated": self.escalated,
        }


def alert_reason_name(labels: Mapping[str, str]) -> str:
    """Name a pause reason after an alert: `ArbFillRatioLow{venue="sx"}`.

    Identifying labels are sorted; `instance`, `job`, `severity` and `action` are left out.
    """
    alertname = labels.get("alertname", "")
    shown = sorted((k, v) for k, v in labels.items() if k not in NON_IDENTIFYING_LABELS)
    if not shown:
        return alertname
    inner = ",".join(f'{key}="{_escape(value)}"' for key, value in shown)
    return f"{alertname}{{{inner}}}"


def base_name(reason_name: str) -> str:
    """Return the alert-level part of a reason name: `ArbFillRatioLow{...}` -> `ArbFillRatioLow`."""
    return reason_name.split("{", 1)[0]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class ReasonLabels:
    """Bounded `reason` label values for `arb_orchestrator_pauses_total`.

    Contract alert names always pass; other identifier-like names pass until `limit` distinct
    ones were seen; free text and everything beyond the limit become `other`.
    """

    def __init__(self, limit: int = 32) -> None:
        self._limit = limit
        self._extra: set[str] = set()

    def label(self, reason_name: str) -> str:
        """Return the label value for a reason name."""
        name = base_name(reason_name)
        if name in _ALERT_NAMES:
            return name
        if not _IDENTIFIER.match(name):
            return "other"
        if name in self._extra or len(self._extra) < self._limit:
            self._extra.add(name)
            return name
        return "other"
