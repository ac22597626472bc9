"""Dashboard annotations from Prometheus: regions and events drawn on every time axis.

Like Grafana's Prometheus annotations: each series of an enabled annotation query becomes a
region from its first to its last sample (a run ends at a gap longer than two steps), named
by `titleFormat` / `textFormat`; with `useValueForTime` every distinct value is an event at
that time (unix milliseconds).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from arbqos_harness.snapshot.model import Series, SnapshotError
from arbqos_harness.snapshot.prometheus import PromRange
from arbqos_harness.snapshot.theme import color_of
from arbqos_harness.snapshot.units import parse_duration
from arbqos_harness.snapshot.variables import Variables


@dataclass(frozen=True)
class Event:
    """One annotation: a moment (start == end) or a region, with its colour and words."""

    start: datetime
    end: datetime
    color: str
    title: str
    text: str


def _format(template: str, labels: Mapping[str, str]) -> str:
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), template)


def events_of(
    annotation: Mapping[str, Any], series: Sequence[Series], step_s: float
) -> list[Event]:
    """The events one annotation query's series make."""
    color = color_of(str(annotation.get("iconColor") or "red"))
    title_t, text_t = (
        str(annotation.get("titleFormat") or ""),
        str(annotation.get("textFormat") or ""),
    )
    out: list[Event] = []
    for one in series:
        title, text = _format(title_t, one.labels), _format(text_t, one.labels)
        if annotation.get("useValueForTime"):
            for value in sorted(set(one.values)):
                at = datetime.fromtimestamp(value / 1000, UTC)
                out.append(Event(at, at, color, title, text))
            continue
        if not one.times:
            continue
        run_start = previous = one.times[0]
        for moment in one.times[1:]:
            if (moment - previous).total_seconds() > 2 * step_s:
                out.append(Event(run_start, previous, color, title, text))
                run_start = moment
            previous = moment
        out.append(Event(run_start, previous, color, title, text))
    return out


def fetch_events(
    dashboard: Mapping[str, Any],
    prom: PromRange,
    variables: Variables,
    start: datetime,
    end: datetime,
    step_s: float,
) -> tuple[list[Event], list[str]]:
    """Every enabled annotation's events in the range, and the errors of failed queries."""
    events: list[Event] = []
    errors: list[str] = []
    for annotation in (dashboard.get("annotations") or {}).get("list") or []:
        if not annotation.get("enable", True) or not annotation.get("expr"):
            continue
        try:
            step = max(step_s, parse_duration(str(annotation.get("step") or "1s")))
        except ValueError:
            step = step_s
        expr = variables.apply(str(annotation["expr"]))
        try:
            found = prom.query_range(expr, start, end, step)
        except SnapshotError as err:
            errors.append(f"annotation {annotation.get('name')}: {err}")
            continue
        events += [
            e
            for e in events_of(annotation, found, step)
            if start <= e.start <= end + timedelta(seconds=step)
        ]
    return sorted(events, key=lambda e: e.start), errors


def mark_events(ax: Any, events: Sequence[Event]) -> None:
    """Draw events on a time axis: a dashed line at each start, a light band over a region."""
    for event in events:
        start = event.start.timestamp() / 86400.0
        if event.end > event.start:
            ax.axvspan(start, event.end.timestamp() / 86400.0, color=event.color, alpha=0.08, lw=0)
        ax.axvline(start, color=event.color, linewidth=0.9, linestyle="--", alpha=0.8)


def event_line(events: Sequence[Event], limit: int = 12) -> list[tuple[str, str]]:
    """(text, colour) of the first `limit` events, for a one-line story under the title."""
    out = []
    for event in events[:limit]:
        when = event.start.strftime("%H:%M:%S")
        span = ""
        if event.end > event.start:
            span = f"-{event.end.strftime('%H:%M:%S')}"
        out.append((f"{when}{span} {event.title}", event.color))
    return out
