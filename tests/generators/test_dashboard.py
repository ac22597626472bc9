"""The Grafana dashboard: layout, variables, thresholds from config, metric coverage, PromQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from arbqos.config import (
    AlertingConfig,
    ArbqosConfig,
    BalanceWatcherConfig,
    ExecConfig,
    HeartbeatConfig,
    OrchestratorConfig,
    RiskConfig,
)
from arbqos.generators import kpi
from arbqos.generators.dashboard import build_dashboard
from arbqos.generators.dashboard.coverage import NOT_ON_DASHBOARD
from arbqos.generators.dashboard.top import TOP_ROW_BOTTOM
from arbqos.generators.render import DASHBOARD_PATH, render_all
from arbqos.generators.rules import build_rule_groups
from arbqos.metrics.definitions import METRICS
from tests.conftest import REPO_ROOT
from tests.generators.conftest import run_tool
from tests.generators.promql_names import known_series, metric_names

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
VARIABLES = {"$venue": "sx|azuro", "${horizon}": "24h", "$__rate_interval": "1m"}

# Grafana's grid: a row unit is 30 px plus an 8 px gap (GRID_CELL_HEIGHT, GRID_CELL_VMARGIN).
GRID_ROW_PX, GRID_GAP_PX = 30, 8
SCREEN_H_PX = 1080
BROWSER_CHROME_PX = 140
"""Tabs, address bar and an OS task bar of a maximised browser on a 1080 px high screen."""
GRAFANA_CHROME_PX = 120
"""Grafana 10/11: top bar (40 px), dashboard controls with the variables (~48 px), padding."""


def substituted(expr: str) -> str:
    for variable, value in VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def expressions(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, PromQL with variables substituted) for every panel target and annotation."""
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield f"panel {panel['id']} {target['refId']}", substituted(target["expr"])
    for annotation in dashboard["annotations"]["list"]:
        yield f"annotation {annotation['name']}", substituted(annotation["expr"])


def panel(dashboard: dict[str, Any], title_part: str) -> dict[str, Any]:
    """The panel titled `title_part`, else the one panel whose title starts with it."""
    exact = [p for p in dashboard["panels"] if p["title"] == title_part]
    (found,) = exact or [p for p in dashboard["panels"] if p["title"].startswith(title_part)]
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
    assert len(refs) > 80
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
    horizon = templating["horizon"]
    assert horizon["type"] == "custom"
    assert (
        [o["value"] for o in horizon["options"]]
        == list(kpi.HORIZONS_S)
        == ["1h", "6h", "24h", "7d"]
    )
    assert horizon["current"]["value"] == kpi.DEFAULT_HORIZON == "24h"


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
    rows = [p for p in panels if p["type"] == "row"]
    assert all(not r["collapsed"] and r["gridPos"]["w"] == 24 for r in rows)
    assert rows[0]["title"] == "Can the bot trade, and if not, why?"


def grid_bottom_px(units: int) -> int:
    """Pixels from the top of the dashboard canvas to the bottom of grid row `units`."""
    return units * (GRID_ROW_PX + GRID_GAP_PX) - GRID_GAP_PX


def test_top_row_fits_a_1920x1080_screen_without_scrolling() -> None:
    """Grid math: the top row ends 372 px down; a 1080 px screen leaves about 820 px."""
    panels = build_dashboard(ArbqosConfig())["panels"]
    top = [p for p in panels if p["gridPos"]["y"] < TOP_ROW_BOTTOM]
    assert [p["id"] for p in top] == list(range(1, 8))
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in top)
    assert bottom == TOP_ROW_BOTTOM
    visible = SCREEN_H_PX - BROWSER_CHROME_PX - GRAFANA_CHROME_PX
    assert grid_bottom_px(bottom) == 372 <= visible
    kpi_bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels if p["id"] <= 17)
    assert grid_bottom_px(kpi_bottom) <= visible  # the KPI row fits too (714 px)
    column_px = (1920 - 2 * 16) / 24  # Grafana 10+: side menu closed, 16 px page padding
    assert min(p["gridPos"]["w"] for p in top) * column_px >= 230  # "UNKNOWN" in big letters


def test_time_series_panels_have_units() -> None:
    dashboard = build_dashboard(ArbqosConfig())
    for p in dashboard["panels"]:
        if p["type"] in ("timeseries", "stat"):
            assert p["fieldConfig"]["defaults"]["unit"], p["title"]
    assert panel(dashboard, "Wallet balance")["fieldConfig"]["defaults"]["unit"] == "currencyUSD"
    assert (
        panel(dashboard, "Fill ratio (filled")["fieldConfig"]["defaults"]["unit"] == "percentunit"
    )
    assert panel(dashboard, "Accept time p50")["fieldConfig"]["defaults"]["unit"] == "s"


