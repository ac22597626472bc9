"""Dashboard queries evaluated by promtool on planted series: what an operator would read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from arbqos.config import ArbqosConfig, ExecConfig, config_hash
from arbqos.generators.dashboard import build_dashboard
from arbqos.generators.render import RULES_PATH, render_all
from arbqos.instrument.calls import ERROR_CLASSES
from tests.generators.conftest import run_tool
from tests.generators.promtool_cases import (
    BALANCE,
    ENGINE,
    HEARTBEAT,
    ORCHESTRATOR,
    selector,
    series,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]
VARIABLES = {"$venue": ".*", "${horizon}": "24h", "$__rate_interval": "1m"}


def targets(dashboard: dict[str, Any], title: str) -> list[str]:
    """The expressions of the panel titled `title`, variables substituted."""
    (found,) = [p for p in dashboard["panels"] if p["title"] == title]
    exprs = []
    for target in found["targets"]:
        expr = target["expr"]
        for name, value in VARIABLES.items():
            expr = expr.replace(name, value)
        exprs.append(expr)
    return exprs


def sample(labels: dict[str, str], value: float) -> dict[str, Any]:
    return {"labels": selector("", labels) if labels else "{}", "value": value}


def run_suite(tmp_path: Path, cfg: ArbqosConfig, test: dict[str, Any]) -> None:
    (tmp_path / "qos.yaml").write_text(render_all(cfg)[RULES_PATH])
    suite = {"rule_files": ["qos.yaml"], "evaluation_interval": "1m", "tests": [test]}
    (tmp_path / "panels_test.yaml").write_text(yaml.safe_dump(suite, sort_keys=False))
    result = run_tool(["promtool", "test", "rules", "panels_test.yaml"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def check(expr: str, at: str, *samples: dict[str, Any]) -> dict[str, Any]:
    return {"expr": expr, "eval_time": at, "exp_samples": list(samples)}


def test_config_hash_cells_mark_services_that_differ_from_the_rules(tmp_path: Path) -> None:
    cfg = ArbqosConfig()
    rules_hash, other = config_hash(cfg), "f" * 64
    services_q, rules_q, absent_q, reload_q = targets(
        build_dashboard(cfg), "Config hash: services vs loaded rules"
    )

    def info(service: str, h: str) -> dict[str, str]:
        return {"service": service, "config_hash": h, "sources": "default,file"}

    test = {
        "interval": "1m",
        "input_series": [
            series("arb_config_info", {**info("orchestrator", rules_hash), **ORCHESTRATOR}, "1x5"),
            series("arb_config_info", {**info("heartbeat", rules_hash), **HEARTBEAT}, "1x5"),
            series("arb_config_info", {**info("engine", other), **ENGINE}, "1x5"),
            series(
                "arb_config_last_reload_successful",
                {"service": "heartbeat", **HEARTBEAT},
                "0x5",
            ),
        ],
        "promql_expr_test": [
            check(
                services_q,
                "2m",
                sample(
                    {"service": "orchestrator", "config_hash": rules_hash, "hash": rules_hash[:12]},
                    1,
                ),
                sample(
                    {"service": "heartbeat", "config_hash": rules_hash, "hash": rules_hash[:12]}, 1
                ),
                sample({"service": "engine", "config_hash": other, "hash": other[:12]}, 0),
            ),
            check(rules_q, "2m", sample({"config_hash": rules_hash, "hash": rules_hash[:12]}, 0)),
            check(absent_q, "2m"),
            check(reload_q, "2m", sample({"service": "heartbeat"}, 0)),
        ],
    }
    run_suite(tmp_path, cfg, test)


def test_pause_paths_say_no_data_when_a_signal_is_missing(tmp_path: Path) -> None:
    cfg = ArbqosConfig()
    engine, heartbeat, pipeline, orchestrator, disk = targets(build_dashboard(cfg), "Pause paths")
    test = {
        "interval": "30s",
        "input_series": [  # the heartbeat ticked at 60 s: fresh until 60 + 90 s
            series("arb_heartbeat_last_tick_timestamp_seconds", HEARTBEAT, "0 0 60x8"),
            series("up", ORCHESTRATOR, "0x8"),
            series("arb_orchestrator_state_persisted", ORCHESTRATOR, "1x8"),
        ],
        "promql_expr_test": [
            check(engine, "2m", sample({}, -1)),  # no engine target at all: NO DATA
            check(heartbeat, "2m", sample({}, 1)),
            check(heartbeat, "3m", sample({}, 0)),  # 120 s since the tick: stale
            check(pipeline, "2m", sample({}, -1)),
            check(orchestrator, "2m", sample({}, 0)),
            check(disk, "2m", sample({}, 1)),
        ],
    }
    run_suite(tmp_path, cfg, test)


def test_a_wallet_balance_past_the_stale_limit_is_shown_as_stale(tmp_path: Path) -> None:
    cfg = ArbqosConfig()  # poll 60 s, stale after 180 s
    dashboard = build_dashboard(cfg)
    live, stale = targets(dashboard, "Wallet balance (last good read)")
    (age,) = targets(dashboard, "Age of the last good balance read")
    sx = {"wallet": "sx", "chain": "sx_rollup", "token": "USDC"}
    azuro = {"wallet": "azuro", "chain": "polygon", "token": "USDT"}
    test = {
        "interval": "1m",
        "input_series": [
            series("arb_wallet_balance_usd", {**sx, **ORCHESTRATOR}, "120x5"),
            series("arb_wallet_balance_usd", {**azuro, **ORCHESTRATOR}, "80x5"),
            series("arb_wallet_balance_age_seconds", {"wallet": "sx", **BALANCE}, "20x5"),
            series("arb_wallet_balance_age_seconds", {"wallet": "azuro", **BALANCE}, "170x5"),
            # the watcher polled at 60 s and then stopped
            series("arb_balance_watcher_last_poll_timestamp_seconds", BALANCE, "0 60x4"),
        ],
        "promql_expr_test": [
            check(age, "2m", sample({"wallet": "sx"}, 80), sample({"wallet": "azuro"}, 230)),
            check(live, "2m", sample({"wallet": "sx", "token": "USDC"}, 120)),
            check(stale, "2m", sample({"wallet": "azuro", "token": "USDT"}, 80)),
            check(
                live,
                "1m",
                sample({"wallet": "sx", "token": "USDC"}, 120),
                sample({"wallet": "azuro", "token": "USDT"}, 80),
            ),
        ],
    }
    run_suite(tmp_path, cfg, test)


def test_chain_rows_turn_stale_with_the_heartbeat(tmp_path: Path) -> None:
    cfg = ArbqosConfig()  # heartbeat every 30 s, stale after 90 s
    rpc, _sequencer = targets(build_dashboard(cfg), "RPC and sequencer up by chain")
    test = {
        "interval": "1m",
        "input_series": [
            series("arb_rpc_up", {"chain": "arbitrum", **ORCHESTRATOR}, "1x5"),
            series("arb_heartbeat_last_tick_timestamp_seconds", HEARTBEAT, "0 60x4"),
        ],
        "promql_expr_test": [
            check(rpc, "2m", sample({"chain": "arbitrum"}, 1)),
            check(rpc, "3m", sample({"chain": "arbitrum"}, 2)),  # 120 s without a tick
        ],
    }
    run_suite(tmp_path, cfg, test)


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


def test_venue_api_error_panels_evaluate_to_shares_of_calls(tmp_path: Path) -> None:
    cfg = ArbqosConfig(exec=ExecConfig(qos_window_s=300))
    dashboard = build_dashboard(cfg)
    (ratio,) = targets(dashboard, "Venue API error ratio by endpoint")
    (by_class,) = targets(dashboard, "Venue API errors by class (share of calls)")
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
                "expr": ratio,
                "eval_time": "10m",
                "exp_samples": _samples(
                    "venue_endpoint:arb_venue_request_errors:ratio_window",
                    (fill, 0.2),
                    (new, 0.2),
                    (subgraph, 0),
                ),
            },
            {  # the classes of an endpoint add up to its ratio; zero classes are left out
                "expr": by_class,
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
    run_suite(tmp_path, cfg, test)
