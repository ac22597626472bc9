"""Single-value panels: stat (with sparkline), gauge and bar gauge."""

from __future__ import annotations

import math
from datetime import datetime

from matplotlib.patches import Rectangle, Wedge

from arbqos_harness.snapshot.canvas import (
    Canvas,
    PanelArea,
    date_num,
    fit_font,
    fit_text,
)
from arbqos_harness.snapshot.fields import FieldStyle
from arbqos_harness.snapshot.layout import Box
from arbqos_harness.snapshot.model import Series
from arbqos_harness.snapshot.theme import GRID, MUTED, TEXT, color_of
from arbqos_harness.snapshot.units import reduce_values


def _reduced(area: PanelArea, limit: int) -> list[tuple[Series, float | None]]:
    """The first `limit` series with the value of the panel's reducer (`reduceOptions.calcs`)."""
    calcs = ((area.panel.get("options") or {}).get("reduceOptions") or {}).get("calcs") or []
    calc = str(calcs[0]) if calcs else "lastNotNull"
    return [(s, reduce_values(s.values, calc)) for s in area.item.series[:limit]]


def _low(style: FieldStyle) -> float:
    """The low end of a gauge: `min`, else 0."""
    return style.min if style.min is not None else 0.0


def _fraction(value: float, low: float, high: float) -> float:
    """Where `value` sits between `low` and `high`, clamped to [0, 1]."""
    return 0.0 if high == low else (min(max(value, low), high) - low) / (high - low)


