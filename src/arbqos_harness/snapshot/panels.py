"""One panel on the canvas: frame, title and error line, then the drawer of its type."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from arbqos_harness.snapshot.canvas import Canvas, PanelArea, fit_text, wrap
from arbqos_harness.snapshot.layout import Box
from arbqos_harness.snapshot.model import PanelData
from arbqos_harness.snapshot.stat import draw_bargauge, draw_gauge, draw_stat
from arbqos_harness.snapshot.theme import BORDER, ERROR, MUTED, PANEL_BG
from arbqos_harness.snapshot.timeline import draw_state_timeline
from arbqos_harness.snapshot.timeseries import draw_timeseries
from arbqos_harness.snapshot.units import reduce_values

TABLE_ROW_PX = 16.0
TEXT_LINE_PX = 14


def draw_table(area: PanelArea) -> None:
    """Draw a `table` panel as series name and last value."""
    x, y, w, h = area.box
    canvas = area.canvas
    canvas.text(x + 4, y + 6, "series", fontsize=8, color=MUTED, va="center")
    canvas.text(x + w - 4, y + 6, "last", fontsize=8, color=MUTED, va="center", ha="right")
    for index, s in enumerate(area.item.series[: int((h - TABLE_ROW_PX) // TABLE_ROW_PX)]):
        ry = y + (index + 1) * TABLE_ROW_PX + 6
        text, color = area.style.display(reduce_values(s.values, "lastNotNull"), area.end)
        canvas.text(x + 4, ry, fit_text(s.name, w * 0.7, 8), fontsize=8, va="center")
        canvas.text(x + w - 4, ry, text, fontsize=8, color=color, va="center", ha="right")


def draw_text(area: PanelArea) -> None:
    """Draw a `text` panel: its markdown or HTML content as plain wrapped lines."""
    x, y, w, h = area.box
    panel = area.panel
    content = str((panel.get("options") or {}).get("content") or panel.get("content") or "")
    plain = re.sub(r"<[^>]+>", "", content)
    plain = re.sub(r"[#*`_]", "", plain)
    lines = [line for raw in plain.splitlines() for line in wrap(raw, int(w / 6))]
    for index, line in enumerate(lines[: int(h // TEXT_LINE_PX)]):
        area.canvas.text(x + 2, y + 6 + index * TEXT_LINE_PX, line, fontsize=9, va="center")


DRAWERS: dict[str, Callable[[PanelArea], None]] = {
    "timeseries": draw_timeseries,
    "graph": draw_timeseries,
    "stat": draw_stat,
    "singlestat": draw_stat,
    "gauge": draw_gauge,
    "bargauge": draw_bargauge,
    "state-timeline": draw_state_timeline,
    "status-history": draw_state_timeline,
    "table": draw_table,
    "text": draw_text,
}
"""Panel type to drawer; other types are shown as a note in their frame."""


def draw_row(canvas: Canvas, item: PanelData, box: Box) -> None:
    """Draw a row header: marker, title, how many panels a collapsed row hides, a rule."""
    x, y, w, h = box
    marker = "▸" if item.panel.get("collapsed") else "▾"
    hidden = len(item.panel.get("panels") or []) if item.panel.get("collapsed") else 0
    label = f"{marker}  {item.title}" + (
        f"   ({hidden} panel{'s' if hidden != 1 else ''} collapsed)" if hidden else ""
    )
    canvas.text(x + 2, y + h / 2 + 2, label, fontsize=13, fontweight="bold", va="center")
    canvas.base.plot([x, x + w], [y + h - 2, y + h - 2], color=BORDER, linewidth=1)


def draw_panel(canvas: Canvas, item: PanelData, box: Box, start: datetime, end: datetime) -> None:
    """Draw one panel in its pixel box: frame and title, then content, data or the error."""
    x, y, w, h = box
    if item.type == "row":
        draw_row(canvas, item, box)
        return
    canvas.rounded_box(box, facecolor=PANEL_BG, edgecolor=BORDER, linewidth=1, zorder=0)
    title = item.title
    if item.errors:
        title = ("! " + title) if title else "!"
    canvas.text(
        x + 8, y + 14, fit_text(title, w - 16, 10), fontsize=10, fontweight="bold", va="center"
    )
    inner = (x + 8, y + 28, w - 16, h - 36)
    drawer = DRAWERS.get(item.type)
    if drawer is None:
        canvas.message(inner, f"panel type '{item.type}' is not drawn in snapshots", MUTED)
        return
    if item.type != "text" and not item.series:
        detail = item.errors[0] if item.errors else "No data"
        canvas.message(inner, detail, ERROR if item.errors else MUTED)
        return
    drawer(PanelArea(canvas, item, inner, start, end))
    if item.errors:
        canvas.text(
            x + w - 8,
            y + h - 8,
            fit_text(item.errors[0], w / 2, 7),
            fontsize=7,
            color=ERROR,
            ha="right",
            va="bottom",
        )