def test_required_panels_are_present() -> None:
    titles = " | ".join(p["title"] for p in build_dashboard(ArbqosConfig())["panels"])
    for part in (
        "Trading",
        "Why paused",
        "Config hash",
        "Pause paths",
        "Alerts firing",
        "p95 accept time ($horizon)",
        "Fill ratio ($horizon)",
        "Quote to fill p95 ($horizon)",
        "Partial fills ($horizon)",
        "Void rate ($horizon)",
        "Heartbeat uptime ($horizon)",
        "Balance alerts ($horizon)",
        "Pauses by source ($horizon)",
        "Time paused ($horizon)",
        "Accept time p50 / p95 by venue and phase",
        "Slippage",
        "API error ratio",
        "API latency",
        "Wallet balance (last good read)",
        "Age of the last good balance read",
        "Wallet below the floor",
        "Balance read errors",
        "Stake cap usage",
        "Gas price",
        "RPC and sequencer up",
        "Heartbeat and poll age",
        "Notifications by channel",
    ):
        assert part in titles, part


def test_kpi_stats_read_the_horizon_records_with_sparklines() -> None:
    dashboard = build_dashboard(ArbqosConfig())
    kpis = [p for p in dashboard["panels"] if "($horizon)" in p["title"]]
    assert len(kpis) == 9
    for p in kpis:
        assert p["type"] == "stat"
        assert p["options"]["graphMode"] == "area", p["title"]
        (target,) = p["targets"]
        assert target["range"], p["title"]
        record = re.sub(r"\{[^{}]*=[^{}]*\}$", "", target["expr"])
        assert record.endswith("_${horizon}"), record
        assert record.removesuffix("_${horizon}") in kpi.HORIZON_RECORDS