def draw_stat(area: PanelArea) -> None:
    """Draw a `stat` panel: one cell per series, value coloured by mapping or threshold."""
    x, y, w, h = area.box
    canvas, style = area.canvas, area.style
    options = area.panel.get("options") or {}
    color_mode = options.get("colorMode", "value")
    graph = options.get("graphMode", "area")
    cells = _reduced(area, 12)
    cols = min(len(cells), max(1, int(w // 150)))
    rows = math.ceil(len(cells) / cols)
    cell_w, cell_h = w / cols, h / rows
    for index, (s, value) in enumerate(cells):
        row, col = divmod(index, cols)
        cx, cy = x + col * cell_w, y + row * cell_h
        text, color = style.display(value, area.end)
        if color_mode == "background":
            canvas.rounded_box(
                (cx + 2, cy + 2, cell_w - 4, cell_h - 4),
                facecolor=color,
                edgecolor="none",
                alpha=0.85,
                zorder=1,
            )
            text_color = "#FFFFFF"
        else:
            text_color = color
        show_name = len(cells) > 1
        if show_name:
            canvas.text(
                cx + cell_w / 2,
                cy + 10,
                fit_text(s.name, cell_w - 8, 9),
                fontsize=9,
                color=TEXT if color_mode != "background" else "#FFFFFF",
                ha="center",
                va="center",
                zorder=3,
            )
        top = cy + (20 if show_name else 4)
        spark = graph == "area" and len(s.values) > 1 and cell_h > 60
        value_h = (cy + cell_h - top) * (0.62 if spark else 0.9)
        if spark:
            band = (cx + 4, top + value_h, cell_w - 8, cy + cell_h - top - value_h - 4)
            _sparkline(canvas, s, band, color, area.start, area.end)
        canvas.text(
            cx + cell_w / 2,
            top + value_h / 2,
            text,
            fontsize=fit_font(text, cell_w - 16, value_h),
            fontweight="bold",
            color=text_color,
            ha="center",
            va="center",
            zorder=3,
        )
    if len(area.item.series) > len(cells):
        canvas.text(
            x + w - 4,
            y + h - 4,
            f"+{len(area.item.series) - len(cells)} more",
            fontsize=7,
            color=MUTED,
            ha="right",
        )


def _sparkline(
    canvas: Canvas, series: Series, box: Box, color: str, start: datetime, end: datetime
) -> None:
    ax = canvas.figure.add_axes(canvas.rect(*box))
    ax.axis("off")
    values = [v if math.isfinite(v) else math.nan for v in series.values]
    times = [date_num(t) for t in series.times]
    ax.plot(times, values, color=color, linewidth=1, alpha=0.6)
    finite = [v for v in values if math.isfinite(v)]
    if finite:
        low = min(finite)
        ax.fill_between(times, values, low, color=color, alpha=0.15, linewidth=0)
        high = max(finite)
        ax.set_ylim(low - (high - low) * 0.05 - 1e-9, high + (high - low) * 0.05 + 1e-9)
    ax.set_xlim(date_num(start), date_num(end))
    ax.patch.set_alpha(0)


def draw_gauge(area: PanelArea) -> None:
    """Draw a `gauge` panel: a half ring per series with its threshold steps around it."""
    x, y, w, h = area.box
    style = area.style
    cells = _reduced(area, 6)
    cell_w = w / len(cells)
    low = _low(style)
    high = style.max if style.max is not None else (1.0 if style.unit == "percentunit" else 100.0)
    for index, (s, value) in enumerate(cells):
        text, color = style.display(value, area.end)
        size = min(cell_w, h * 1.6)
        ax = area.canvas.axes(
            x + index * cell_w + (cell_w - size) / 2, y, size, min(h, size * 0.62)
        )
        ax.axis("off")
        ax.set_xlim(-1.1, 1.1)
        ax.set_ylim(-0.25, 1.1)
        ax.set_aspect("equal", adjustable="box")
        ax.add_patch(Wedge((0, 0), 1.0, 0, 180, width=0.22, color=GRID))
        # threshold ring
        steps = [(limit, color_of(c)) for c, limit in style.steps]
        for step_index, (limit, step_color) in enumerate(steps):
            lo = low if limit is None else limit
            hi = steps[step_index + 1][0] if step_index + 1 < len(steps) else high
            if hi is None:
                continue
            a0, a1 = _angle(lo, low, high), _angle(hi, low, high)
            if a0 > a1:
                ax.add_patch(Wedge((0, 0), 1.06, a1, a0, width=0.05, color=step_color))
        if value is not None and math.isfinite(value):
            angle = _angle(value, low, high)
            ax.add_patch(Wedge((0, 0), 0.97, angle, 180, width=0.17, color=color))
        ax.text(
            0,
            0.12,
            text,
            color=color,
            ha="center",
            va="center",
            fontweight="bold",
            fontsize=fit_font(text, size * 0.6, size * 0.22),
        )
        if len(cells) > 1:
            ax.text(
                0,
                -0.18,
                fit_text(s.name, size - 10, 8),
                color=TEXT,
                ha="center",
                va="center",
                fontsize=8,
            )


def _angle(value: float, low: float, high: float) -> float:
    return 180.0 - 180.0 * _fraction(value, low, high)


def draw_bargauge(area: PanelArea) -> None:
    """Draw a `bargauge` panel: one horizontal bar per series, name left, value right."""
    x, y, w, h = area.box
    canvas, style = area.canvas, area.style
    cells = _reduced(area, 12)
    low = _low(style)
    finite = [v for _s, v in cells if v is not None and math.isfinite(v)]
    high = style.max if style.max is not None else max([*finite, low + 1.0])
    bar_h = min(28.0, h / len(cells))
    for index, (s, value) in enumerate(cells):
        by = y + index * bar_h
        text, color = style.display(value, area.end)
        canvas.text(x, by + bar_h / 2, fit_text(s.name, w * 0.3, 8), fontsize=8, va="center")
        bx, bw = x + w * 0.32, w * 0.5
        canvas.base.add_patch(Rectangle((bx, by + 3), bw, bar_h - 6, color=GRID))
        if value is not None and math.isfinite(value) and high > low:
            fill_w = bw * _fraction(value, low, high)
            canvas.base.add_patch(Rectangle((bx, by + 3), fill_w, bar_h - 6, color=color))
        canvas.text(
            x + w,
            by + bar_h / 2,
            text,
            fontsize=9,
            color=color,
            ha="right",
            va="center",
            fontweight="bold",
        )
