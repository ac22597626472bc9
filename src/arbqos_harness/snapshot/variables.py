"""Time range, query step and template variables (`$var`, `${var:fmt}`, `$__rate_interval`)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from arbqos_harness.snapshot.model import SnapshotError
from arbqos_harness.snapshot.units import parse_duration, prom_duration

LabelValues = Callable[[str, str | None], list[str]]
"""`(label, match) -> values`, e.g. `PromRange.label_values`."""

_REGEX_CHARS = re.compile(r"[.*+?|()\[\]]")
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(.+?)\s*,\s*)?(\w+)\s*\)\s*$")


def dashboard_range_s(dashboard: Mapping[str, Any], default: float = 900.0) -> float:
    """Length of the dashboard's default time range (`time.from = now-15m`), in seconds."""
    start = str((dashboard.get("time") or {}).get("from", ""))
    if start.startswith("now-"):
        try:
            return parse_duration(start[4:])
        except ValueError:
            return default
    return default


def choose_step(range_s: float, scrape_interval_s: float, max_points: int = 400) -> float:
    """Query step: about `max_points` points, never finer than the scrape interval."""
    raw = max(range_s / max_points, scrape_interval_s)
    return float(max(1, math.ceil(raw)))


@dataclass
class Variables:
    """Resolved template variables and the built-in `$__*` ones."""

    values: dict[str, str]
    regex_vars: set[str] = field(default_factory=set)

    def apply(self, expr: str) -> str:
        """Substitute `$name`, `${name}`, `${name:fmt}` and `[[name]]` in a PromQL expression."""

        # `label="$var"` with a regex value (All, multi) must become `label=~"..."`.
        def to_regex(match: re.Match[str]) -> str:
            name = match.group(3) or match.group(4)
            if name in self.regex_vars:
                return f'{match.group(1)}=~"{match.group(2)}'
            return match.group(0)

        expr = re.sub(r'(\b\w+)\s*=\s*"((?:\$\{(\w+)[^}]*\}|\$(\w+)))', to_regex, expr)

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(3) or match.group(4)
            return self.values.get(name, match.group(0))

        return re.sub(r"\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)\]\]|\$(\w+)", substitute, expr)


def interpolate(text: str, values: Mapping[str, str]) -> str:
    """Variables in a title or text (`$horizon`, `${horizon}`), values as they are."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return values.get(name, match.group(0))

    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", one, text)


def resolve_variables(
    dashboard: Mapping[str, Any],
    *,
    overrides: Mapping[str, str],
    step_s: float,
    range_s: float,
    scrape_interval_s: float,
    rate_interval: str | None,
    label_values: LabelValues | None = None,
) -> Variables:
    """Resolve every template variable: overrides, current value, All, label_values(), `.*`."""
    rate = rate_interval or prom_duration(max(step_s + scrape_interval_s, 4 * scrape_interval_s))
    values = {
        "__rate_interval": rate,
        "__interval": prom_duration(step_s),
        "__interval_ms": str(int(step_s * 1000)),
        "__range": prom_duration(range_s),
        "__range_s": str(int(range_s)),
        "__range_ms": str(int(range_s * 1000)),
    }
    regex_vars: set[str] = set()
    for var in (dashboard.get("templating") or {}).get("list") or []:
        name = str(var.get("name", ""))
        if not name:
            continue
        if name in overrides:
            value, is_regex = overrides[name], bool(_REGEX_CHARS.search(overrides[name]))
        else:
            value, is_regex = _variable_value(var, label_values)
        values[name] = value
        if is_regex:
            regex_vars.add(name)
    for name, value in overrides.items():
        values.setdefault(name, value)
    return Variables(values, regex_vars)


def _alternatives(values: list[str]) -> str:
    """A regex matching exactly one of `values`: `(a|b)`."""
    return "(" + "|".join(re.escape(v) for v in values) + ")"


def _variable_value(var: Mapping[str, Any], label_values: LabelValues | None) -> tuple[str, bool]:
    """The value of one variable and whether it is a regex."""
    kind = var.get("type")
    if kind == "datasource":
        return "prometheus", False
    current = (var.get("current") or {}).get("value")
    chosen = [str(v) for v in current] if isinstance(current, list) else []
    if isinstance(current, str) and current:
        chosen = [current]
    if chosen and "$__all" not in chosen:
        if len(chosen) == 1:
            return chosen[0], False
        return _alternatives(chosen), True
    if var.get("includeAll") or "$__all" in chosen:
        return str(var.get("allValue") or ".*"), True
    if kind in ("constant", "textbox", "custom", "interval"):
        query = str(var.get("query") or "")
        first = query.split(",")[0].strip()
        if first:
            return first, False
    if kind == "query" and label_values is not None:
        found = _query_label_values(_query_text(var), label_values)
        if found:
            if var.get("multi"):
                return _alternatives(found), True
            return found[0], False
    return ".*", True


def _query_text(var: Mapping[str, Any]) -> str:
    query = var.get("query")
    if isinstance(query, Mapping):
        return str(query.get("query", ""))
    return str(query or "")


def _query_label_values(query: str, label_values: LabelValues) -> list[str]:
    match = _LABEL_VALUES.match(query)
    if not match:
        return []
    try:
        return label_values(match.group(2), match.group(1))
    except (httpx.HTTPError, SnapshotError, ValueError):
        return []
