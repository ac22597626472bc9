"""Panel factories over grafana-foundation-sdk: one Prometheus data source variable, fixed ids."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.builders import prometheus, stat, statetimeline, table, timeseries
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.cog.variants import Dataquery
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as models
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

DATASOURCE = models.DataSourceRef(type_val="prometheus", uid="${datasource}")
"""Every panel and query points at the `datasource` variable, never at a fixed uid."""


@dataclass(frozen=True)
class Query:
    """One PromQL target of a panel."""

    expr: str
    legend: str
    instant: bool = False
    table: bool = False


@dataclass(frozen=True)
class Pos:
    """Grid position: x, y, width, height in Grafana's 24-column grid."""

    x: int
    y: int
    w: int
    h: int

    def grid(self) -> models.GridPos:
        """The SDK model."""
        return models.GridPos(x=self.x, y=self.y, w=self.w, h=self.h)


@dataclass(frozen=True)
class Threshold:
    """A threshold drawn as a dashed line; `bad_below` colours values under it red."""

    value: float
    bad_below: bool = False

    def config(self) -> dashboard_builders.ThresholdsConfig:
        """Two steps: the base colour and the colour from `value` upwards."""
        low, high = ("red", "green") if self.bad_below else ("green", "red")
        steps = [
            models.Threshold(value=None, color=low),
            models.Threshold(value=self.value, color=high),
        ]
        return (
            dashboard_builders.ThresholdsConfig().mode(models.ThresholdsMode.ABSOLUTE).steps(steps)
        )


def _targets(queries: Sequence[Query]) -> list[Builder[Dataquery]]:
    targets: list[Builder[Dataquery]] = []
    for index, query in enumerate(queries):
        target = (
            prometheus.Dataquery()
            .expr(query.expr)
            .legend_format(query.legend)
            .ref_id(chr(ord("A") + index))
            .datasource(DATASOURCE)
        )
        if query.table:
            target = target.format(PromQueryFormat.TABLE)
        targets.append(target.instant() if query.instant else target.range())
    return targets


PanelT = TypeVar("PanelT", timeseries.Panel, stat.Panel, table.Panel, statetimeline.Panel)


def _base(
    panel: PanelT, pid: int, title: str, pos: Pos, queries: Sequence[Query], description: str
) -> PanelT:
    """Fields every panel sets: id, title, description, data source, position, targets."""
    return (
        panel.id(pid)
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .grid_pos(pos.grid())
        .targets(_targets(queries))
    )


def timeseries_panel(
    pid: int,
    title: str,
    pos: Pos,
    unit: str,
    queries: Sequence[Query],
    *,
    description: str,
    threshold: Threshold | None = None,
    bounds: tuple[float | None, float | None] = (None, None),
    step: bool = False,
    right_axis: dict[str, str] | None = None,
) -> timeseries.Panel:
    """A time series panel; `right_axis` maps a query refId to its unit on the right axis."""
    panel = (
        _base(timeseries.Panel(), pid, title, pos, queries, description)
        .unit(unit)
        .legend(
            common_builders.VizLegendOptions()
            .display_mode(common.LegendDisplayMode.LIST)
            .placement(common.LegendPlacement.BOTTOM)
            .show_legend(True)
        )
        .tooltip(common_builders.VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI))
        .line_width(1)
        .fill_opacity(10)
        .show_points(common.VisibilityMode.NEVER)
        .color_scheme(dashboard_builders.FieldColor().mode(models.FieldColorModeId.PALETTE_CLASSIC))
    )
    if step:
        panel = panel.line_interpolation(common.LineInterpolation.STEP_AFTER)
    low, high = bounds
    if low is not None:
        panel = panel.min(low)
    if high is not None:
        panel = panel.max(high)
    if threshold is not None:
        panel = panel.thresholds(threshold.config()).thresholds_style(
            common_builders.GraphThresholdsStyleConfig().mode(common.GraphTresholdsStyleMode.DASHED)
        )
    for ref_id, other_unit in sorted((right_axis or {}).items()):
        panel = panel.override_by_query(
            ref_id,
            [
                models.DynamicConfigValue(id_val="unit", value=other_unit),
                models.DynamicConfigValue(id_val="custom.axisPlacement", value="right"),
            ],
        )
    return panel


def up_down_timeline_panel(
    pid: int,
    title: str,
    pos: Pos,
    queries: Sequence[Query],
    *,
    description: str,
    states: tuple[str, str] = ("up", "down"),
) -> statetimeline.Panel:
    """A state timeline of 0/1 series, one row each: 1 is green `states[0]`, 0 red `states[1]`."""
    good, bad = states
    mapping = models.ValueMap(
        options={
            "1": models.ValueMappingResult(text=good, color="green", index=0),
            "0": models.ValueMappingResult(text=bad, color="red", index=1),
        }
    )
    return (
        _base(statetimeline.Panel(), pid, title, pos, queries, description)
        .mappings([mapping])
        .thresholds(Threshold(1, bad_below=True).config())
        .color_scheme(dashboard_builders.FieldColor().mode(models.FieldColorModeId.THRESHOLDS))
        .min(0)
        .max(1)
        .show_value(common.VisibilityMode.AUTO)
        .merge_values(True)
        .row_height(0.9)
        .fill_opacity(80)
        .line_width(0)
        .legend(
            common_builders.VizLegendOptions()
            .display_mode(common.LegendDisplayMode.LIST)
            .placement(common.LegendPlacement.BOTTOM)
            .show_legend(True)
        )
        .tooltip(common_builders.VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI))
    )


def name_stat_panel(
    pid: int, title: str, pos: Pos, query: Query, *, description: str
) -> stat.Panel:
    """A stat panel that shows the series names (legend text), e.g. config hash per service."""
    return (
        _base(stat.Panel(), pid, title, pos, [query], description)
        .text_mode(common.BigValueTextMode.NAME)
        .color_mode(common.BigValueColorMode.NONE)
        .graph_mode(common.BigValueGraphMode.NONE)
        .justify_mode(common.BigValueJustifyMode.AUTO)
        .orientation(common.VizOrientation.HORIZONTAL)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )


def table_panel(pid: int, title: str, pos: Pos, query: Query, *, description: str) -> table.Panel:
    """A table of an instant query, without the time column."""
    organize = models.DataTransformerConfig(
        id_val="organize", options={"excludeByName": {"Time": True}}
    )
    return (
        _base(table.Panel(), pid, title, pos, [query], description)
        .with_transformation(organize)
        .show_header(True)
    )
