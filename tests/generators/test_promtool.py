"""`promtool test rules` on the generated rules: each alert fires just beyond its threshold only."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from arbqos.config import (
    AlertingConfig,
    ArbqosConfig,
    BalanceWatcherConfig,
    ExecConfig,
    HeartbeatConfig,
    RiskConfig,
)
from arbqos.generators.render import RULES_PATH, render_all
from arbqos.generators.rules import alert_names
from tests.conftest import REPO_ROOT
from tests.generators.conftest import run_tool
from tests.generators.promtool_cases import (
    PROMTOOL_DIR,
    REPO_RULES_FROM_TESTS,
    build_test_files,
    covered_alerts,
)

pytestmark = pytest.mark.timeout(120)

VARIANT = ArbqosConfig(
    exec=ExecConfig(
        fill_ratio_min=0.9, p95_accept_time_ms_max=8000, qos_window_s=60, min_orders_in_window=7
    ),
    risk=RiskConfig(stake_pct_cap=0.1, balance_alert_usd=25.5),
    alerting=AlertingConfig(
        pause_for_s=2,
        warn_for_s=30,
        heartbeat_stale_intervals=2.5,
        absent_for_s=12,
        pause_on_engine_absent=True,
        kpi_interval_s=600,
    ),
    heartbeat=HeartbeatConfig(interval_s=10, probe_timeout_s=5, retry_interval_s=2.5),
    balance_watcher=BalanceWatcherConfig(poll_interval_s=20),
)


def write_suite(cfg: ArbqosConfig, directory: Path, rules_text: str | None = None) -> list[str]:
    """Write the rule file of `cfg` (or `rules_text`) and its promtool tests into `directory`."""
    (directory / "qos.yaml").write_text(rules_text or render_all(cfg)[RULES_PATH])
    names = []
    for name, text in build_test_files(cfg, "qos.yaml").items():
        (directory / name).write_text(text)
        names.append(str(directory / name))
    return sorted(names)


def test_committed_promtool_tests_are_current(repo_config: ArbqosConfig) -> None:
    files = build_test_files(repo_config, REPO_RULES_FROM_TESTS)
    assert sorted(p.name for p in PROMTOOL_DIR.glob("*.yaml")) == sorted(files)
    for name, text in files.items():
        assert (PROMTOOL_DIR / name).read_text() == text, (
            f"{name} is stale: run .venv/bin/python -m tests.generators.promtool_cases"
        )


@pytest.mark.parametrize("cfg", [ArbqosConfig(), VARIANT], ids=["default", "variant"])
def test_every_alert_has_a_firing_case(cfg: ArbqosConfig) -> None:
    assert covered_alerts(build_test_files(cfg, "qos.yaml")) == set(alert_names(cfg))


@pytest.mark.slow
def test_committed_rules_pass_the_committed_promtool_tests() -> None:
    files = sorted(str(p.relative_to(REPO_ROOT)) for p in PROMTOOL_DIR.glob("*.yaml"))
    result = run_tool(["promtool", "test", "rules", *files], cwd=REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(files)


@pytest.mark.slow
def test_rules_for_other_thresholds_pass_their_tests(tmp_path: Path) -> None:
    result = run_tool(["promtool", "test", "rules", *write_suite(VARIANT, tmp_path)])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_a_shifted_threshold_fails_the_tests(tmp_path: Path) -> None:
    shifted = ArbqosConfig(exec=ExecConfig(fill_ratio_min=0.86))
    write_suite(ArbqosConfig(), tmp_path, render_all(shifted)[RULES_PATH])
    result = run_tool(["promtool", "test", "rules", str(tmp_path / "qos_test.yaml")])
    assert result.returncode == 1
    assert "fill ratio exactly at the minimum is silent" in result.stdout + result.stderr


@pytest.mark.slow
def test_the_one_minus_ratio_form_fires_at_exactly_five_percent(tmp_path: Path) -> None:
    """`1 - bucket/count > 0.05` fires at 5 % (1 - 0.95 = 0.050000000000000044): not used."""
    document = yaml.safe_load(render_all(ArbqosConfig())[RULES_PATH])
    (rule,) = [
        r
        for g in document["groups"]
        for r in g["rules"]
        if r.get("alert") == "ArbAcceptTimeP95High"
    ]
    count = "sum by (venue) (increase(arb_accept_time_seconds_count[5m]))"
    bucket = 'sum by (venue) (increase(arb_accept_time_seconds_bucket{le="12.0"}[5m]))'
    exact = f"({count}\n - {bucket})\n/ ({count} > 0)\n> 0.05"
    assert rule["expr"].startswith(exact)
    rule["expr"] = rule["expr"].replace(exact, f"1 - {bucket}\n/ ({count} > 0)\n> 0.05")
    write_suite(ArbqosConfig(), tmp_path, yaml.safe_dump(document))
    result = run_tool(["promtool", "test", "rules", str(tmp_path / "qos_test.yaml")])
    assert result.returncode == 1
    assert "exactly 5 % above the threshold bucket is silent" in result.stdout + result.stderr


def run_one(directory: Path, name: str) -> str:
    result = run_tool(["promtool", "test", "rules", str(directory / name)])
    assert result.returncode == 1, result.stdout
    return result.stdout + result.stderr


@pytest.mark.slow
def test_a_longer_absence_delay_fails_the_blind_tests(tmp_path: Path) -> None:
    slower = ArbqosConfig(alerting=AlertingConfig(absent_for_s=35))
    write_suite(ArbqosConfig(), tmp_path, render_all(slower)[RULES_PATH])
    output = run_one(tmp_path, "blind_test.yaml")
    assert "engine target down fires target_down only, at t0 + absent_for_s" in output
    assert "orchestrator scrape failing fires ArbOrchestratorDown" in output


@pytest.mark.slow
def test_series_absence_without_the_target_up_gate_double_fires(tmp_path: Path) -> None:
    text = render_all(ArbqosConfig())[RULES_PATH]
    gate = '\n      and on () (max(up{job="engine"}) == 1)'
    assert gate in text
    write_suite(ArbqosConfig(), tmp_path, text.replace(gate, ""))
    output = run_one(tmp_path, "blind_test.yaml")
    assert "engine target down fires target_down only" in output
    assert "series_absent" in output


@pytest.mark.slow
def test_an_le_written_as_an_integer_is_caught_on_a_healthy_engine(tmp_path: Path) -> None:
    """`le="12"` matches nothing: the bucket rule would fire on every healthy engine."""
    text = render_all(ArbqosConfig())[RULES_PATH]
    assert 'arb_accept_time_seconds_bucket{le="12.0"}' in text
    write_suite(ArbqosConfig(), tmp_path, text.replace('{le="12.0"}', '{le="12"}'))
    output = run_one(tmp_path, "idle_test.yaml")
    assert "ArbThresholdBucketMissing" in output
