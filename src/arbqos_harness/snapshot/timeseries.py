"""The time series panel: each series drawn on its axis in its own style, then the legend."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.colors import to_rgba
from matplotlib.patches import Rectangle

from arbqos_harness.snapshot.annotations import mark_events
from arbqos_harness.snapshot.axes import (
    axis_margins,
    format_axis,
    make_axes,
    plan_axes,
    y_limits,
)
from arbqos_harness.snapshot.canvas import PanelArea, char_px, date_num, fit_text, time_axis
from arbqos_harness.snapshot.overrides import SeriesField, resolve_fields
from arbqos_harness.snapshot.theme import GRID, MUTED
from arbqos_harness.snapshot.units import format_value, reduce_values

LEGEND_MAX_SERIES = 10
LEGEND_ROW_PX = 14


@dataclass(frozen=True)
class Legend:
    """How the legend under the graph is laid out."""

    show: bool
    calcs: tuple[str, ...]
    shown: int
    per_row: int
    rows: int

    @classmethod
    def of(cls, area: PanelArea, labels: Sequence[str]) -> Legend:
        """Read `options.legend` and fit up to ten entries into columns as wide as the longest."""
        options = (area.panel.get("options") or {}).get("legend") or {}
        show = options.get("showLegend", True) and options.get("displayMode") != "hidden"
        calcs = tuple(str(c) for c in options.get("calcs") or [])
        total = len(labels)
        shown = min(total, LEGEND_MAX_SERIES)
        column = max(240.0, max((len(t) for t in labels), default=0) * char_px(8) + 30)
        per_row = max(1, min(shown, int((area.box[2] - 60) // column))) if not calcs else 1
        rows = math.ceil(shown / per_row) + (1 if total > shown else 0)
        return cls(bool(show), calcs, shown, per_row, rows)

    @property
    def height_px(self) -> float:
        """Pixels the legend takes under the graph (0 when hidden)."""
        return (self.rows * LEGEND_ROW_PX + 8) if self.show else 0


RIGHT_MARK = "(right y-axis)"
"""Shown after the legend entry of a series drawn against the right axis, as Grafana does."""


def draw_timeseries(area: PanelArea) -> None:
    """Draw a `timeseries` (or old `graph`) panel, overrides and a right axis included."""
    x, y, w, h = area.box
    fields = resolve_fields(area.panel, area.item.series)
    groups = plan_axes(fields, area.style)
    on_right = {id(f) for g in groups if g.side == "right" for f in g.fields}
    listed = [(f, RIGHT_MARK if id(f) in on_right else "") for f in fields if not f.hide_legend]
    legend = Legend.of(area, [f"{f.name} {mark}" for f, mark in listed])
    plot_h = max(30.0, h - legend.height_px - 20)
    left, right = axis_margins(groups)
    ax = area.canvas.axes(x + left, y, w - left - right, plot_h)
    for group, target in zip(groups, make_axes(ax, groups), strict=True):
        for one in group.fields:
            _plot_series(target, area, one, len(fields))
        format_axis(target, group, plot_h)
    if not groups:
        y_limits(ax, area.style, [], [])
    time_axis(ax, area.start, area.end, w)
    mark_events(ax, area.events)
    ax.grid(True, color=GRID, linewidth=0.6)
    if legend.show and listed:
        _draw_legend(area, legend, listed, (x + 4, y + plot_h + 27, w - 8))


def _plot_series(ax: Any, area: PanelArea, one: SeriesField, count: int) -> None:
    """One series with its own draw style, fill, line width and interpolation."""
    custom = one.style.custom
    draw_style = custom.get("drawStyle", "line")
    fill = float(custom.get("fillOpacity") or 0) / 100
    width = float(custom.get("lineWidth") or 1)
    steps = {"stepAfter": "post", "stepBefore": "pre"}.get(str(custom.get("lineInterpolation")))
    values = [math.nan if math.isinf(v) else v for v in one.series.values]
    times = [date_num(t) for t in one.series.times]
    if draw_style == "bars":
        span_s = (area.end - area.start).total_seconds()
        bar_w = span_s / max(len(values), 1) / 86400 * 0.8
        face = to_rgba(one.color, fill if fill > 0 else 0.8)
        ax.bar(times, values, width=bar_w, color=face, edgecolor=one.color, linewidth=width * 0.6)
    elif draw_style == "points":
        size = float(custom.get("pointSize") or 5) / 2
        ax.plot(times, values, "o", color=one.color, markersize=size)
    else:
        style = f"steps-{steps}" if steps else "default"
        ax.plot(times, values, color=one.color, linewidth=max(width, 1.2), drawstyle=style)
        if fill > 0 and len(times) > 1 and count <= 8:
            ax.fill_between(
                times, values, 0, color=one.color, alpha=min(fill, 0.5), linewidth=0, step=steps
            )


def _draw_legend(
    area: PanelArea,
    legend: Legend,
    listed: Sequence[tuple[SeriesField, str]],
    where: tuple[float, float, float],
) -> None:
    canvas = area.canvas
    x, y, w = where
    col_w = w / legend.per_row
    for index, (one, mark) in enumerate(listed[: legend.shown]):
        row, col = divmod(index, legend.per_row)
        px, py = x + col * col_w, y + row * LEGEND_ROW_PX
        canvas.base.add_patch(Rectangle((px, py - 2), 12, 4, color=one.color))
        unit, decimals, values = one.style.unit, one.style.decimals, one.series.values
        stats = "".join(
            f"   {c}: " + format_value(reduce_values(values, c), unit, decimals, area.end)
            for c in legend.calcs
        )
        mark_px = (len(mark) + 1) * char_px(8) if mark else 0
        text = fit_text(one.name + stats, col_w - 24 - mark_px, 8)
        label = canvas.text(px + 17, py, text, fontsize=8, va="center")
        if mark:
            at = canvas.text_end(label) + char_px(8)
            canvas.text(at, py, mark, fontsize=8, color=MUTED, va="center")
    hidden = len(listed) - legend.shown
    if hidden > 0:
        row = math.ceil(legend.shown / legend.per_row)
        canvas.text(
            x + 17,
            y + row * LEGEND_ROW_PX,
            f"+{hidden} more series",
            fontsize=8,
            color=MUTED,
            va="center",
        )
