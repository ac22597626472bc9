"""What a venue answer means for one leg, and strict readers for venue payload fields."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FillOutcome:
    """Terminal result of a leg as read from a venue payload."""

    result: str
    """`filled`, `partial`, `rejected`, `expired` or `error`."""
    filled_usd: float
    filled_prob: float | None
    """Implied probability actually obtained (None when nothing was accepted)."""
    code: str | None = None
    """The venue's error code, when it gave one."""


def field(payload: Mapping[str, Any], key: str, where: str) -> Any:
    """Return `payload[key]`, or raise ValueError naming the payload and the missing field."""
    if not isinstance(payload, Mapping):
        raise ValueError(f"{where}: expected a JSON object, got {type(payload).__name__}")
    if key not in payload or payload[key] is None:
        raise ValueError(f"{where}: field {key!r} is missing (got keys {sorted(payload)})")
    return payload[key]


def base_units(raw: Any, where: str) -> int:
    """Parse an integer amount sent as a decimal string or a number (`"50000000"`)."""
    try:
        value = int(str(raw), 10)
    except ValueError:
        raise ValueError(f"{where}: {raw!r} is not an integer amount in base units") from None
    if value < 0:
        raise ValueError(f"{where}: amount {raw!r} is negative")
    return value
