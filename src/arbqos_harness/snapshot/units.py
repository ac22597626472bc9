"""Values as Grafana shows them: durations, unit formatting (`s`, `percentunit`, ...), reducers."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$")
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_TIME_UNIT_S = {"s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_RATE_SUFFIX = {"reqps": " req/s", "ops": " ops/s", "rps": " rd/s", "wps": " wr/s"}
_BOOL_NAMES = {
    "bool": ("False", "True"),
    "bool_yes_no": ("No", "Yes"),
    "bool_on_off": ("Off", "On"),
}
_REDUCERS: dict[str, Callable[[list[float]], float]] = {
    "lastNotNull": lambda v: v[-1],
    "firstNotNull": lambda v: v[0],
    "first": lambda v: v[0],
    "mean": lambda v: sum(v) / len(v),
    "max": max,
    "min": min,
    "sum": sum,
    "count": lambda v: float(len(v)),
    "range": lambda v: max(v) - min(v),
    "delta": lambda v: max(0.0, v[-1] - v[0]),
    "diff": lambda v: v[-1] - v[0],
}


def parse_duration(text: str) -> float:
    """Parse a Prometheus/Grafana duration (`15m`, `30s`, `1h`) into seconds."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"duration {text!r}: expected a number and ms, s, m, h, d or w")
    return float(match.group(1)) * _UNIT_S[match.group(2)]


def prom_duration(seconds: float) -> str:
    """Format seconds as a Prometheus duration (`4s`, `1500ms`)."""
    if seconds >= 1 and float(seconds).is_integer():
        return f"{int(seconds)}s"
    return f"{max(1, round(seconds * 1000))}ms"


def _number(value: float, decimals: int | None) -> str:
    if decimals is not None:
        return f"{value:.{decimals}f}"
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 100:
        text = f"{value:.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    elif magnitude >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3g}"
    return text.rstrip("0").rstrip(".") if "." in text and "e" not in text else text


def _scaled(value: float, steps: Sequence[tuple[float, str]], decimals: int | None) -> str:
    for factor, suffix in steps:
        if abs(value) >= factor:
            return _number(value / factor, decimals) + suffix
    return _number(value, decimals)


def _duration(seconds: float, decimals: int | None) -> str:
    magnitude = abs(seconds)
    if magnitude == 0:
        return "0 s"
    if magnitude < 1e-3:
        return _number(seconds * 1e6, decimals) + " µs"
    if magnitude < 1:
        return _number(seconds * 1e3, decimals) + " ms"
    if magnitude < 60:
        return _number(seconds, decimals) + " s"
    if magnitude < 3600:
        return _number(seconds / 60, decimals) + " min"
    if magnitude < 86400:
        return _number(seconds / 3600, decimals) + " h"
    return _number(seconds / 86400, decimals) + " day"


def _bytes(value: float, unit: str, decimals: int | None) -> str:
    base = 1024.0 if unit == "bytes" else 1000.0
    steps = tuple((base**i, s) for i, s in ((4, " TB"), (3, " GB"), (2, " MB"), (1, " kB")))
    return _scaled(value, steps, decimals) + ("" if abs(value) >= base else " B")


def _time_ago(value_ms: float, now: datetime | None) -> str:
    moment = datetime.fromtimestamp(value_ms / 1000, UTC)
    ago = ((now or datetime.now(UTC)) - moment).total_seconds()
    return _duration(ago, 0) + " ago" if ago >= 0 else "in " + _duration(-ago, 0)


def format_value(
    value: float | None, unit: str | None, decimals: int | None = None, now: datetime | None = None
) -> str:
    """Format a value with a Grafana unit id (`s`, `ms`, `percentunit`, `currencyUSD`, ...)."""
    if value is None or math.isnan(value):
        return "No data"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    unit = unit or "short"
    if unit == "percentunit":
        return _number(value * 100, decimals) + "%"
    if unit == "percent":
        return _number(value, decimals) + "%"
    if unit in _TIME_UNIT_S:
        return _duration(value * _TIME_UNIT_S[unit], decimals)
    if unit in ("currencyUSD", "USD"):
        return "$" + _scaled(value, ((1e9, "B"), (1e6, "M"), (1e3, "K")), decimals)
    if unit in ("bytes", "decbytes"):
        return _bytes(value, unit, decimals)
    if unit in _RATE_SUFFIX:
        return _scaled(value, ((1e6, "M"), (1e3, "K")), decimals) + _RATE_SUFFIX[unit]
    if unit in _BOOL_NAMES:
        off, on = _BOOL_NAMES[unit]
        return on if value else off
    if unit in ("dateTimeAsIso", "dateTimeAsSystem"):  # Grafana dates are in milliseconds
        return datetime.fromtimestamp(value / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
    if unit == "dateTimeFromNow":
        return _time_ago(value, now)
    if unit == "none":
        return _number(value, decimals)
    if unit == "short":
        return _scaled(value, ((1e12, " T"), (1e9, " B"), (1e6, " Mil"), (1e3, " K")), decimals)
    if unit.startswith("suffix:"):
        return _number(value, decimals) + unit[7:]
    if unit.startswith("prefix:"):
        return unit[7:] + _number(value, decimals)
    return f"{_number(value, decimals)} {unit}"


def reduce_values(values: Sequence[float], calc: str) -> float | None:
    """Apply a Grafana reducer (`lastNotNull`, `mean`, `max`, ...) to a series."""
    finite = [v for v in values if not math.isnan(v)]
    if calc == "last":
        return values[-1] if values else None
    if not finite:
        return None
    return _REDUCERS.get(calc, _REDUCERS["lastNotNull"])(finite)
