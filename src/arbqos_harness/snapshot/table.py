"""The table panel: one row per series (label columns and values), as Grafana builds it.

Supports what the dashboard uses: table-format instant queries, the `merge` transformation
(several queries, one row per label set, `Value #A`, `Value #B` columns), then
`filterFieldsByName` and `organize` (order, rename, exclude), then per-column overrides
matched by the final header (unit, decimals, value mappings, coloured cell backgrounds).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from arbqos_harness.snapshot.canvas import PanelArea, fit_text
from arbqos_harness.snapshot.fields import FieldStyle
from arbqos_harness.snapshot.model import Series
from arbqos_harness.snapshot.overrides import merged_config
from arbqos_harness.snapshot.theme import BORDER, MUTED, TEXT, color_of

ROW_PX = 18.0
Cell = str | float | None


@dataclass(frozen=True)
class Table:
    """Headers and rows after the transformations."""

    fields: list[str]
    """Field names before the rename (what overrides and mappings refer to by position)."""
    headers: list[str]
    rows: list[list[Cell]]


def _frames(
    panel: Mapping[str, Any], series: Sequence[Series]
) -> tuple[list[str], list[dict[str, Cell]]]:
    merge = any(t.get("id") == "merge" for t in panel.get("transformations") or [])
    refs = sorted({s.ref_id for s in series})
    value_name = {ref: (f"Value #{ref}" if merge and len(refs) > 1 else "Value") for ref in refs}
    labels = sorted({k for s in series for k in s.labels})
    rows: dict[tuple[tuple[str, str], ...], dict[str, Cell]] = {}
    for index, one in enumerate(series):
        key = tuple(sorted(one.labels.items())) if merge else ((str(index), ""),)
        row = rows.setdefault(key, {name: one.labels.get(name) for name in labels})
        row.update({k: v for k, v in one.labels.items()})
        row[value_name[one.ref_id]] = one.values[-1] if one.values else None
    fields = [*labels, *dict.fromkeys(value_name[r] for r in refs)]
    return fields, list(rows.values())


def build_table(panel: Mapping[str, Any], series: Sequence[Series]) -> Table:
    """Apply the panel's transformations to its series."""
    fields, rows = _frames(panel, series)
    rename: dict[str, str] = {}
    for transformation in panel.get("transformations") or []:
        options = transformation.get("options") or {}
        if transformation.get("id") == "filterFieldsByName":
            keep = set((options.get("include") or {}).get("names") or fields)
            fields = [f for f in fields if f in keep]
        elif transformation.get("id") == "organize":
            excluded = {k for k, v in (options.get("excludeByName") or {}).items() if v}
            fields = [f for f in fields if f not in excluded]
            order = options.get("indexByName") or {}
            fields.sort(key=lambda f: order.get(f, len(order)))
            rename.update(options.get("renameByName") or {})
    headers = [rename.get(f) or f for f in fields]
    return Table(fields, headers, [[row.get(f) for f in fields] for row in rows])


def column_style(panel: Mapping[str, Any], header: str) -> tuple[FieldStyle, bool]:
    """The field config of one column (overrides by name) and whether its cells are filled."""
    config, _touched = merged_config(panel, Series({}, [], [], name=header))
    cell = (config.get("custom") or {}).get("cellOptions") or {}
    return FieldStyle.of_config(config), cell.get("type") == "color-background"


def cell_text(style: FieldStyle, value: Cell, area: PanelArea) -> tuple[str, str | None]:
    """Text of a cell and its mapping or threshold colour (None: plain text)."""
    if isinstance(value, str) or value is None:
        text, color = style.mapped_text(value or "")
        return (text if text is not None else value or ""), color_of(color) if color else None
    text, color = style.display(value, area.end)
    return text, color


def draw_table(area: PanelArea) -> None:
    """Draw a `table` panel: a header line, then one line per row with coloured cells."""
    x, y, w, h = area.box
    table = build_table(area.panel, area.item.series)
    styles = [column_style(area.panel, header) for header in table.headers]
    texts = [
        [cell_text(style, value, area) for (style, _filled), value in zip(styles, row, strict=True)]
        for row in table.rows
    ]
    widths = [
        max([len(header)] + [len(t[i][0]) for t in texts]) + 2
        for i, header in enumerate(table.headers)
    ]
    scale = w / max(1, sum(widths))
    lefts = [x + sum(widths[:i]) * scale for i in range(len(widths))]
    canvas = area.canvas
    for left, chars, header in zip(lefts, widths, table.headers, strict=True):
        canvas.text(
            left + 4,
            y + 6,
            fit_text(header, chars * scale - 6, 8),
            fontsize=8,
            color=MUTED,
            va="center",
        )
    canvas.base.plot([x, x + w], [y + 14, y + 14], color=BORDER, linewidth=1)
    for index, row in enumerate(texts[: int((h - ROW_PX) // ROW_PX)]):
        top = y + 16 + index * ROW_PX
        for col, (text, color) in enumerate(row):
            left, cell_w = lefts[col], widths[col] * scale
            if styles[col][1] and color:
                canvas.rounded_box(
                    (left + 1, top + 1, cell_w - 2, ROW_PX - 2),
                    facecolor=color,
                    edgecolor="none",
                    alpha=0.85,
                    zorder=1,
                )
                ink = "#FFFFFF"
            else:
                ink = TEXT  # Grafana's default cell type shows plain text
            canvas.text(
                left + 4,
                top + ROW_PX / 2,
                fit_text(text, cell_w - 6, 8),
                fontsize=8,
                color=ink,
                va="center",
                zorder=3,
            )
    hidden = len(texts) - int((h - ROW_PX) // ROW_PX)
    if hidden > 0:
        canvas.text(x + w - 4, y + h - 2, f"+{hidden} rows", fontsize=7, color=MUTED, ha="right")
