"""Dashboard snapshot pieces: units, variables, thresholds, mappings, layout, PNG output."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import matplotlib.image
import pytest

from arbqos_harness.snapshot import (
    Canvas,
    FieldStyle,
    PanelData,
    Series,
    SnapshotError,
    choose_step,
    draw_dashboard,
    flatten_panels,
    format_value,
    legend_name,
    load_dashboard,
    panel_box,
    parse_duration,
    reduce_values,
    resolve_variables,
)
from arbqos_harness.snapshot.annotations import Event, event_line, events_of
from arbqos_harness.snapshot.axes import axis_margins, plan_axes
from arbqos_harness.snapshot.overrides import grafana_regex, matches, resolve_fields
from arbqos_harness.snapshot.panels import draw_panel
from arbqos_harness.snapshot.stat import _grid
from arbqos_harness.snapshot.table import build_table, column_style
from arbqos_harness.snapshot.theme import series_color
from tests.conftest import REPO_ROOT

END = datetime(2026, 11, 26, 13, 15, tzinfo=UTC)
START = END - timedelta(minutes=15)


@pytest.mark.parametrize(
    ("value", "unit", "decimals", "text"),
    [
        (0.25, "s", None, "250 ms"),
        (12.0, "s", None, "12 s"),
        (90.0, "s", None, "1.5 min"),
        (1500.0, "ms", None, "1.5 s"),
        (0.934, "percentunit", None, "93.4%"),
        (0.5, "percentunit", 1, "50.0%"),
        (42.0, "percent", None, "42%"),
        (1234.5, "currencyUSD", None, "$1.23K"),
        (14.2, "currencyUSD", None, "$14.2"),
        (3.0, "reqps", None, "3 req/s"),
        (25_000.0, "short", None, "25 K"),
        (7.0, "none", None, "7"),
        (30.0, "suffix:gwei", None, "30gwei"),
        (12.5, "bps", None, "12.5 bps"),
        (1.0, "bool", None, "True"),
        (float("nan"), "s", None, "No data"),
        (None, "s", None, "No data"),
        (float("inf"), "s", None, "+Inf"),
    ],
)
def test_format_value_units(
    value: float | None, unit: str, decimals: int | None, text: str
) -> None:
    assert format_value(value, unit, decimals) == text


def test_format_date_units() -> None:
    ts = (END.timestamp() - 30) * 1000  # Grafana date units take milliseconds
    assert format_value(ts, "dateTimeAsIso") == "2026-11-26 13:14:30"
    assert format_value(ts, "dateTimeFromNow", now=END) == "30 s ago"


def test_reducers() -> None:
    values = [1.0, math.nan, 4.0, 2.0]
    assert reduce_values(values, "lastNotNull") == 2.0
    assert reduce_values(values, "max") == 4.0
    assert reduce_values(values, "mean") == pytest.approx(7 / 3)
    assert reduce_values([1.0, math.nan], "last") is not None and math.isnan(
        reduce_values([1.0, math.nan], "last") or 0.0
    )
    assert reduce_values([math.nan], "lastNotNull") is None
    assert reduce_values([], "bogus") is None


def test_durations_and_steps() -> None:
    assert parse_duration("15m") == 900 and parse_duration("500ms") == 0.5
    with pytest.raises(ValueError, match="expected a number"):
        parse_duration("15 minutes")
    assert choose_step(900, 1.0) == 3.0
    assert choose_step(60, 15.0) == 15.0


DASHBOARD: dict[str, Any] = {
    "title": "t",
    "templating": {
        "list": [
            {"name": "datasource", "type": "datasource", "query": "prometheus"},
            {"name": "venue", "type": "query", "includeAll": True, "current": {"value": "$__all"}},
            {"name": "chain", "type": "custom", "query": "sx_rollup,polygon"},
            {"name": "pick", "type": "query", "multi": True, "current": {"value": ["a", "b"]}},
            {"name": "found", "type": "query", "query": "label_values(up, job)"},
        ]
    },
    "panels": [],
}


def test_variables_resolve_and_substitute() -> None:
    variables = resolve_variables(
        DASHBOARD,
        overrides={},
        step_s=3.0,
        range_s=900.0,
        scrape_interval_s=1.0,
        rate_interval=None,
        label_values=lambda label, match: ["node", "prometheus"] if label == "job" else [],
    )
    assert variables.values["__rate_interval"] == "4s"  # max(step + scrape, 4 x scrape)
    assert variables.values["venue"] == ".*"
    assert variables.values["chain"] == "sx_rollup"
    assert variables.values["pick"] == "(a|b)"
    assert variables.values["found"] == "node"
    expr = 'sum(rate(x{venue="$venue", chain="${chain}", p=~"[[pick]]"}[$__rate_interval]))'
    assert variables.apply(expr) == ('sum(rate(x{venue=~".*", chain="sx_rollup", p=~"(a|b)"}[4s]))')
    assert variables.apply("$unknown_var + 1") == "$unknown_var + 1"
    chosen = resolve_variables(
        DASHBOARD,
        overrides={"venue": "sx"},
        step_s=15,
        range_s=3600,
        scrape_interval_s=15,
        rate_interval="1m",
    )
    assert chosen.apply('x{venue="$venue"}[$__rate_interval]') == 'x{venue="sx"}[1m]'


def test_field_style_thresholds_and_mappings() -> None:
    panel = {
        "fieldConfig": {
            "defaults": {
                "unit": "percentunit",
                "thresholds": {
                    "mode": "absolute",
                    "steps": [
                        {"color": "red", "value": None},
                        {"color": "green", "value": 0.9},
                    ],
                },
                "mappings": [
                    {"type": "value", "options": {"1": {"text": "PAUSED", "color": "red"}}},
                    {"type": "range", "options": {"from": 2, "to": 5, "result": {"text": "mid"}}},
                    {"type": "special", "options": {"match": "null", "result": {"text": "none"}}},
                ],
            }
        }
    }
    style = FieldStyle.of(panel)
    assert style.display(0.95)[0] == "95%" and style.display(0.95)[1] == "#73BF69"
    assert style.display(0.5)[1] == "#F2495C"
    assert style.display(1.0) == ("PAUSED", "#F2495C")
    assert style.display(3.0)[0] == "mid"
    assert style.display(None)[0] == "none"
    assert style.graph_thresholds() == [(0.9, "#73BF69")]
    template = FieldStyle.of(
        {
            "fieldConfig": {
                "defaults": {
                    "thresholds": {
                        "steps": [{"color": "green", "value": None}, {"color": "red", "value": 80}]
                    }
                }
            }
        }
    )
    assert template.graph_thresholds() == []  # Grafana's untouched default is not drawn


def test_legend_names() -> None:
    series = Series({"__name__": "up", "job": "arb", "venue": "sx"}, [], [])
    assert legend_name(series, "{{venue}} / {{job}}", "up") == "sx / arb"
    assert legend_name(series, None, "up") == 'up{job="arb", venue="sx"}'
    assert legend_name(Series({}, [], []), "__auto", "sum(up)") == "sum(up)"


def test_collapsed_rows_hide_their_panels() -> None:
    board = {
        "panels": [
            {"type": "row", "title": "A", "gridPos": {"x": 0, "y": 0, "w": 24, "h": 1}},
            {"type": "stat", "title": "s", "gridPos": {"x": 0, "y": 1, "w": 6, "h": 4}},
            {
                "type": "row",
                "title": "B",
                "collapsed": True,
                "gridPos": {"x": 0, "y": 5, "w": 24, "h": 1},
                "panels": [{"type": "stat", "gridPos": {"x": 0, "y": 6, "w": 6, "h": 4}}],
            },
        ]
    }
    assert [p["title"] for p in flatten_panels(board)] == ["A", "s", "B"]


def test_load_dashboard_errors(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="panels"):
        load_dashboard({"title": "no panels"})
    with pytest.raises(SnapshotError, match="cannot read"):
        load_dashboard(tmp_path / "missing.json")
    wrapped = load_dashboard({"dashboard": {"panels": []}, "meta": {}})
    assert wrapped == {"panels": []}


def _series(name: str, values: list[float]) -> Series:
    step = (END - START) / (len(values) - 1)
    return Series({"venue": name}, [START + step * i for i in range(len(values))], values, name)


REASONS_TABLE: dict[str, Any] = {
    "type": "table",
    "title": "Why paused",
    "transformations": [
        {"id": "merge", "options": {}},
        {
            "id": "filterFieldsByName",
            "options": {"include": {"names": ["reason", "class", "Value #A", "Value #B"]}},
        },
        {
            "id": "organize",
            "options": {
                "indexByName": {"reason": 0, "Value #A": 1, "Value #B": 2, "class": 3},
                "renameByName": {"Value #A": "since", "Value #B": "for", "class": "lifted by"},
            },
        },
    ],
    "fieldConfig": {
        "defaults": {},
        "overrides": [
            {
                "matcher": {"id": "byName", "options": "lifted by"},
                "properties": [
                    {
                        "id": "mappings",
                        "value": [
                            {"type": "value", "options": {"qos": {"text": "admin", "color": "red"}}}
                        ],
                    },
                    {"id": "custom.cellOptions", "value": {"type": "color-background"}},
                ],
            },
            {
                "matcher": {"id": "byName", "options": "since"},
                "properties": [{"id": "unit", "value": "dateTimeAsIso"}],
            },
            {
                "matcher": {"id": "byName", "options": "for"},
                "properties": [{"id": "unit", "value": "s"}],
            },
        ],
    },
}
_REASON = {"source": "guard", "reason": "ArbFillRatioLow", "class": "qos", "__name__": ""}
REASON_SERIES = [
    Series(_REASON, [END], [(END.timestamp() - 90) * 1000], "", "A"),
    Series(_REASON, [END], [90.0], "", "B"),
    Series({**_REASON, "reason": "StateLost", "class": "manual"}, [END], [0.0], "", "A"),
]


def test_tables_merge_queries_and_follow_organize() -> None:
    table = build_table(REASONS_TABLE, REASON_SERIES)
    assert table.headers == ["reason", "since", "for", "lifted by"]
    assert table.rows == [
        ["ArbFillRatioLow", (END.timestamp() - 90) * 1000, 90.0, "qos"],
        ["StateLost", 0.0, None, "manual"],
    ]
    style, filled = column_style(REASONS_TABLE, "lifted by")
    assert filled and style.mapped_text("qos") == ("admin", "red")
    assert column_style(REASONS_TABLE, "since")[0].unit == "dateTimeAsIso"


def test_stat_cells_share_the_panel_as_names_and_sparklines_allow() -> None:
    assert _grid(["sx", "azuro"], 290, 110, 70) == (2, 1)  # side by side, room for a sparkline
    names = [f"service-{i} 14b9e5cd3d7c" for i in range(5)]
    cols, rows = _grid(names, 430, 140, 30)
    assert cols * rows >= 5 and rows >= 3  # long names: stacked lines


def test_annotation_series_become_regions_and_events() -> None:
    t = [START + timedelta(seconds=10 * i) for i in range(10)]
    region = Series({"reason": "ArbRpcDown"}, t[:3] + t[6:8], [1.0] * 5)
    loaded = Series({"service": "heartbeat"}, t, [START.timestamp() * 1000] * 10)
    events = events_of({"titleFormat": "paused: {{reason}}", "iconColor": "red"}, [region], 10)
    assert [(e.start, e.end, e.title) for e in events] == [
        (t[0], t[2], "paused: ArbRpcDown"),
        (t[6], t[7], "paused: ArbRpcDown"),
    ]
    (event,) = events_of(
        {"titleFormat": "{{service}} loaded", "useValueForTime": True}, [loaded], 10
    )
    assert event.start == event.end == START and event.title == "heartbeat loaded"
    assert event_line(events)[0] == ("13:00:00-13:00:20 paused: ArbRpcDown", "#F2495C")


def test_draw_without_prometheus_lays_out_every_panel(tmp_path: Path) -> None:
    wave = [0.2 + 0.1 * math.sin(i / 5) for i in range(60)]
    panels = [
        ({"type": "row", "title": "Execution", "gridPos": {"x": 0, "y": 0, "w": 24, "h": 1}}, []),
        (
            {
                "type": "timeseries",
                "title": "Accept p95",
                "gridPos": {"x": 0, "y": 1, "w": 12, "h": 8},
                "fieldConfig": {"defaults": {"unit": "s"}},
            },
            [_series("sx", wave), _series("azuro", [v * 2 for v in wave])],
        ),
        (
            {"type": "stat", "title": "Paused", "gridPos": {"x": 12, "y": 1, "w": 4, "h": 4}},
            [_series("", [0.0] * 30 + [1.0] * 30)],
        ),
        (
            {
                "type": "stat",
                "title": "Fill and legs above cap",
                "gridPos": {"x": 16, "y": 1, "w": 8, "h": 4},
                "fieldConfig": {
                    "defaults": {"unit": "percentunit"},
                    "overrides": [_override("byFrameRefID", "B", unit="short")],
                },
            },
            [_series("fill", [0.93] * 60), _ref(_series("above cap", [2.0] * 60), "B")],
        ),
        (
            {
                "type": "state-timeline",
                "title": "Up",
                "gridPos": {"x": 12, "y": 5, "w": 12, "h": 4},
            },
            [_series("arbitrum", [1.0] * 20 + [0.0] * 10 + [1.0] * 30)],
        ),
        (
            REASONS_TABLE | {"gridPos": {"x": 0, "y": 9, "w": 16, "h": 4}},
            REASON_SERIES,
        ),
        (
            {"type": "piechart", "title": "Pie", "gridPos": {"x": 16, "y": 9, "w": 8, "h": 4}},
            [_series("sx", [1.0, 2.0])],
        ),
    ]
    data = [PanelData(panel, series) for panel, series in panels]
    out = tmp_path / "draw.png"
    paused = Event(START + timedelta(minutes=5), START + timedelta(minutes=8), "#F2495C", "p", "")
    width, height = draw_dashboard(
        {"title": "Drawn"},
        data,
        out,
        start=START,
        end=END,
        variables={"venue": ".*"},
        events=[paused],
    )
    image = matplotlib.image.imread(out)
    assert image.shape[:2] == (height, width) == (100 + 13 * 36 + 12, 1800)
    assert all(not item.errors for item in data)
    for item in data:
        x, y, w, h = panel_box(item.panel)
        region = image[int(y) : int(y + h), int(x) : int(x + w), :3]
        assert region.std() > 0.02, f"panel {item.title!r} looks empty"


def _override(matcher: str, options: Any, **props: Any) -> dict[str, Any]:
    return {
        "matcher": {"id": matcher, "options": options},
        "properties": [{"id": key.replace("__", "."), "value": v} for key, v in props.items()],
    }


def _ref(series: Series, ref_id: str) -> Series:
    series.ref_id = ref_id
    return series


PERCENT_THRESHOLDS = {
    "mode": "absolute",
    "steps": [{"color": "green", "value": None}, {"color": "red", "value": 0.05}],
}
STAKE_PANEL: dict[str, Any] = {
    "type": "timeseries",
    "title": "Stake per leg and legs above the cap",
    "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
    "fieldConfig": {
        "defaults": {
            "unit": "percentunit",
            "min": 0,
            "thresholds": PERCENT_THRESHOLDS,
            "custom": {"fillOpacity": 10, "thresholdsStyle": {"mode": "dashed"}},
        },
        "overrides": [
            _override("byFrameRefID", "B", unit="short", custom__axisPlacement="right"),
        ],
    },
}


def test_overrides_resolve_per_series() -> None:
    panel = {
        "fieldConfig": {
            "defaults": {"unit": "s", "decimals": 1, "custom": {"drawStyle": "line"}},
            "overrides": [
                _override("byFrameRefID", "B", unit="short", custom__axisPlacement="right"),
                _override("byName", "p95 sx", color={"mode": "fixed", "fixedColor": "red"}),
                _override(
                    "byRegexp",
                    "errors .*",
                    min=0,
                    max="100",
                    decimals=0,
                    custom__drawStyle="bars",
                    custom__fillOpacity=40,
                    displayName="${__field.labels.venue} errors (${__series.name})",
                ),
                _override("byRegexp", "/AZURO/i", custom__axisPlacement="hidden"),
                _override("byRegexp", "sx", unit="ms"),  # whole name only: matches nothing
                _override("byFrameRefID", "B", unit="reqps"),  # a later override wins
            ],
        }
    }
    series = [
        _ref(_series("p95 sx", [1.0, 2.0]), "A"),
        _ref(_series("errors sx", [3.0, 4.0]), "B"),
        _ref(_series("p95 azuro", [1.0, 1.5]), "A"),
    ]
    p95_sx, errors, p95_azuro = resolve_fields(panel, series)
    assert (p95_sx.style.unit, p95_sx.placement, p95_sx.color) == ("s", "auto", "#F2495C")
    assert p95_sx.style.decimals == 1 and p95_sx.name == "p95 sx"
    assert (errors.style.unit, errors.placement) == ("reqps", "right")
    assert (errors.style.min, errors.style.max, errors.style.decimals) == (0.0, 100.0, 0)
    assert errors.style.custom["drawStyle"] == "bars" and errors.style.custom["fillOpacity"] == 40
    assert errors.name == "errors sx errors (errors sx)"
    assert errors.color == series_color(1)  # palette by position, as Grafana's classic palette
    assert p95_azuro.placement == "hidden" and p95_azuro.style.unit == "s"
    assert series[1].name == "errors sx"  # the display name does not rename the query result
    assert p95_sx.scale_key != p95_azuro.scale_key != errors.scale_key


def test_grafana_regex_and_matchers() -> None:
    assert grafana_regex("p9[59] .*") is not None
    assert matches({"id": "byRegexp", "options": "p9[59] .*"}, Series({}, [], [], "p95 sx"))
    assert not matches({"id": "byRegexp", "options": "p95"}, Series({}, [], [], "p95 sx"))
    assert matches({"id": "byRegexp", "options": "/P95/i"}, Series({}, [], [], "a p95 b"))
    assert not matches({"id": "byRegexp", "options": "(unclosed"}, Series({}, [], [], "x"))
    names = {"id": "byNames", "options": {"mode": "exclude", "names": ["a"]}}
    assert matches(names, Series({}, [], [], "b")) and not matches(names, Series({}, [], [], "a"))
    assert not matches({"id": "byValue", "options": {}}, Series({}, [], [], "a"))


def test_axes_plan_sides_and_thresholds() -> None:
    series = [
        _ref(_series("p99 sx", [0.01, 0.02]), "A"),
        _ref(_series("above cap sx", [0.0, 240.0]), "B"),
    ]
    groups = plan_axes(resolve_fields(STAKE_PANEL, series), FieldStyle.of(STAKE_PANEL))
    assert [(g.side, g.style.unit, len(g.fields)) for g in groups] == [
        ("left", "percentunit", 1),
        ("right", "short", 1),
    ]
    assert groups[0].thresholds is not None and groups[1].thresholds is None
    # A different unit without a placement still gets its own axis: on the right (auto).
    auto = {
        "fieldConfig": {
            "defaults": {"unit": "s"},
            "overrides": [_override("byName", "n", unit="short")],
        }
    }
    fields = resolve_fields(auto, [_series("d", [1.0, 2.0]), _series("n", [3.0, 4.0])])
    assert [g.side for g in plan_axes(fields, FieldStyle.of(auto))] == ["left", "right"]
    # An explicit right axis first leaves the left one to the next scale; hidden draws no axis.
    placed = {
        "fieldConfig": {
            "defaults": {"unit": "s"},
            "overrides": [
                _override("byName", "d", custom__axisPlacement="right"),
                _override("byName", "h", unit="bytes", custom__axisPlacement="hidden"),
                _override("byName", "m", unit="ms", custom__axisPlacement="left"),
            ],
        }
    }
    named = [_series(n, [1.0, 2.0]) for n in ("d", "n", "h", "m", "d2")]
    groups = plan_axes(resolve_fields(placed, named), FieldStyle.of(placed))
    assert [(g.side, [f.name for f in g.fields]) for g in groups] == [
        ("right", ["d"]),
        ("left", ["n", "d2"]),
        ("hidden", ["h"]),
        ("left", ["m"]),
    ]
    assert axis_margins(groups) == (8 + 2 * 54, 8 + 54)
    # Thresholds carried by an override are drawn on that series' axis.
    own = {
        "fieldConfig": {
            "defaults": {"unit": "percentunit", "thresholds": PERCENT_THRESHOLDS},
            "overrides": [
                _override(
                    "byFrameRefID",
                    "B",
                    unit="short",
                    custom__axisPlacement="right",
                    thresholds={"steps": [{"color": "red", "value": 10}]},
                )
            ],
        }
    }
    groups = plan_axes(resolve_fields(own, series), FieldStyle.of(own))
    assert [g.thresholds.graph_thresholds() if g.thresholds else None for g in groups] == [
        [(0.05, "#F2495C")],
        [(10.0, "#F2495C")],
    ]


def test_committed_dashboard_overrides_move_counts_to_the_right_axis() -> None:
    board = load_dashboard(REPO_ROOT / "dashboards" / "arb_qos.json")
    panels = {p.get("title", ""): p for p in flatten_panels(board)}
    checked = set()
    for title, panel in panels.items():
        overrides = (panel.get("fieldConfig") or {}).get("overrides") or []
        if "custom.axisPlacement" not in str(overrides):
            continue
        refs = [str(t["refId"]) for t in panel["targets"]]
        series = [_ref(_series(f"{title} {ref}", [0.0, 1.0]), ref) for ref in refs]
        groups = plan_axes(resolve_fields(panel, series), FieldStyle.of(panel))
        assert len(groups) == 2, title
        assert (groups[0].side, groups[1].side) == ("left", "right"), title
        assert groups[1].style.unit == "short" and groups[1].thresholds is None, title
        checked.add(title)
    assert any(t.startswith("Stake per leg") for t in checked)


def _tick_labels(ax: Any) -> list[str]:
    low, high = ax.get_ylim()
    formatter = ax.yaxis.get_major_formatter()
    return [formatter(v, i) for i, v in enumerate(ax.get_yticks()) if low <= v <= high]


def test_right_axis_is_drawn_with_its_own_unit() -> None:
    percent = [0.01 + 0.002 * (i % 5) for i in range(60)]
    counts = [float(i * 4) for i in range(60)]  # up to 236 legs: far above 1.0 (100 %)
    item = PanelData(
        STAKE_PANEL,
        [
            _ref(_series("p99 sx", percent), "A"),
            _ref(_series("legs above cap sx", counts), "B"),
        ],
    )
    canvas = Canvas(8)
    draw_panel(canvas, item, panel_box(STAKE_PANEL), START, END)
    canvas.figure.canvas.draw()
    plots = [ax for ax in canvas.figure.axes if ax is not canvas.base]
    assert len(plots) == 2
    by_side = {ax.yaxis.get_ticks_position(): ax for ax in plots}
    left, right = by_side["left"], by_side["right"]
    assert left.get_ylim()[1] < 0.1  # the count no longer stretches the percent axis
    assert right.get_ylim()[1] >= 236
    left_labels, right_labels = _tick_labels(left), _tick_labels(right)
    assert left_labels and all(t.endswith("%") for t in left_labels)
    assert right_labels and not any("%" in t for t in right_labels)
    assert "200" in right_labels
    dashed = [line.get_ydata()[0] for line in left.lines if line.get_linestyle() == "--"]
    assert dashed == [0.05]
    assert not [line for line in right.lines if line.get_linestyle() == "--"]
    texts = [t.get_text() for t in canvas.base.texts]
    assert "(right y-axis)" in texts and texts.count("(right y-axis)") == 1


def test_series_styles_and_extra_axes_are_drawn() -> None:
    panel = {
        "type": "timeseries",
        "title": "Styles",
        "gridPos": {"x": 0, "y": 0, "w": 24, "h": 8},
        "fieldConfig": {
            "defaults": {"unit": "s", "custom": {"lineInterpolation": "stepAfter"}},
            "overrides": [
                _override("byName", "bars", unit="short", custom__drawStyle="bars"),
                _override("byName", "points", custom__drawStyle="points", unit="ms"),
                _override("byName", "points", custom__axisPlacement="left"),
                _override("byName", "ghost", unit="bytes", custom__axisPlacement="hidden"),
                _override("byName", "quiet", custom__hideFrom={"legend": True, "viz": False}),
            ],
        },
    }
    wave = [1.0 + (i % 7) for i in range(30)]
    item = PanelData(
        panel, [_series(n, wave) for n in ("step", "bars", "points", "ghost", "quiet")]
    )
    canvas = Canvas(8)
    draw_panel(canvas, item, panel_box(panel), START, END)
    plots = [ax for ax in canvas.figure.axes if ax is not canvas.base]
    assert len(plots) == 4  # s (with quiet), short on the right, ms on a second left, bytes hidden
    step_ax, bars_ax, points_ax, ghost_ax = plots
    assert [line.get_drawstyle() for line in step_ax.lines] == ["steps-post", "steps-post"]
    assert len(bars_ax.patches) == 30 and bars_ax.yaxis.get_ticks_position() == "right"
    assert points_ax.lines[0].get_marker() == "o" and points_ax.lines[0].get_linestyle() == "None"
    assert points_ax.yaxis.get_ticks_position() == "left"
    assert points_ax.spines["left"].get_position() == ("outward", 54 * 72 / 100)
    assert not ghost_ax.yaxis.get_visible() and len(ghost_ax.lines) == 1
    texts = [t.get_text() for t in canvas.base.texts]
    assert "quiet" not in texts and "ghost" in texts and texts.count("(right y-axis)") == 1
