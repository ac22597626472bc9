"""Panel building blocks over grafana-foundation-sdk: queries, grid, colours, time series, rows.

Every panel and query points at the `datasource` variable; ids and positions are given, never
computed by the SDK, so re-rendering is deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

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

GREEN, AMBER, RED, GREY = "green", "orange", "red", "text"
"""Grafana colour names: good, look soon, act now, not a live value."""


@dataclass(frozen=True)
class Query:
    """One PromQL target of a panel; `table` asks for one row per series (instant)."""

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
class Steps:
    """Threshold colours: `base` below the first limit, then `(limit, colour)` upwards."""

    base: str
    limits: tuple[tuple[float, str], ...] = ()

    def config(self) -> dashboard_builders.ThresholdsConfig:
        """The SDK thresholds."""
        steps = [models.Threshold(value=None, color=self.base)]
        steps += [models.Threshold(value=limit, color=colour) for limit, colour in self.limits]
        return (
            dashboard_builders.ThresholdsConfig().mode(models.ThresholdsMode.ABSOLUTE).steps(steps)
        )

    def model(self) -> models.ThresholdsConfig:
        """The thresholds as a model, for field overrides."""
        return self.config().build()


def above(limit: float, *, warn: float | None = None) -> Steps:
    """Green, amber from `warn`, red from `limit` (bad when high)."""
    limits = ((warn, AMBER),) if warn is not None else ()
    return Steps(GREEN, (*limits, (limit, RED)))


def below(limit: float, *, warn: float | None = None) -> Steps:
    """Red below `limit`, amber below `warn`, green above (bad when low)."""
    limits = ((warn, GREEN),) if warn is not None else ()
    return Steps(RED, ((limit, AMBER if warn is not None else GREEN), *limits))


@dataclass(frozen=True)
class Threshold:
    """A threshold drawn as a dashed line; `bad_below` colours values under it red."""

    value: float
    bad_below: bool = False

    def steps(self) -> Steps:
        """Two colours around the line."""
        return below(self.value) if self.bad_below else above(self.value)


@dataclass(frozen=True)
class States:
    """Value mappings: exact values (`"1"`, `"infra"`) to (text, colour), and no data."""

    values: Mapping[str, tuple[str, str]]
    missing: tuple[str, str] | None = None

    def mappings(self) -> list[Any]:
        """The SDK value mappings."""
        out: list[Any] = [
            models.ValueMap(
                options={
                    key: models.ValueMappingResult(text=text, color=colour, index=index)
                    for index, (key, (text, colour)) in enumerate(self.values.items())
                }
            )
        ]
        if self.missing is not None:
            text, colour = self.missing
            result = models.ValueMappingResult(text=text, color=colour, index=len(self.values))
            options = models.DashboardSpecialValueMapOptions(
                match=models.SpecialValueMatch.NULL_AND_NAN, result=result
            )
            out.append(models.SpecialValueMap(options=options))
        return out


@dataclass(frozen=True)
class Override:
    """Field config of the series of one query (`ref`) or of one field name (`name`)."""

    ref: str = ""
    name: str = ""
    props: Mapping[str, Any] = field(default_factory=dict)

    def apply(self, panel: Any) -> Any:
        """Add the override to an SDK panel builder."""
        values = [models.DynamicConfigValue(id_val=k, value=v) for k, v in self.props.items()]
        if self.ref:
            return panel.override_by_query(self.ref, values)
        return panel.override_by_name(self.name, values)


def ref_id(index: int) -> str:
    """`A`, `B`, ... for the queries of a panel."""
    return chr(ord("A") + index)


def _targets(queries: Sequence[Query]) -> list[Builder[Dataquery]]:
    targets: list[Builder[Dataquery]] = []
    for index, query in enumerate(queries):
        target = (
            prometheus.Dataquery()
            .expr(query.expr)
            .legend_format(query.legend)
            .ref_id(ref_id(index))
            .datasource(DATASOURCE)
        )
        if query.table:
            target = target.format(PromQueryFormat.TABLE)
        targets.append(target.instant() if query.instant or query.table else target.range())
    return targets


PanelT = TypeVar("PanelT", timeseries.Panel, stat.Panel, table.Panel, statetimeline.Panel)


def base(
    panel: PanelT,
    pid: int,
    title: str,
    pos: Pos,
    queries: Sequence[Query],
    description: str,
    overrides: Sequence[Override] = (),
) -> PanelT:
    """Fields every panel sets: id, title, description, data source, position, targets."""
    built = (
        panel.id(pid)
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .grid_pos(pos.grid())
        .targets(_targets(queries))
    )
    for override in overrides:
        built = override.apply(built)
    return built


def legend() -> common_builders.VizLegendOptions:
    """A list legend under the graph."""
    return (
        common_builders.VizLegendOptions()
        .display_mode(common.LegendDisplayMode.LIST)
        .placement(common.LegendPlacement.BOTTOM)
        .show_legend(True)
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
    overrides: Sequence[Override] = (),
    bars: bool = False,
    no_value: str = "",
) -> timeseries.Panel:
    """A time series panel; `right_axis` maps a query refId to its unit on the right axis."""
    panel = (
        base(timeseries.Panel(), pid, title, pos, queries, description)
        .unit(unit)
        .legend(legend())
        .tooltip(common_builders.VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI))
        .line_width(1)
        .fill_opacity(60 if bars else 10)
        .show_points(common.VisibilityMode.NEVER)
        .color_scheme(dashboard_builders.FieldColor().mode(models.FieldColorModeId.PALETTE_CLASSIC))
    )
    if bars:
        panel = panel.draw_style(common.GraphDrawStyle.BARS)
    if no_value:
        panel = panel.no_value(no_value)
    if step:
        panel = panel.line_interpolation(common.LineInterpolation.STEP_AFTER)
    low, high = bounds
    if low is not None:
        panel = panel.min(low)
    if high is not None:
        panel = panel.max(high)
    if threshold is not None:
        panel = panel.thresholds(threshold.steps().config()).thresholds_style(
            common_builders.GraphThresholdsStyleConfig().mode(common.GraphTresholdsStyleMode.DASHED)
        )
    for ref, other_unit in sorted((right_axis or {}).items()):
        panel = Override(ref, props={"unit": other_unit, "custom.axisPlacement": "right"}).apply(
            panel
        )
    for override in overrides:
        panel = override.apply(panel)
    return panel


UP_DOWN = States({"1": ("up", GREEN), "0": ("down", RED)})


def timeline_panel(
    pid: int,
    title: str,
    pos: Pos,
    queries: Sequence[Query],
    *,
    description: str,
    states: States = UP_DOWN,
    overrides: Sequence[Override] = (),
) -> statetimeline.Panel:
    """A state timeline: one row per series, each value mapped to a text and a colour.

    Values without a mapping take the thresholds: red below 1 (unknown counts as bad).
    """
    return (
        base(statetimeline.Panel(), pid, title, pos, queries, description, overrides)
        .mappings(states.mappings())
        .thresholds(below(1).config())
        .color_scheme(dashboard_builders.FieldColor().mode(models.FieldColorModeId.THRESHOLDS))
        .show_value(common.VisibilityMode.AUTO)
        .merge_values(True)
        .row_height(0.9)
        .fill_opacity(80)
        .line_width(0)
        .legend(legend())
        .tooltip(common_builders.VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI))
    )


def row(pid: int, title: str, y: int) -> dashboard_builders.Row:
    """An expanded row header across the grid at height `y`."""
    return dashboard_builders.Row(title).id(pid).grid_pos(Pos(0, y, 24, 1).grid())
