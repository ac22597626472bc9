"""Draw a Grafana dashboard JSON as one PNG from Prometheus queries (no Grafana needed).

Reads standard dashboard JSON (`panels[]` with `type`, `title`, `gridPos` on a 24-column
grid, `targets[].expr` / `legendFormat` / `instant`, `fieldConfig` defaults and overrides,
`transformations`, `templating.list` variables, `annotations.list`), asks Prometheus for every
target (range queries; instant queries at the end of the range) and draws the panel types the
arbqos dashboard uses: time series, stat (cells with sparklines), state timeline, table and
rows, in a dark Grafana-like theme, with a title bar naming the UTC time range and a line of
the annotation events, which are also marked on every time axis. Other panel types are named
in their frame as not drawn.

Time series and stat panels apply `fieldConfig.overrides` per series (matchers `byFrameRefID`,
`byName`, `byNames`, `byRegexp`; properties such as `unit`, `min`, `max`, `decimals`,
`color`, `displayName`, `thresholds`, `custom.axisPlacement`, `custom.drawStyle`,
`custom.fillOpacity`, `custom.hideFrom`). Series of another unit or placement get their own
y axis, left, right (a twin axis, marked "(right y-axis)" in the legend) or hidden, as
Grafana does; the panel's thresholds stay on the axis of the default unit.

>>> result = render_snapshot(Path("dashboards/arb_qos.json"), "http://127.0.0.1:9090",
...                          Path("evidence/dashboard_after.png"), range_s=900,
...                          scrape_interval_s=1.0)
>>> result.panel_count, result.errors
(45, [])

Command line: `python -m arbqos_harness.snapshot DASHBOARD --prometheus URL --out PNG`.

Modules: `model` (results), `units` (durations, unit formatting, reducers), `variables`
(time range, step, template variables), `prometheus` (range queries), `fields` (field
config), `overrides` (per-series field config), `axes` (y axes of a time series), `theme`,
`layout` (grid to pixels), `canvas`, one drawer module per panel type (`timeseries`, `stat`,
`timeline`, `table`), `panels` (frame and dispatch), `annotations`, `render` (the entry
point) and `cli`.
"""

from arbqos_harness.snapshot.axes import AxisGroup, plan_axes
from arbqos_harness.snapshot.canvas import Canvas
from arbqos_harness.snapshot.cli import main
from arbqos_harness.snapshot.fields import FieldStyle
from arbqos_harness.snapshot.layout import (
    COL_PX,
    DPI,
    HEADER_PX,
    MARGIN_PX,
    ROW_PX,
    WIDTH_PX,
    flatten_panels,
    panel_box,
)
from arbqos_harness.snapshot.model import (
    PanelData,
    PanelReport,
    Series,
    SnapshotError,
    SnapshotResult,
)
from arbqos_harness.snapshot.overrides import SeriesField, resolve_fields
from arbqos_harness.snapshot.prometheus import PromRange, fetch_panels, legend_name
from arbqos_harness.snapshot.render import draw_dashboard, load_dashboard, render_snapshot
from arbqos_harness.snapshot.theme import (
    BG,
    BORDER,
    GRAFANA_DEFAULT_STEPS,
    GRID,
    MUTED,
    NAMED_COLORS,
    PANEL_BG,
    SERIES_COLORS,
    TEXT,
    color_of,
)
from arbqos_harness.snapshot.units import format_value, parse_duration, prom_duration, reduce_values
from arbqos_harness.snapshot.variables import (
    Variables,
    choose_step,
    dashboard_range_s,
    resolve_variables,
)

__all__ = [
    "BG",
    "BORDER",
    "COL_PX",
    "DPI",
    "GRAFANA_DEFAULT_STEPS",
    "GRID",
    "HEADER_PX",
    "MARGIN_PX",
    "MUTED",
    "NAMED_COLORS",
    "PANEL_BG",
    "ROW_PX",
    "SERIES_COLORS",
    "TEXT",
    "WIDTH_PX",
    "AxisGroup",
    "Canvas",
    "FieldStyle",
    "PanelData",
    "PanelReport",
    "PromRange",
    "Series",
    "SeriesField",
    "SnapshotError",
    "SnapshotResult",
    "Variables",
    "choose_step",
    "color_of",
    "dashboard_range_s",
    "draw_dashboard",
    "fetch_panels",
    "flatten_panels",
    "format_value",
    "legend_name",
    "load_dashboard",
    "main",
    "panel_box",
    "parse_duration",
    "plan_axes",
    "prom_duration",
    "reduce_values",
    "render_snapshot",
    "resolve_fields",
    "resolve_variables",
]
