"""The stat panel: one cell per series with its name, value, colour and sparkline.

Each series gets its own field config (defaults plus matching overrides), so one panel can
mix units, thresholds and value mappings per query, as the dashboard's stale balances and
pause-path cells do.
"""

from __future__ import annotations

import math
from datetime import datetime

from arbqos_harness.snapshot.canvas import (
    Canvas,
    PanelArea,
    char_px,
    date_num,
    fit_font,
    fit_text,
)
from arbqos_harness.snapshot.layout import Box
from arbqos_harness.snapshot.model import Series
from arbqos_harness.snapshot.overrides import SeriesField, resolve_fields
from arbqos_harness.snapshot.theme import MUTED, TEXT
from arbqos_harness.snapshot.units import reduce_values

MAX_CELLS = 12


def _calc(area: PanelArea) -> str:
    calcs = ((area.panel.get("options") or {}).get("reduceOptions") or {}).get("calcs") or []
    return str(calcs[0]) if calcs else "lastNotNull"


def _grid(names: list[str], w: float, h: float, min_h: float) -> tuple[int, int]:
    """Columns and rows for the cells: the layout where the longest name and a value fit best.

    `min_h` is the height a cell needs (more with a sparkline).
    """
    need = max((len(n) for n in names), default=0) * char_px(9) + 90
    best, best_score = (1, len(names)), -1.0
    for cols in range(1, len(names) + 1):
        rows = math.ceil(len(names) / cols)
        score = min(w / cols / need, h / rows / min_h, 1.2)
        if score > best_score + 1e-9:
            best, best_score = (cols, rows), score
    return best


def draw_stat(area: PanelArea) -> None:
    """Draw a `stat` panel: one cell per series, value coloured by mapping or threshold."""
    x, y, w, h = area.box
    options = area.panel.get("options") or {}
    background = options.get("colorMode", "value") == "background"
    graph = options.get("graphMode", "area") == "area"
    names = options.get("textMode", "auto") != "value"
    fields = resolve_fields(area.panel, area.item.series[:MAX_CELLS])
    cols, rows = _grid([f.name for f in fields], w, h, 70 if graph else 30)
    cell_w, cell_h = w / cols, h / rows
    for index, field in enumerate(fields):
        row, col = divmod(index, cols)
        box = (x + col * cell_w, y + row * cell_h, cell_w, cell_h)
        _cell(area, field, box, background=background, graph=graph, names=names)
    hidden = len(area.item.series) - len(fields)
    if hidden > 0:
        area.canvas.text(
            x + w - 4, y + h - 4, f"+{hidden} more", fontsize=7, color=MUTED, ha="right"
        )


def _cell(
    area: PanelArea,
    field: SeriesField,
    box: Box,
    *,
    background: bool,
    graph: bool,
    names: bool,
) -> None:
    cx, cy, cw, ch = box
    canvas = area.canvas
    value = reduce_values(field.series.values, _calc(area))
    text, color = field.style.display(value, area.end)
    if background:
        canvas.rounded_box(
            (cx + 2, cy + 2, cw - 4, ch - 4),
            facecolor=color,
            edgecolor="none",
            alpha=0.85,
            zorder=1,
        )
    ink = "#FFFFFF" if background else color
    flat = ch < 60  # one line: name left, value right
    show_name = names and bool(field.name)
    if flat:
        if show_name:
            canvas.text(
                cx + 8,
                cy + ch / 2,
                fit_text(field.name, cw * 0.55, 9),
                fontsize=9,
                color="#FFFFFF" if background else TEXT,
                va="center",
                zorder=3,
            )
        size = fit_font(text, cw * (0.4 if show_name else 0.9), ch - 6)
        canvas.text(
            cx + cw - 8 if show_name else cx + cw / 2,
            cy + ch / 2,
            text,
            fontsize=size,
            fontweight="bold",
            color=ink,
            ha="right" if show_name else "center",
            va="center",
            zorder=3,
        )
        return
    top = cy + 4
    if show_name:
        canvas.text(
            cx + cw / 2,
            cy + 11,
            fit_text(field.name, cw - 8, 9),
            fontsize=9,
            color="#FFFFFF" if background else TEXT,
            ha="center",
            va="center",
            zorder=3,
        )
        top = cy + 20
    spark = graph and len(field.series.values) > 1 and ch > 60
    value_h = (cy + ch - top) * (0.6 if spark else 0.9)
    if spark:
        band = (cx + 4, top + value_h, cw - 8, cy + ch - top - value_h - 4)
        _sparkline(canvas, field.series, band, color, area.start, area.end)
    canvas.text(
        cx + cw / 2,
        top + value_h / 2,
        text,
        fontsize=fit_font(text, cw - 16, value_h),
        fontweight="bold",
        color=ink,
        ha="center",
        va="center",
        zorder=3,
    )


def _sparkline(
    canvas: Canvas, series: Series, box: Box, color: str, start: datetime, end: datetime
) -> None:
    ax = canvas.figure.add_axes(canvas.rect(*box))
    ax.axis("off")
    values = [v if math.isfinite(v) else math.nan for v in series.values]
    times = [date_num(t) for t in series.times]
    ax.plot(times, values, color=color, linewidth=1, alpha=0.7)
    finite = [v for v in values if math.isfinite(v)]
    if finite:
        low, high = min(finite), max(finite)
        ax.fill_between(times, values, low, color=color, alpha=0.15, linewidth=0)
        ax.set_ylim(low - (high - low) * 0.05 - 1e-9, high + (high - low) * 0.05 + 1e-9)
    ax.set_xlim(date_num(start), date_num(end))
    ax.patch.set_alpha(0)
