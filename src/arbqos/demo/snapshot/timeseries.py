"""The time series panel: lines, bars or points, threshold lines and areas, y range, legend."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

from arbqos.demo.snapshot.canvas import PanelArea, date_num, fit_text, time_axis
from arbqos.demo.snapshot.fields import FieldStyle, opt_float
from arbqos.demo.snapshot.model import Series
from arbqos.demo.snapshot.theme import GRID, MUTED, color_of, series_color
from arbqos.demo.snapshot.units import format_value, reduce_values

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
    def of(cls, area: PanelArea) -> Legend:
        """Read `options.legend` and fit up to ten series into rows of the content width."""
        options = (area.panel.get("options") or {}).get("legend") or {}
        show = options.get("showLegend", True) and options.get("displayMode") != "hidden"
        calcs = tuple(str(c) for c in options.get("calcs") or [])
        total = len(area.item.series)
        shown = min(total, LEGEND_MAX_SERIES)
        width = area.box[2]
        per_row = max(1, min(shown, int((width - 60) // 240))) if not calcs else 1
        rows = math.ceil(shown / per_row) + (1 if total > shown else 0)
        return cls(bool(show), calcs, shown, per_row, rows)

    @property
    def height_px(self) -> float:
        """Pixels the legend takes under the graph (0 when hidden)."""
        return (self.rows * LEGEND_ROW_PX + 8) if self.show else 0


def _color_overrides(panel: Mapping[str, Any]) -> dict[str, str]:
    """`byName` overrides that set a fixed colour."""
    out = {}
    for override in (panel.get("fieldConfig") or {}).get("overrides") or []:
        matcher = override.get("matcher") or {}
        if matcher.get("id") != "byName":
            continue
        for prop in override.get("properties") or []:
            value = prop.get("value")
            if prop.get("id") == "color" and isinstance(value, Mapping) and value.get("fixedColor"):
                out[str(matcher.get("options"))] = color_of(value["fixedColor"])
    return out


def series_colors(area: PanelArea) -> list[str]:
    """One colour per series: a `byName` override, the fixed colour, else the palette."""
    overrides = _color_overrides(area.panel)
    fixed = color_of(area.style.fixed_color) if area.style.fixed_color else None
    return [
        overrides.get(s.name) or fixed or series_color(index)
        for index, s in enumerate(area.item.series)
    ]


def draw_timeseries(area: PanelArea) -> None:
    """Draw a `timeseries` (or old `graph`) panel."""
    x, y, w, h = area.box
    style = area.style
    legend = Legend.of(area)
    plot_h = max(30.0, h - legend.height_px - 20)
    ax = area.canvas.axes(x + 62, y, w - 70, plot_h)
    colors = series_colors(area)
    _plot_series(ax, area, colors)
    thresholds = style.graph_thresholds()
    mode = (style.custom.get("thresholdsStyle") or {}).get("mode", "dashed")
    for value, color in thresholds:
        ax.axhline(
            value, color=color, linestyle="-" if mode == "line" else "--", linewidth=1.1, alpha=0.9
        )
    if mode in ("area", "line+area", "dashed+area") and thresholds:
        _threshold_areas(ax, style)
    _y_limits(ax, style, area.item.series, thresholds)
    time_axis(ax, area.start, area.end, w)
    ax.grid(True, color=GRID, linewidth=0.6)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=max(3, int(plot_h // 40))))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: format_value(v, style.unit, None)))
    label = style.custom.get("axisLabel")
    if label:
        ax.set_ylabel(str(label), color=MUTED, fontsize=8)
    if legend.show and area.item.series:
        _draw_legend(area, legend, colors, (x + 4, y + plot_h + 27, w - 8))


def _plot_series(ax: Any, area: PanelArea, colors: Sequence[str]) -> None:
    custom = area.style.custom
    draw_style = custom.get("drawStyle", "line")
    fill = float(custom.get("fillOpacity", 0)) / 100
    width = float(custom.get("lineWidth", 1))
    span_s = (area.end - area.start).total_seconds()
    count = len(area.item.series)
    for series, color in zip(area.item.series, colors, strict=True):
        values = [math.nan if math.isinf(v) else v for v in series.values]
        times = [date_num(t) for t in series.times]
        if draw_style == "bars":
            bar_w = span_s / max(len(values), 1) / 86400 * 0.8
            ax.bar(times, values, width=bar_w, color=color, alpha=0.8)
        elif draw_style == "points":
            ax.plot(times, values, "o", color=color, markersize=2.5)
        else:
            ax.plot(times, values, color=color, linewidth=max(width, 1.2))
            if fill > 0 and len(series.times) > 1 and count <= 8:
                ax.fill_between(times, values, 0, color=color, alpha=min(fill, 0.5), linewidth=0)


def _threshold_areas(ax: Any, style: FieldStyle) -> None:
    bounds = [v for _c, v in style.steps]
    colors = [color_of(c) for c, _v in style.steps]
    for index, color in enumerate(colors):
        low = bounds[index] if bounds[index] is not None else -1e18
        high = (
            bounds[index + 1] if index + 1 < len(bounds) and bounds[index + 1] is not None else 1e18
        )
        ax.axhspan(low, high, color=color, alpha=0.08, linewidth=0)


def _y_limits(
    ax: Any, style: FieldStyle, series: Sequence[Series], thresholds: Sequence[tuple[float, str]]
) -> None:
    finite = [v for s in series for v in s.values if math.isfinite(v)]
    low = min(finite, default=0.0)
    high = max(finite, default=1.0)
    for value, _c in thresholds:
        high = max(high, value * 1.05) if value > 0 else high
    soft_min = opt_float(style.custom.get("axisSoftMin"))
    soft_max = opt_float(style.custom.get("axisSoftMax"))
    low = min(low, 0.0) if low >= 0 else low
    low = (
        style.min
        if style.min is not None
        else (min(low, soft_min) if soft_min is not None else low)
    )
    if style.max is not None:
        high = style.max
    elif soft_max is not None:
        high = max(high, soft_max)
    if high <= low:
        high = low + 1.0
    elif style.max is None:
        high += (high - low) * 0.05
    ax.set_ylim(low, high)


def _draw_legend(
    area: PanelArea, legend: Legend, colors: Sequence[str], where: tuple[float, float, float]
) -> None:
    canvas, style, series = area.canvas, area.style, area.item.series
    x, y, w = where
    col_w = w / legend.per_row
    for index, one in enumerate(series[: legend.shown]):
        row, col = divmod(index, legend.per_row)
        px, py = x + col * col_w, y + row * LEGEND_ROW_PX
        canvas.base.add_patch(Rectangle((px, py - 2), 12, 4, color=colors[index]))
        stats = "".join(
            f"   {c}: "
            + format_value(reduce_values(one.values, c), style.unit, style.decimals, area.end)
            for c in legend.calcs
        )
        text = fit_text(one.name + stats, col_w - 24, 8)
        canvas.text(px + 17, py, text, fontsize=8, va="center")
    hidden = len(series) - legend.shown
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
