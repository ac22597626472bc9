"""The figure in pixels: themed axes, text that fits a box, UTC time axes, a panel's area."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch
from matplotlib.ticker import FixedLocator, FuncFormatter

from arbqos_harness.snapshot.fields import FieldStyle
from arbqos_harness.snapshot.layout import DPI, HEADER_PX, MARGIN_PX, ROW_PX, WIDTH_PX, Box
from arbqos_harness.snapshot.model import PanelData
from arbqos_harness.snapshot.theme import BG, BORDER, MUTED, PANEL_BG, TEXT

_TIME_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200)
_PX_PER_PT = DPI / 72.0


def char_px(fontsize: float) -> float:
    """Average glyph width in pixels of DejaVu Sans at `fontsize` points."""
    return fontsize * DPI / 72.0 * 0.58


def fit_text(text: str, width_px: float, fontsize: float) -> str:
    """Cut `text` so it fits roughly in `width_px` at `fontsize` (pt)."""
    limit = max(4, int(width_px / char_px(fontsize)))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit_font(text: str, width_px: float, height_px: float, bold: bool = True) -> float:
    """Largest font size (pt) for `text` to fit a pixel box (DejaVu Sans glyph widths)."""
    by_height = height_px * 0.8 / _PX_PER_PT
    by_width = width_px / (max(len(text), 1) * (0.68 if bold else 0.6)) / _PX_PER_PT
    return max(7.0, min(by_height, by_width, 44.0))


def wrap(text: str, width: int) -> list[str]:
    """Split `text` into lines of at most `width` characters at spaces (long words stay whole)."""
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return lines


def date_num(moment: datetime) -> float:
    """Matplotlib date number (days since 1970-01-01 UTC) of an aware datetime."""
    return moment.timestamp() / 86400.0


def time_axis(ax: Any, start: datetime, end: datetime, width_px: float) -> None:
    """UTC time ticks at round seconds / minutes / hours, labelled HH:MM:SS."""
    span = (end - start).total_seconds()
    wanted = max(2, int(width_px // 110))
    step = next((s for s in _TIME_STEPS_S if span / s <= wanted), 86400)
    first = math.ceil(start.timestamp() / step) * step
    ticks = [t / 86400.0 for t in range(int(first), int(end.timestamp()) + 1, step)]
    ax.set_xlim(date_num(start), date_num(end))
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    fmt = "%H:%M" if step >= 60 and span > 3600 else "%H:%M:%S"
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda v, _p: datetime.fromtimestamp(v * 86400.0, UTC).strftime(fmt))
    )


def style_axes(ax: Any) -> None:
    """Theme the spines and ticks of an axes (also of a twin sharing the x axis)."""
    for spine in ax.spines.values():
        spine.set_color(BORDER)
    ax.tick_params(colors=MUTED, labelsize=8, length=2)


class Canvas:
    """A figure laid out on Grafana's grid: panel rectangles in pixels, top-left origin."""

    def __init__(self, rows: int) -> None:
        self.height_px = int(HEADER_PX + rows * ROW_PX + MARGIN_PX * 2)
        self.figure = Figure(figsize=(WIDTH_PX / DPI, self.height_px / DPI), dpi=DPI, facecolor=BG)
        FigureCanvasAgg(self.figure)
        self.base = self.figure.add_axes((0, 0, 1, 1))
        self.base.set_xlim(0, WIDTH_PX)
        self.base.set_ylim(self.height_px, 0)
        self.base.axis("off")

    def rect(self, x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
        """Figure-fraction rectangle of a pixel box (x, y from the top-left)."""
        return (x / WIDTH_PX, 1 - (y + h) / self.height_px, w / WIDTH_PX, h / self.height_px)

    def axes(self, x: float, y: float, w: float, h: float) -> Any:
        """New axes over a pixel box, themed."""
        ax = self.figure.add_axes(self.rect(x, y, w, h))
        ax.set_facecolor(PANEL_BG)
        style_axes(ax)
        return ax

    def text(self, x: float, y: float, text: str, **kwargs: Any) -> Any:
        """Text at a pixel position."""
        kwargs.setdefault("color", TEXT)
        return self.base.text(x, y, text, **kwargs)

    def text_end(self, artist: Any) -> float:
        """Pixel x of the right edge of a text drawn with `text`."""
        return float(artist.get_window_extent().x1)

    def rounded_box(self, box: Box, **style: Any) -> None:
        """A rectangle with Grafana's 3 px rounded corners over a pixel box."""
        x, y, w, h = box
        patch = FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0,rounding_size=3", **style)
        self.base.add_patch(patch)

    def message(self, box: Box, text: str, color: str) -> None:
        """A centred message, wrapped to the box width."""
        x, y, w, h = box
        lines = wrap(text, max(8, int((w - 10) / char_px(10))))[: max(1, int(h // 16))]
        self.text(
            x + w / 2,
            y + h / 2,
            "\n".join(fit_text(line, w - 10, 10) for line in lines),
            fontsize=10,
            color=color,
            ha="center",
            va="center",
            linespacing=1.4,
        )


@dataclass(frozen=True)
class PanelArea:
    """Where and what one panel drawer draws: the content box, the data and the time range."""

    canvas: Canvas
    item: PanelData
    box: Box
    start: datetime
    end: datetime
    events: tuple[Any, ...] = ()
    """Annotation events (`annotations.Event`) to mark on time axes."""

    @cached_property
    def style(self) -> FieldStyle:
        """The panel's field defaults."""
        return FieldStyle.of(self.item.panel)

    @property
    def panel(self) -> dict[str, Any]:
        """The panel JSON."""
        return self.item.panel
