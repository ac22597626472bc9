"""The Grafana dashboard: layout, data source variable, thresholds from config, valid PromQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from arbqos.config import ArbqosConfig, ExecConfig, RiskConfig
from arbqos.generators.dashboard import build_dashboard
from arbqos.generators.render import DASHBOARD_PATH, RULES_PATH, render_all
from arbqos.generators.rules import build_rule_groups
from arbqos.instrument.calls import ERROR_CLASSES
from tests.conftest import REPO_ROOT
from tests.generators.conftest import run_tool
from tests.generators.promql_names import known_series, metric_names
from tests.generators.promtool_cases import selector, series

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
VARIABLES = {"$venue": "sx|azuro", "$__rate_interval": "1m"}


def expressions(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, PromQL) for every panel target and annotation."""
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            yield f"panel {panel['id']} {target['refId']}", target["expr"]
    for annotation in dashboard["annotations"]["list"]:
        yield f"annotation {annotation['name']}", annotation["expr"]


def panel(dashboard: dict[str, Any], title_part: str) -> dict[str, Any]:
    (found,) = [p for p in dashboard["panels"] if title_part in p["title"]]
    return found


def threshold_steps(p: dict[str, Any]) -> list[float | None]:
    return [step["value"] for step in p["fieldConfig"]["defaults"]["thresholds"]["steps"]]


