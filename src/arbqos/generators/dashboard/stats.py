"""Single-value and table panels: KPI stats with sparklines, state cells, reason tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.builders import stat, table
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as models

from arbqos.generators.dashboard.panels import Override, Pos, Query, States, Steps, base


def stat_panel(
    pid: int,
    title: str,
    pos: Pos,
    queries: Sequence[Query],
    *,
    description: str,
    unit: str = "short",
    steps: Steps | None = None,
    states: States | None = None,
    sparkline: bool = True,
    background: bool = False,
    names: bool = True,
    decimals: int | None = None,
    no_value: str = "No data",
    overrides: Sequence[Override] = (),
) -> stat.Panel:
    """A stat: one cell per series with its name, the last value coloured, a sparkline.

    `states` maps values to words (RUNNING, up, DIFFERS); `background` fills the cell with the
    colour instead of colouring the number.
    """
    panel = (
        base(stat.Panel(), pid, title, pos, queries, description, overrides)
        .unit(unit)
        .no_value(no_value)
        .text_mode(
            common.BigValueTextMode.VALUE_AND_NAME if names else common.BigValueTextMode.VALUE
        )
        .color_mode(
            common.BigValueColorMode.BACKGROUND if background else common.BigValueColorMode.VALUE
        )
        .graph_mode(common.BigValueGraphMode.AREA if sparkline else common.BigValueGraphMode.NONE)
        .justify_mode(common.BigValueJustifyMode.CENTER)
        .orientation(common.VizOrientation.AUTO)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .color_scheme(dashboard_builders.FieldColor().mode(models.FieldColorModeId.THRESHOLDS))
        .thresholds((steps or Steps("text")).config())
    )
    if states is not None:
        panel = panel.mappings(states.mappings())
    if decimals is not None:
        panel = panel.decimals(decimals)
    return panel


def table_panel(
    pid: int,
    title: str,
    pos: Pos,
    queries: Sequence[Query],
    *,
    description: str,
    columns: Mapping[str, str],
    overrides: Sequence[Override] = (),
    no_value: str = "",
) -> table.Panel:
    """A table of instant queries: one row per series, label columns in `columns` order.

    `columns` maps a label (or `Value`, `Value #A`, ... for the values) to its header; every
    other field is hidden. Several queries are merged into one row per label set. Overrides
    match the headers (Grafana matches field names after the rename).
    """
    transformations = []
    if len(queries) > 1:
        transformations.append(models.DataTransformerConfig(id_val="merge", options={}))
    shown = list(columns)
    keep = {"include": {"names": shown}}
    organize = {
        "excludeByName": {},
        "indexByName": {name: index for index, name in enumerate(shown)},
        "renameByName": dict(columns),
    }
    transformations += [
        models.DataTransformerConfig(id_val="filterFieldsByName", options=keep),
        models.DataTransformerConfig(id_val="organize", options=organize),
    ]
    panel = (
        base(table.Panel(), pid, title, pos, queries, description, overrides)
        .transformations(transformations)
        .show_header(True)
        .cell_height(common.TableCellHeight.SM)
    )
    if no_value:
        panel = panel.no_value(no_value)
    return panel


def coloured_cells(name: str, states: States) -> Override:
    """Words and background colours for the cells of one table column."""
    return Override(
        name=name,
        props={
            "mappings": states.mappings(),
            "custom.cellOptions": {"type": "color-background", "mode": "basic"},
        },
    )
