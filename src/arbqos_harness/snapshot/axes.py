"""Y axes of a time series panel: series grouped by scale, drawn left, right or hidden."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from matplotlib.ticker import FuncFormatter, MaxNLocator

from arbqos_harness.snapshot.canvas import style_axes
from arbqos_harness.snapshot.fields import FieldStyle, opt_float
from arbqos_harness.snapshot.layout import DPI
from arbqos_harness.snapshot.model import Series
from arbqos_harness.snapshot.overrides import SeriesField
from arbqos_harness.snapshot.theme import MUTED, color_of
from arbqos_harness.snapshot.units import format_value

AXIS_PX = 54
"""Room for the tick labels of one visible y axis."""
EDGE_PX = 8


@dataclass
class AxisGroup:
    """Series sharing one y scale, the side its axis is drawn on, and its threshold style."""

    fields: list[SeriesField]
    side: str
    thresholds: FieldStyle | None = None
    series: list[Series] = field(default_factory=list)

    @property
    def style(self) -> FieldStyle:
        """The field style of the first series: unit, decimals, limits, axis options."""
        return self.fields[0].style


def plan_axes(fields: Sequence[SeriesField], defaults: FieldStyle) -> list[AxisGroup]:
    """Group drawn series by scale; `auto` goes left, or right once a left axis exists.

    Thresholds an override carries are drawn on its series' axis; the panel's own thresholds
    on the axis of the defaults' unit, the left one first.
    """
    groups: dict[tuple[Any, ...], AxisGroup] = {}
    has_left = False
    for one in fields:
        if one.hide_viz:
            continue
        group = groups.get(one.scale_key)
        if group is None:
            side = one.placement
            if side == "auto":
                side = "right" if has_left else "left"
            has_left = has_left or side == "left"
            group = groups[one.scale_key] = AxisGroup([], side)
        group.fields.append(one)
        group.series.append(one.series)
    for group in groups.values():
        group.thresholds = next((f.style for f in group.fields if f.own_thresholds), None)
    plain = [g for g in groups.values() if g.thresholds is None and g.style.unit == defaults.unit]
    chosen = next((g for g in plain if g.side == "left"), plain[0] if plain else None)
    if chosen is not None:
        chosen.thresholds = chosen.style
    return list(groups.values())


def axis_margins(groups: Sequence[AxisGroup]) -> tuple[float, float]:
    """Pixels left and right of the plot for the visible y axes (one left axis at least)."""
    left = sum(1 for g in groups if g.side == "left")
    right = sum(1 for g in groups if g.side == "right")
    if left == 0 and right == 0:
        left = 1
    return EDGE_PX + AXIS_PX * left, EDGE_PX + AXIS_PX * right


def make_axes(ax: Any, groups: Sequence[AxisGroup]) -> list[Any]:
    """One matplotlib axes per group: `ax` for the first visible one, twins for the others."""
    if not groups:
        return []
    primary = next((i for i, g in enumerate(groups) if g.side != "hidden"), 0)
    targets = [ax if i == primary else ax.twinx() for i in range(len(groups))]
    stacked = {"left": 0, "right": 0}
    for group, target in zip(groups, targets, strict=True):
        if target is not ax:
            style_axes(target)
            target.grid(False)
        if group.side == "hidden":
            target.yaxis.set_visible(False)
            continue
        side = group.side
        target.yaxis.set_ticks_position(side)
        target.yaxis.set_label_position(side)
        if stacked[side]:
            target.spines[side].set_position(("outward", stacked[side] * AXIS_PX * 72 / DPI))
        stacked[side] += 1
    return targets


def format_axis(target: Any, group: AxisGroup, plot_h: float) -> None:
    """Limits, thresholds, ticks in the group's unit and the axis label of one y axis."""
    style = group.style
    lines = group.thresholds.graph_thresholds() if group.thresholds else []
    if group.thresholds is not None and lines:
        draw_thresholds(target, group.thresholds, lines)
    y_limits(target, style, group.series, lines)
    target.yaxis.set_major_locator(
        MaxNLocator(nbins=max(3, int(plot_h // 40)), integer=style.decimals == 0)
    )
    target.yaxis.set_major_formatter(
        FuncFormatter(lambda v, _p: format_value(v, style.unit, style.decimals))
    )
    color = group.fields[0].color if style.custom.get("axisColorMode") == "series" else MUTED
    target.tick_params(axis="y", colors=color)
    label = style.custom.get("axisLabel")
    if label:
        target.set_ylabel(str(label), color=color, fontsize=8)


def draw_thresholds(target: Any, style: FieldStyle, lines: Sequence[tuple[float, str]]) -> None:
    """Threshold lines (dashed unless `line`) and, when asked for, coloured areas."""
    mode = (style.custom.get("thresholdsStyle") or {}).get("mode", "dashed")
    for value, color in lines:
        target.axhline(
            value, color=color, linestyle="-" if mode == "line" else "--", linewidth=1.1, alpha=0.9
        )
    if mode in ("area", "line+area", "dashed+area"):
        bounds = [v for _c, v in style.steps]
        for index, (name, _v) in enumerate(style.steps):
            low = bounds[index] if bounds[index] is not None else -1e18
            high = bounds[index + 1] if index + 1 < len(bounds) else None
            target.axhspan(
                low, 1e18 if high is None else high, color=color_of(name), alpha=0.08, linewidth=0
            )


def y_limits(
    ax: Any, style: FieldStyle, series: Sequence[Series], thresholds: Sequence[tuple[float, str]]
) -> None:
    """Y range: data and thresholds, zero included, then `min`/`max` and soft limits."""
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
