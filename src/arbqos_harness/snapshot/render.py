"""`render_snapshot`: load a dashboard, query Prometheus for every panel, write one PNG."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from matplotlib.patches import Rectangle

from arbqos.clock import Clock, SystemClock, format_ts
from arbqos_harness.snapshot.annotations import Event, event_line, fetch_events
from arbqos_harness.snapshot.canvas import Canvas
from arbqos_harness.snapshot.layout import (
    DPI,
    HEADER_PX,
    MARGIN_PX,
    WIDTH_PX,
    flatten_panels,
    grid_rows,
    panel_box,
)
from arbqos_harness.snapshot.model import PanelData, PanelReport, SnapshotError, SnapshotResult
from arbqos_harness.snapshot.panels import draw_panel
from arbqos_harness.snapshot.prometheus import PromRange, fetch_panels
from arbqos_harness.snapshot.theme import BG, ERROR, MUTED
from arbqos_harness.snapshot.variables import (
    choose_step,
    dashboard_range_s,
    interpolate,
    resolve_variables,
)


def load_dashboard(source: Mapping[str, Any] | Path) -> dict[str, Any]:
    """Load dashboard JSON from a file, or accept an already parsed mapping."""
    if isinstance(source, Path):
        try:
            loaded = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise SnapshotError(f"{source}: cannot read dashboard JSON ({err})") from err
    else:
        loaded = dict(source)
    if isinstance(loaded, dict) and isinstance(loaded.get("dashboard"), dict):
        loaded = loaded["dashboard"]  # an API export `{"dashboard": {...}, "meta": {...}}`
    if not isinstance(loaded, dict) or not isinstance(loaded.get("panels"), list):
        raise SnapshotError("dashboard JSON must be an object with a `panels` list")
    return loaded


EVENTS_Y = (66, 82)
"""Pixel heights of the two lines of annotation events under the title."""


def _span_text(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds % 3600 == 0 and seconds >= 3600:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0 and seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def _draw_header(
    canvas: Canvas,
    title: str,
    start: datetime,
    end: datetime,
    variables: Mapping[str, str],
    events: Sequence[Event],
) -> None:
    """Title, UTC time range, the variables the queries used and the annotation events."""
    canvas.base.add_patch(Rectangle((0, 0), WIDTH_PX, HEADER_PX - 8, color="#0B0C0E", zorder=0))
    canvas.text(MARGIN_PX * 2, 24, title, fontsize=17, fontweight="bold", va="center")
    when = (
        f"{start.strftime('%Y-%m-%d %H:%M:%S')}  to  {end.strftime('%Y-%m-%d %H:%M:%S')} UTC"
        f"   ({_span_text(end - start)})"
    )
    canvas.text(WIDTH_PX - MARGIN_PX * 2, 24, when, fontsize=11, ha="right", va="center")
    shown = [f"{k} = {v}" for k, v in variables.items() if not k.startswith("__")]
    extra = [
        f"rate interval {variables.get('__rate_interval', '?')}",
        f"step {variables.get('__interval', '?')}",
    ]
    canvas.text(MARGIN_PX * 2, 46, "   ".join(shown + extra), fontsize=9, color=MUTED, va="center")
    at: float = MARGIN_PX * 2
    line_y = EVENTS_Y[0]
    label = canvas.text(at, line_y, "annotations:", fontsize=8, color=MUTED, va="center")
    start_x = at = canvas.text_end(label) + 8
    for text, color in event_line(events, limit=40) or [("none in this range", MUTED)]:
        if at + len(text) * 6 > WIDTH_PX - MARGIN_PX * 2:
            if line_y == EVENTS_Y[-1]:
                canvas.text(at, line_y, "…", fontsize=8, color=MUTED, va="center")
                break
            line_y, at = EVENTS_Y[-1], start_x
        label = canvas.text(at, line_y, text, fontsize=8, color=color, va="center")
        at = canvas.text_end(label) + 14


def draw_dashboard(
    dashboard: Mapping[str, Any],
    data: Sequence[PanelData],
    out: Path,
    *,
    start: datetime,
    end: datetime,
    variables: Mapping[str, str],
    title: str | None = None,
    events: Sequence[Event] = (),
) -> tuple[int, int]:
    """Draw the panels into one PNG at `out`; return its (width, height) in pixels."""
    canvas = Canvas(grid_rows([d.panel for d in data]))
    heading = title or str(dashboard.get("title") or "Dashboard")
    _draw_header(canvas, heading, start, end, variables, events)
    for item in data:
        box = panel_box(item.panel)
        if item.panel.get("title"):
            item.panel["title"] = interpolate(str(item.panel["title"]), variables)
        try:
            draw_panel(canvas, item, box, start, end, events)
        except (ValueError, TypeError, KeyError, OverflowError) as err:
            item.errors.append(f"drawing failed: {err}")
            canvas.message(box, f"cannot draw: {err}", ERROR)
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.figure.savefig(out, dpi=DPI, facecolor=BG)
    return WIDTH_PX, canvas.height_px


def render_snapshot(
    dashboard: Mapping[str, Any] | Path,
    prometheus_url: str,
    out: Path,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    range_s: float | None = None,
    variables: Mapping[str, str] | None = None,
    scrape_interval_s: float = 15.0,
    rate_interval: str | None = None,
    step_s: float | None = None,
    title: str | None = None,
    http: httpx.Client | None = None,
    clock: Clock | None = None,
    timeout_s: float = 10.0,
) -> SnapshotResult:
    """Query Prometheus for every panel of `dashboard` and write one PNG to `out`.

    The range ends at `end` (default now) and spans `range_s` (default the dashboard's
    `time.from`, else 15 min) unless `start` is given. `$__rate_interval` is
    `max(step + scrape, 4 x scrape)` like Grafana unless `rate_interval` is given; other
    variables come from `variables`, their current value, All (`.*`) or `label_values()`.
    Query errors are drawn in their panel and listed in `result.errors`; they never raise.

    Raises:
        SnapshotError: the dashboard cannot be read or the time range is empty.
    """
    board = load_dashboard(dashboard)
    end = end or (clock or SystemClock()).now_utc()
    if start is None:
        start = end - timedelta(seconds=range_s or dashboard_range_s(board))
    if end <= start:
        raise SnapshotError(f"time range {format_ts(start)} .. {format_ts(end)} is empty")
    span = (end - start).total_seconds()
    step = step_s or choose_step(span, scrape_interval_s)
    own = http is None
    client = http or httpx.Client()
    try:
        prom = PromRange(prometheus_url, client, timeout_s)
        resolved = resolve_variables(
            board,
            overrides=variables or {},
            step_s=step,
            range_s=span,
            scrape_interval_s=scrape_interval_s,
            rate_interval=rate_interval,
            label_values=prom.label_values,
        )
        data = fetch_panels(flatten_panels(board), prom, resolved, start, end, step)
        events, event_errors = fetch_events(board, prom, resolved, start, end, step)
    finally:
        if own:
            client.close()
    width, height = draw_dashboard(
        board,
        data,
        out,
        start=start,
        end=end,
        variables=resolved.values,
        title=title,
        events=events,
    )
    if event_errors:
        data.append(PanelData({"type": "annotations", "title": "annotations"}, [], event_errors))
    reports = tuple(PanelReport(d.type, d.title, len(d.series), tuple(d.errors)) for d in data)
    return SnapshotResult(out, width, height, start, end, reports)
