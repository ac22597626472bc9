"""Dashboard snapshot pieces: units, variables, thresholds, mappings, layout, PNG output."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import matplotlib.image
import pytest

from arbqos.demo.snapshot import (
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
    ts = END.timestamp() - 30
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
                "type": "gauge",
                "title": "Fill",
                "gridPos": {"x": 16, "y": 1, "w": 8, "h": 4},
                "fieldConfig": {"defaults": {"unit": "percentunit", "min": 0, "max": 1}},
            },
            [_series("", [0.93] * 60)],
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
            {"type": "table", "title": "T", "gridPos": {"x": 0, "y": 9, "w": 8, "h": 4}},
            [_series("sx", [1.0, 2.0])],
        ),
        (
            {
                "type": "text",
                "title": "Notes",
                "gridPos": {"x": 8, "y": 9, "w": 8, "h": 4},
                "options": {"content": "# Runbook\nPause **first**, then look."},
            },
            [],
        ),
        (
            {"type": "piechart", "title": "Pie", "gridPos": {"x": 16, "y": 9, "w": 8, "h": 4}},
            [_series("sx", [1.0, 2.0])],
        ),
    ]
    data = [PanelData(panel, series) for panel, series in panels]
    out = tmp_path / "draw.png"
    width, height = draw_dashboard(
        {"title": "Drawn"}, data, out, start=START, end=END, variables={"venue": ".*"}
    )
    image = matplotlib.image.imread(out)
    assert image.shape[:2] == (height, width) == (64 + 13 * 36 + 12, 1800)
    assert all(not item.errors for item in data)
    for item in data:
        x, y, w, h = panel_box(item.panel)
        region = image[int(y) : int(y + h), int(x) : int(x + w), :3]
        assert region.std() > 0.02, f"panel {item.title!r} looks empty"