def datasource_refs(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                yield value
            else:
                yield from datasource_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from datasource_refs(item)


def test_every_data_source_reference_is_the_variable() -> None:
    dashboard = build_dashboard(ArbqosConfig())
    refs = list(datasource_refs(dashboard))
    assert len(refs) > 40
    assert all(ref == DATASOURCE for ref in refs), [r for r in refs if r != DATASOURCE]
    uids = re.findall(r'"uid": "([^"]*)"', json.dumps(dashboard))
    assert set(uids) == {"${datasource}", "arbqos-qos"}


def test_variables() -> None:
    templating = {v["name"]: v for v in build_dashboard(ArbqosConfig())["templating"]["list"]}
    assert templating["datasource"]["type"] == "datasource"
    assert templating["datasource"]["query"] == "prometheus"
    venue = templating["venue"]
    assert venue["query"] == "label_values(arb_orders_submitted_total, venue)"
    assert venue["includeAll"] and venue["multi"]


def test_panel_ids_and_grid_are_stable_and_do_not_overlap() -> None:
    panels = build_dashboard(ArbqosConfig())["panels"]
    assert [p["id"] for p in panels] == list(range(1, len(panels) + 1))
    cells: set[tuple[int, int]] = set()
    for p in panels:
        pos = p["gridPos"]
        assert pos["x"] + pos["w"] <= 24
        own = {
            (x, y)
            for x in range(pos["x"], pos["x"] + pos["w"])
            for y in range(pos["y"], pos["y"] + pos["h"])
        }
        assert not own & cells, p["title"]
        cells |= own


def test_time_series_panels_have_units() -> None:
    for p in build_dashboard(ArbqosConfig())["panels"]:
        if p["type"] == "timeseries":
            assert p["fieldConfig"]["defaults"]["unit"], p["title"]
    dashboard = build_dashboard(ArbqosConfig())
    assert panel(dashboard, "Wallet balances")["fieldConfig"]["defaults"]["unit"] == "currencyUSD"
    assert panel(dashboard, "Fill ratio")["fieldConfig"]["defaults"]["unit"] == "percentunit"
    assert panel(dashboard, "Accept time p50")["fieldConfig"]["defaults"]["unit"] == "s"


def test_required_panels_are_present() -> None:
    titles = " | ".join(p["title"] for p in build_dashboard(ArbqosConfig())["panels"])
    for part in (
        "Accept time p50 / p95 by venue and phase",
        "Fill ratio",
        "Quote to fill time",
        "Slippage",
        "Partial fills",
        "Void rate",
        "API error ratio",
        "API latency",
        "Wallet balances",
        "Gas price",
        "RPC and sequencer up",
        "Heartbeat and balance watcher age",
        "Trading paused",
        "Config hash",
        "Alerts firing",
    ):
        assert part in titles


def mapped_states(p: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Value -> (text, colour) from the panel's value mappings."""
    (mapping,) = p["fieldConfig"]["defaults"]["mappings"]
    assert mapping["type"] == "value"
    return {key: (r["text"], r["color"]) for key, r in mapping["options"].items()}


@pytest.mark.parametrize(
    ("title", "pid", "grid", "legends", "states"),
    [
        (
            "RPC and sequencer up by chain",
            18,
            {"x": 8, "y": 46, "w": 8, "h": 8},
            ["rpc {{chain}}", "sequencer {{chain}}"],
            {"1": ("up", "green"), "0": ("down", "red")},
        ),
        (
            "Heartbeat probe success by target",
            21,
            {"x": 12, "y": 54, "w": 12, "h": 8},
            ["{{target}}"],
            {"1": ("ok", "green"), "0": ("failed", "red")},
        ),
    ],
)
def test_up_down_panels_are_state_timelines_with_one_row_per_series(
    title: str,
    pid: int,
    grid: dict[str, int],
    legends: list[str],
    states: dict[str, tuple[str, str]],
) -> None:
    p = panel(build_dashboard(ArbqosConfig()), title)
    assert p["type"] == "state-timeline"
    assert (p["id"], p["gridPos"]) == (pid, grid)
    assert [t["legendFormat"] for t in p["targets"]] == legends
    assert all(t["range"] and not t["instant"] for t in p["targets"])
    assert mapped_states(p) == states
    assert threshold_steps(p) == [None, 1]  # unmapped values below 1 are red too


def test_thresholds_come_from_the_config() -> None:
    cfg = ArbqosConfig(
        exec=ExecConfig(fill_ratio_min=0.7, p95_accept_time_ms_max=2500),
        risk=RiskConfig(stake_pct_cap=0.1, balance_alert_usd=40),
    )
    dashboard = build_dashboard(cfg)
    assert threshold_steps(panel(dashboard, "Accept time p50")) == [None, 2.5]
    assert threshold_steps(panel(dashboard, "Fill ratio")) == [None, 0.7]
    assert threshold_steps(panel(dashboard, "Wallet balances")) == [None, 40]
    assert threshold_steps(panel(dashboard, "Stake per leg")) == [None, 0.1]
    assert threshold_steps(panel(dashboard, "Heartbeat and balance")) == [None, 90]
    style = panel(dashboard, "Fill ratio")["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]
    assert style == {"mode": "dashed"}


def test_expressions_use_known_series_only() -> None:
    cfg = ArbqosConfig()
    records = {r["record"] for g in build_rule_groups(cfg) for r in g["rules"] if "record" in r}
    known = known_series(records)
    for where, expr in expressions(build_dashboard(cfg)):
        assert not metric_names(expr) - known, (where, metric_names(expr) - known)
    assert "arb_orders_submitted_total" in known


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_promtool_parses_every_dashboard_expression(tmp_path: Path) -> None:
    rules = []
    for index, (where, expr) in enumerate(expressions(build_dashboard(ArbqosConfig()))):
        for variable, value in VARIABLES.items():
            expr = expr.replace(variable, value)
        assert "$" not in expr, where
        rules.append({"record": f"dashboard:expr_{index}:check", "expr": expr})
    path = tmp_path / "dashboard_exprs.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = run_tool(["promtool", "check", "rules", str(path)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout


def test_committed_dashboard_is_sorted_json_with_a_final_newline() -> None:
    text = (REPO_ROOT / DASHBOARD_PATH).read_text()
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
    assert render_all(ArbqosConfig())[DASHBOARD_PATH] == render_all(ArbqosConfig())[DASHBOARD_PATH]


def test_venue_api_error_panels_plot_shares_of_calls_only() -> None:
    dashboard = build_dashboard(ArbqosConfig())
    ratio = panel(dashboard, "Venue API error ratio by endpoint")
    by_class = panel(dashboard, "Venue API errors by class")
    for p in (ratio, by_class):
        assert p["fieldConfig"]["defaults"]["unit"] == "percentunit"
        assert p["fieldConfig"]["overrides"] == []  # no second axis, no per-second rate
        assert len(p["targets"]) == 1
        assert "rate(" not in p["targets"][0]["expr"]
    assert ratio["targets"][0]["expr"].startswith("venue_endpoint:arb_venue_request_errors:")
    assert by_class["targets"][0]["expr"].endswith("\n> 0")  # pre-initialised zero classes
    assert by_class["targets"][0]["legendFormat"] == "{{venue}} {{endpoint}} {{error}}"


def _calls_and_errors(venue: str, endpoint: str, calls: int, errors: dict[str, int]) -> list[Any]:
    """Input series: `calls` per minute, `errors[class]` per minute, every other class at 0."""
    labels = {"venue": venue, "endpoint": endpoint, "job": "engine"}
    return [
        series("arb_venue_request_duration_seconds_count", labels, f"0+{calls}x10"),
        *(
            series(
                "arb_venue_request_errors_total",
                {**labels, "error": error},
                f"0+{errors[error]}x10" if error in errors else "0x10",
            )
            for error in ERROR_CLASSES
        ),
    ]


def _samples(metric: str, *rows: tuple[dict[str, str], float]) -> list[dict[str, Any]]:
    """`exp_samples` entries for `metric` (empty for an expression without a name)."""
    return [{"labels": selector(metric, labels), "value": value} for labels, value in rows]


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_venue_api_error_panels_evaluate_to_shares_of_calls(tmp_path: Path) -> None:
    cfg = ArbqosConfig(exec=ExecConfig(qos_window_s=300))
    dashboard = build_dashboard(cfg)
    (ratio,) = panel(dashboard, "Venue API error ratio by endpoint")["targets"]
    (by_class,) = panel(dashboard, "Venue API errors by class")["targets"]
    (tmp_path / "qos.yaml").write_text(render_all(cfg)[RULES_PATH])
    fill = {"venue": "sx", "endpoint": "orders_fill"}
    new = {"venue": "sx", "endpoint": "orders_new"}
    subgraph = {"venue": "azuro", "endpoint": "subgraph"}
    test = {
        "interval": "1m",
        "input_series": [
            *_calls_and_errors("sx", "orders_fill", 10, {"timeout": 1, "http_5xx": 1}),
            *_calls_and_errors("sx", "orders_new", 10, {"http_429": 2}),
            *_calls_and_errors("azuro", "subgraph", 10, {}),
            *_calls_and_errors("sx", "metadata", 0, {}),  # idle: no series in either panel
        ],
        "promql_expr_test": [
            {
                "expr": ratio["expr"].replace("$venue", ".*"),
                "eval_time": "10m",
                "exp_samples": _samples(
                    "venue_endpoint:arb_venue_request_errors:ratio_window",
                    (fill, 0.2),
                    (new, 0.2),
                    (subgraph, 0),
                ),
            },
            {  # the classes of an endpoint add up to its ratio; zero classes are left out
                "expr": by_class["expr"].replace("$venue", ".*"),
                "eval_time": "10m",
                "exp_samples": _samples(
                    "",
                    ({**fill, "error": "timeout"}, 0.1),
                    ({**fill, "error": "http_5xx"}, 0.1),
                    ({**new, "error": "http_429"}, 0.2),
                ),
            },
        ],
    }
    suite = {"rule_files": ["qos.yaml"], "evaluation_interval": "1m", "tests": [test]}
    (tmp_path / "panels_test.yaml").write_text(yaml.safe_dump(suite, sort_keys=False))
    result = run_tool(["promtool", "test", "rules", "panels_test.yaml"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
