"""Bases and field types shared by every orchestrator JSON shape."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationError,
)

from arbqos.clock import format_ts
from arbqos.vocab import PauseSource


class WireModel(BaseModel):
    """Base of every shape: frozen, no NaN or infinity, unknown fields ignored.

    Ignoring unknown fields lets a client parse the answers of a newer orchestrator (the
    contract adds fields, never renames them).
    """

    model_config = ConfigDict(frozen=True, allow_inf_nan=False, extra="ignore")


class RequestBody(WireModel):
    """Base of the bodies the orchestrator receives from our own clients: unknown fields are
    refused (HTTP 422), so a misspelt field never passes silently."""

    model_config = ConfigDict(extra="forbid")


def _utc_from_1970(value: datetime) -> datetime:
    """Refuse moments before 1970 or past year 9999 in UTC: no observation is that old, and
    such a moment would not render back as a four-digit UTC year (the answer would not parse)."""
    try:
        year = value.astimezone(UTC).year
    except OverflowError:
        year = 10000
    if not 1970 <= year <= 9999:
        raise ValueError(
            "must lie between 1970 and 9999 in UTC: send UTC ISO 8601, e.g. "
            "2026-11-26T13:50:58.123Z"
        )
    return value


Timestamp = Annotated[
    AwareDatetime,
    AfterValidator(_utc_from_1970),
    PlainSerializer(format_ts, return_type=str, when_used="json"),
]
"""A timezone-aware moment from 1970 on; sent as UTC ISO 8601 with milliseconds and `Z`."""


def _caller_source(value: PauseSource) -> PauseSource:
    """Refuse `deadman`: only the orchestrator's own dead man's switch pauses with it."""
    if value is PauseSource.DEADMAN:
        raise ValueError(
            "deadman is the orchestrator's own source; use manual, guard, alert or heartbeat"
        )
    return value


CallerSource = Annotated[PauseSource, AfterValidator(_caller_source)]
"""Sources a caller may pause with (`deadman` is the orchestrator's own)."""

ReasonText = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
]
DETAIL_MAX = 2000
Detail = Annotated[str, StringConstraints(max_length=DETAIL_MAX)]


def clip_detail(value: object) -> object:
    """Cut free text to `DETAIL_MAX` characters instead of refusing the body that carries it."""
    return value[:DETAIL_MAX] if isinstance(value, str) else value


ProbeDetail = Annotated[str, BeforeValidator(clip_detail)]
"""Free text inside machine reports: clipped, since refusing a report over it would pause."""
LABEL_MAX = 1024
"""Longest label or annotation value kept; longer ones are cut, never refused."""
LABELS_MAX = 64
"""Most labels (or annotations) kept per alert; the identifying ones come first."""
KEPT_FIRST = ("alertname", "action", "severity", "venue", "chain", "wallet", "summary")


def clip_text(limit: int) -> Callable[[object], object]:
    """A validator that cuts a string to `limit` characters, saying how much was cut."""

    def clip(value: object) -> object:
        if isinstance(value, str) and len(value) > limit:
            marker = f"… (+{len(value) - limit} chars)"
            return value[: max(limit - len(marker), 0)] + marker
        return value

    return clip


def clip_mapping(value: object) -> object:
    """Keep at most `LABELS_MAX` entries (identifying ones first), each value cut to fit."""
    if not isinstance(value, dict):
        return value
    clip = clip_text(LABEL_MAX)
    order = [k for k in KEPT_FIRST if k in value]
    order += sorted(k for k in value if k not in KEPT_FIRST)
    return {str(k)[:128]: clip(value[k]) for k in order[:LABELS_MAX]}


Label = Annotated[str, StringConstraints(max_length=LABEL_MAX)]
Labels = Annotated[dict[str, Label], BeforeValidator(clip_mapping)]
"""Alert labels or annotations as Alertmanager sends them: cut to size for storage, never
refused (Alertmanager does not retry a 4xx, so refusing would lose a pause)."""
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
NonNegative = Annotated[float, Field(ge=0)]


def describe(err: ValidationError, limit: int = 5) -> str:
    """`field: message` for the first `limit` errors, as the orchestrator's 422 answers say it."""
    parts = [
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in err.errors()[:limit]
    ]
    return "; ".join(parts)
