"""Grafana's 24-column grid in pixels: `gridPos` to panel boxes, panels in layout order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

WIDTH_PX = 1800
COL_PX = (WIDTH_PX - 12) / 24
ROW_PX = 36
HEADER_PX = 100
MARGIN_PX = 6
DPI = 100

Box = tuple[float, float, float, float]
"""A pixel box (x, y, w, h) with its origin at the top-left corner of the figure."""


def grid_of(panel: Mapping[str, Any]) -> tuple[int, int, int, int]:
    """Grid cell (x, y, w, h) of a panel, with Grafana's defaults and the width clamped to 24."""
    pos = panel.get("gridPos") or {}
    is_row = panel.get("type") == "row"
    w = int(pos.get("w") or (24 if is_row else 12))
    return (
        int(pos.get("x") or 0),
        int(pos.get("y") or 0),
        max(1, min(24, w)),
        int(pos.get("h") or (1 if is_row else 8)),
    )


def grid_rows(panels: Sequence[Mapping[str, Any]], default: int = 4) -> int:
    """Grid rows the panels cover (the bottom edge of the lowest one)."""
    return max((grid_of(p)[1] + grid_of(p)[3] for p in panels), default=default)


def panel_box(panel: Mapping[str, Any]) -> Box:
    """Pixel box (x, y, w, h) of a panel from its gridPos (6 px figure margin, 6 px gutters)."""
    gx, gy, gw, gh = grid_of(panel)
    x = MARGIN_PX + gx * COL_PX + MARGIN_PX / 2
    y = HEADER_PX + gy * ROW_PX + MARGIN_PX / 2
    return x, y, gw * COL_PX - MARGIN_PX, gh * ROW_PX - MARGIN_PX


def flatten_panels(dashboard: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Top-level panels in layout order; panels inside collapsed rows stay hidden, as in Grafana."""
    panels: list[dict[str, Any]] = []
    for panel in dashboard.get("panels") or []:
        if not isinstance(panel, dict):
            continue
        panels.append(panel)
        if panel.get("type") == "row" and not panel.get("collapsed"):
            panels.extend(p for p in panel.get("panels") or [] if isinstance(p, dict))
    return sorted(panels, key=lambda p: (grid_of(p)[1], grid_of(p)[0]))
