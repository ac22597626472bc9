"""Colours of the dark Grafana-like theme and Grafana colour names, hex and rgba() strings."""

from __future__ import annotations

import re

BG = "#111217"
PANEL_BG = "#181B1F"
BORDER = "#2C3235"
TEXT = "#CCCCDC"
MUTED = "#8E8E99"
GRID = "#26282D"
ERROR = "#F2495C"
SERIES_COLORS = (  # Grafana's classic palette: neighbours differ in hue
    "#7EB26D",
    "#EAB839",
    "#6ED0E0",
    "#EF843C",
    "#E24D42",
    "#1F78C1",
    "#BA43A9",
    "#705DA0",
    "#508642",
    "#CCA300",
    "#447EBC",
    "#C15C17",
)
NAMED_COLORS = {
    "green": "#73BF69",
    "red": ERROR,
    "yellow": "#FADE2A",
    "orange": "#FF9830",
    "blue": "#5794F2",
    "purple": "#B877D9",
    "text": TEXT,
    "white": "#FFFFFF",
    "transparent": "#00000000",
    "dark-green": "#37872D",
    "semi-dark-green": "#56A64B",
    "light-green": "#96D98D",
    "super-light-green": "#C8F2C2",
    "dark-red": "#C4162A",
    "semi-dark-red": "#E02F44",
    "light-red": "#FF7383",
    "super-light-red": "#FFA6B0",
    "dark-yellow": "#E0B400",
    "semi-dark-yellow": "#F2CC0C",
    "light-yellow": "#FFEE52",
    "super-light-yellow": "#FFF899",
    "dark-orange": "#FA6400",
    "semi-dark-orange": "#FF780A",
    "light-orange": "#FFB357",
    "super-light-orange": "#FFCB7D",
    "dark-blue": "#1F60C4",
    "semi-dark-blue": "#3274D9",
    "light-blue": "#8AB8FF",
    "super-light-blue": "#C0D8FF",
    "dark-purple": "#8F3BB8",
    "semi-dark-purple": "#A352CC",
    "light-purple": "#CA95E5",
    "super-light-purple": "#DEB6F2",
}
GRAFANA_DEFAULT_STEPS = [("green", None), ("red", 80.0)]
"""Grafana's template thresholds; not drawn on graphs unless asked for (they mean nothing)."""

_RGBA = re.compile(r"rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*(?:,\s*([\d.]+)\s*)?\)")
_HEX = re.compile(r"^#[0-9a-fA-F]{3,8}$")


def color_of(name: str | None, default: str = TEXT) -> str:
    """A Grafana colour name, hex or rgba() string as a matplotlib colour."""
    if not name:
        return default
    if name in NAMED_COLORS:
        return NAMED_COLORS[name]
    rgba = _RGBA.match(name)
    if rgba:
        r, g, b = (int(rgba.group(i)) for i in (1, 2, 3))
        alpha = float(rgba.group(4)) if rgba.group(4) else 1.0
        return f"#{r:02x}{g:02x}{b:02x}{round(alpha * 255):02x}"
    if _HEX.match(name):
        return name
    return default


def series_color(index: int) -> str:
    """The palette colour of the `index`-th series (the palette repeats)."""
    return SERIES_COLORS[index % len(SERIES_COLORS)]
