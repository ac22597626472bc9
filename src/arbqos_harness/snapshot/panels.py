"""One panel on the canvas: frame, title and error line, then the drawer of its type.

Drawn types are the ones the arbqos dashboard uses: time series, stat, state timeline, table
and row headers; any other type is named in its frame as not drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from arbqos_harness.snapshot.annotations import Event
from arbqos_harness.snapshot.canvas import Canvas, PanelArea, fit_text
from arbqos_harness.snapshot.layout import Box
from arbqos_harness.snapshot.model import PanelData
from arbqos_harness.snapshot.stat import draw_stat
from arbqos_harness.snapshot.table import draw_table
from arbqos_harness.snapshot.theme import BORDER, ERROR, MUTED, PANEL_BG
from arbqos_harness.snapshot.timeline import draw_state_timeline
from arbqos_harness.snapshot.timeseries import draw_timeseries

DRAWERS: dict[str, Callable[[PanelArea], None]] = {
    "timeseries": draw_timeseries,
    "stat": draw_stat,
    "state-timeline": draw_state_timeline,
    "table": draw_table,
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


def _no_value(item: PanelData) -> str:
    defaults = (item.panel.get("fieldConfig") or {}).get("defaults") or {}
    return str(defaults.get("noValue") or "No data")


def draw_panel(
    canvas: Canvas,
    item: PanelData,
    box: Box,
    start: datetime,
    end: datetime,
    events: Sequence[Event] = (),
) -> None:
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
    if not item.series:
        detail = item.errors[0] if item.errors else _no_value(item)
        canvas.message(inner, detail, ERROR if item.errors else MUTED)
        return
    drawer(PanelArea(canvas, item, inner, start, end, tuple(events)))
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
