"""The state timeline panel: runs of equal values as coloured bars, one row per series."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from matplotlib.patches import Rectangle

from arbqos_harness.snapshot.annotations import mark_events
from arbqos_harness.snapshot.canvas import PanelArea, date_num, fit_text, time_axis
from arbqos_harness.snapshot.model import Series
from arbqos_harness.snapshot.overrides import resolve_fields
from arbqos_harness.snapshot.theme import BG, series_color


def segments(series: Series) -> list[tuple[datetime, datetime, float | None]]:
    """Runs of equal values: (start, end, value); a gap longer than 2 steps ends a run."""
    if not series.times:
        return []
    steps = [(b - a).total_seconds() for a, b in zip(series.times, series.times[1:], strict=False)]
    step = min(steps) if steps else 1.0
    out: list[tuple[datetime, datetime, float]] = []
    run_start, run_value = series.times[0], series.values[0]
    prev = series.times[0]
    for t, v in zip(series.times[1:], series.values[1:], strict=True):
        gap = (t - prev).total_seconds() > 2.5 * step
        if gap or v != run_value:
            out.append((run_start, prev + timedelta(seconds=step) if gap else t, run_value))
            run_start, run_value = t, v
        prev = t
    out.append((run_start, prev + timedelta(seconds=step), run_value))
    return [(a, b, None if math.isnan(v) else v) for a, b, v in out]


def draw_state_timeline(area: PanelArea) -> None:
    """Draw a `state-timeline` panel: one row per series, a legend of the states below."""
    x, y, w, h = area.box
    canvas, style, start, end = area.canvas, area.style, area.start, area.end
    series = area.item.series[:12]
    legend_px = 16
    label_w = min(200.0, w * 0.22)
    rows_h = h - legend_px - 16
    ax = canvas.axes(x + label_w, y, w - label_w - 4, rows_h)
    time_axis(ax, start, end, w - label_w)
    mark_events(ax, area.events)
    ax.set_ylim(len(series), 0)
    ax.set_yticks([])
    states: dict[str, str] = {}
    total_s = (end - start).total_seconds()
    # Without mappings or real thresholds every state would share one colour: colour by value.
    plain = not style.mappings and (not style.steps or style.template_thresholds)
    palette: dict[float, str] | None = {} if plain else None
    fields = resolve_fields(area.panel, series)
    for row, (s, field) in enumerate(zip(series, fields, strict=True)):
        canvas.text(
            x + label_w - 6,
            y + (row + 0.5) * rows_h / len(series),
            fit_text(s.name, label_w - 8, 8),
            fontsize=8,
            ha="right",
            va="center",
        )
        for seg_start, seg_end, value in segments(s):
            if value is None:
                continue
            text, color = field.style.display(value, end)
            if palette is not None:
                color = palette.setdefault(value, series_color(len(palette)))
            states.setdefault(text, color)
            left = date_num(seg_start)
            width = date_num(seg_end) - left
            ax.add_patch(
                Rectangle((left, row + 0.1), width, 0.8, color=color, alpha=0.85, linewidth=0)
            )
            seconds = (seg_end - seg_start).total_seconds()
            if seconds / total_s * (w - label_w) > len(text) * 6 + 6:
                mid = (date_num(seg_start) + date_num(seg_end)) / 2
                ax.text(mid, row + 0.5, text, ha="center", va="center", fontsize=8, color=BG)
    lx = x + label_w
    for text, color in list(states.items())[:8]:
        canvas.base.add_patch(Rectangle((lx, y + h - 8), 10, 6, color=color))
        canvas.text(lx + 14, y + h - 5, text, fontsize=8, va="center")
        lx += 30 + len(text) * 6