def mapped_states(p: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Value -> (text, colour) from the panel's value mappings."""
    mapping = p["fieldConfig"]["defaults"]["mappings"][0]
    assert mapping["type"] == "value"
    return {key: (r["text"], r["color"]) for key, r in mapping["options"].items()}


@pytest.mark.parametrize(
    ("title", "legends", "states"),
    [
        (
            "RPC and sequencer up by chain",
            ["rpc {{chain}}", "sequencer {{chain}}"],
            {"1": ("up", "green"), "0": ("down", "red"), "2": ("stale", "text")},
        ),
        (
            "Heartbeat probe success by target",
            ["{{target}}"],
            {"1": ("ok", "green"), "0": ("failed", "red")},
        ),
        ("Wallet below the floor", ["{{wallet}}"], {"0": ("ok", "green"), "1": ("LOW", "red")}),
    ],
)
def test_up_down_panels_are_state_timelines_with_one_row_per_series(
    title: str, legends: list[str], states: dict[str, tuple[str, str]]
) -> None:
    p = panel(build_dashboard(ArbqosConfig()), title)
    assert p["type"] == "state-timeline"
    assert [t["legendFormat"] for t in p["targets"]] == legends
    assert all(t["range"] and not t["instant"] for t in p["targets"])
    assert mapped_states(p) == states
    assert threshold_steps(p) == [None, 1]  # unmapped values below 1 are red too


def test_top_row_states_say_running_paused_and_unknown() -> None:
    dashboard = build_dashboard(ArbqosConfig())
    trading = panel(dashboard, "Trading")
    assert mapped_states(trading) == {
        "0": ("RUNNING", "green"),
        "1": ("PAUSED", "red"),
        "-1": ("UNKNOWN", "red"),
    }
    assert trading["options"]["colorMode"] == "background"
    paths = panel(dashboard, "Pause paths")
    assert [t["legendFormat"] for t in paths["targets"]] == [
        "engine scraped",
        "heartbeat fresh",
        "alert pipeline",
        "orchestrator scraped",
        "pause state on disk",
    ]
    assert all(t["expr"].endswith("or on () vector(-1)") for t in paths["targets"])
    assert mapped_states(paths)["-1"] == ("NO DATA", "red")


def test_reason_table_says_what_lifts_each_class_from_the_config() -> None:
    cfg = ArbqosConfig(orchestrator=OrchestratorConfig(infra_resume_after_s=45))
    table = panel(build_dashboard(cfg), "Why paused")
    assert table["type"] == "table"
    organize = table["transformations"][-1]["options"]
    assert list(organize["renameByName"].values()) == [
        "source",
        "reason",
        "signal",
        "since (UTC)",
        "for",
        "lifted by",
    ]
    overrides = {
        o["matcher"]["options"]: o["properties"] for o in table["fieldConfig"]["overrides"]
    }
    lifted = overrides["lifted by"][0]["value"][0]["options"]
    assert lifted["infra"]["text"] == "itself, 45 s after recovery"
    assert lifted["qos"]["text"] == lifted["manual"]["text"] == "a person (admin resume)"
    assert overrides["since (UTC)"] == [{"id": "unit", "value": "dateTimeAsIso"}]
    assert table["targets"][0]["expr"].endswith("* 1000")  # Grafana dates are milliseconds


def test_thresholds_come_from_the_config() -> None:
    cfg = ArbqosConfig(
        exec=ExecConfig(fill_ratio_min=0.7, p95_accept_time_ms_max=2500),
        risk=RiskConfig(stake_pct_cap=0.1, balance_alert_usd=40),
        heartbeat=HeartbeatConfig(interval_s=20, probe_timeout_s=5),
        balance_watcher=BalanceWatcherConfig(poll_interval_s=30),
        alerting=AlertingConfig(heartbeat_stale_intervals=4),
    )
    dashboard = build_dashboard(cfg)
    assert threshold_steps(panel(dashboard, "Accept time p50")) == [None, 2.5]
    assert threshold_steps(panel(dashboard, "p95 accept time ($horizon)")) == [None, 2.5]
    assert threshold_steps(panel(dashboard, "Fill ratio (filled")) == [None, 0.7]
    assert threshold_steps(panel(dashboard, "Fill ratio ($horizon)")) == [None, 0.7]
    assert threshold_steps(panel(dashboard, "Wallet balance")) == [None, 40]
    assert threshold_steps(panel(dashboard, "Stake per leg")) == [None, 0.1]
    assert threshold_steps(panel(dashboard, "Age of the last good balance")) == [None, 60, 120]
    assert threshold_steps(panel(dashboard, "Heartbeat and poll age")) == [None, 40, 80]
    assert threshold_steps(panel(dashboard, "Probe latency")) == [None, 5]
    style = panel(dashboard, "Fill ratio (filled")["fieldConfig"]["defaults"]["custom"]
    assert style["thresholdsStyle"] == {"mode": "dashed"}
    paths = panel(dashboard, "Pause paths")["targets"][1]["expr"]
    assert "<= bool 80)" in paths


def test_stale_values_are_drawn_apart() -> None:
    """Balances past the watcher's limit and chain values of a stale heartbeat are not live."""
    dashboard = build_dashboard(ArbqosConfig())
    live, stale = panel(dashboard, "Wallet balance")["targets"]
    assert "\nand on (wallet) (" in live["expr"] and "<= 180)" in live["expr"]
    assert "\nunless on (wallet) (" in stale["expr"] and stale["legendFormat"].endswith("STALE")
    gas = panel(dashboard, "Gas price")["targets"]
    assert gas[1]["legendFormat"] == "{{chain}} (stale)"
    assert "unless on () (time() - max(arb_heartbeat_last_tick" in gas[1]["expr"]


def test_annotations_tell_the_story() -> None:
    annotations = {a["name"]: a for a in build_dashboard(ArbqosConfig())["annotations"]["list"]}
    assert list(annotations) == [
        "Pause reasons",
        "Trading paused",
        "Automatic resumes",
        "Pause alerts",
        "Config loaded",
        "Rules hash changed",
    ]
    assert annotations["Pause reasons"]["titleFormat"] == "paused: {{reason}}"
    assert 'action="pause"' in annotations["Pause alerts"]["expr"]
    config = annotations["Config loaded"]
    assert config["useValueForTime"] and "* 1000" in config["expr"]
    assert all(a["enable"] and a["step"] for a in annotations.values())


def test_expressions_use_known_series_only() -> None:
    cfg = ArbqosConfig()
    records = {r["record"] for g in build_rule_groups(cfg) for r in g["rules"] if "record" in r}
    known = known_series(records)
    for where, expr in expressions(build_dashboard(cfg)):
        assert not metric_names(expr) - known, (where, metric_names(expr) - known)


def shown_metrics(cfg: ArbqosConfig) -> set[str]:
    """Contract metrics the dashboard reads, directly or through recording rules."""
    rules = {
        str(r["record"]): str(r["expr"])
        for g in build_rule_groups(cfg)
        for r in g["rules"]
        if "record" in r
    }

    def sources(names: set[str]) -> set[str]:
        out: set[str] = set()
        for name in names:
            out |= sources(metric_names(rules[name])) if name in rules else {name}
        return out

    found: set[str] = set()
    for _where, expr in expressions(build_dashboard(cfg)):
        found |= sources(metric_names(expr))
    return {re.sub(r"_(bucket|count|sum)$", "", name) for name in found}


def test_every_exported_metric_is_shown_or_left_out_with_a_reason() -> None:
    shown = shown_metrics(ArbqosConfig())
    missing = set(METRICS) - shown - set(NOT_ON_DASHBOARD)
    assert not missing, f"add a panel or a reason in NOT_ON_DASHBOARD: {sorted(missing)}"
    assert not set(NOT_ON_DASHBOARD) & shown, "listed as not shown, but shown"
    assert set(NOT_ON_DASHBOARD) <= set(METRICS)
    assert all(len(reason) > 30 for reason in NOT_ON_DASHBOARD.values())
    assert shown >= {"arb_alerting_pipeline_up", "arb_notifications_total"}  # contract section 9


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_promtool_parses_every_dashboard_expression(tmp_path: Path) -> None:
    rules = []
    for index, (where, expr) in enumerate(expressions(build_dashboard(ArbqosConfig()))):
        assert "$" not in expr.replace('"$1"', ""), where
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
