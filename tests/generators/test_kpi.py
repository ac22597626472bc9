"""The long-window KPI rules: a slow group, no subquery, no long range over raw series."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from arbqos.config import AlertingConfig, ArbqosConfig, HeartbeatConfig, load_config
from arbqos.errors import ConfigError
from arbqos.generators import kpi
from arbqos.generators.promql import duration
from arbqos.generators.render import RULES_PATH, render_all
from arbqos.generators.rules import GROUP_KPI, build_rule_groups
from tests.generators.conftest import run_tool
from tests.generators.test_promtool import write_suite

RANGE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\[([^\]]+)\]")


def kpi_group(cfg: ArbqosConfig) -> dict[str, object]:
    (group,) = [g for g in build_rule_groups(cfg) if g["name"] == GROUP_KPI]
    return group


def test_the_kpi_group_is_slower_than_the_qos_group() -> None:
    cfg = ArbqosConfig(alerting=AlertingConfig(kpi_interval_s=30))
    intervals = {g["name"]: g["interval"] for g in build_rule_groups(cfg)}
    assert intervals.pop(GROUP_KPI) == "30s"
    assert set(intervals.values()) == {"1s"}


def test_every_kpi_exists_for_every_horizon_after_its_step_records() -> None:
    records = [str(r["record"]) for r in kpi_group(ArbqosConfig())["rules"]]  # type: ignore[index]
    for name in kpi.HORIZON_RECORDS:
        for h in kpi.HORIZONS_S:
            assert kpi.horizon(name, h) in records
    first_horizon = min(i for i, r in enumerate(records) if not r.endswith("_step"))
    assert all(r.endswith("_step") for r in records[:first_horizon])
    assert kpi.DEFAULT_HORIZON in kpi.HORIZONS_S


def test_no_subquery_and_only_short_ranges_over_raw_series() -> None:
    """Raw series are read over at most the lookback; long ranges only over step records."""
    cfg = ArbqosConfig()
    lookback_s = cfg.alerting.kpi_interval_s * kpi.LOOKBACK_STEPS
    for rule in kpi_group(cfg)["rules"]:  # type: ignore[attr-defined]
        expr = str(rule["expr"])
        assert not re.search(r"\[[^\]]*:[^\]]*\]", expr), rule["record"]
        for name, window in RANGE.findall(expr):
            seconds = sum(
                int(n) * {"h": 3600, "m": 60, "s": 1}[u]
                for n, u in re.findall(r"(\d+)(h|m|s)", window)
            )
            if ":" in name:
                assert name.endswith("_step"), (rule["record"], name)
            else:
                assert seconds <= lookback_s, (rule["record"], name, window)


def test_horizon_ranges_hold_exactly_one_record_per_step() -> None:
    cfg = ArbqosConfig()
    expr = {r["record"]: r["expr"] for r in kpi_group(cfg)["rules"]}  # type: ignore[attr-defined]
    assert "[23h59m30s]" in expr[kpi.horizon(kpi.VOID_RATIO, "24h")]
    assert "[6d23h59m30s]" not in expr[kpi.horizon(kpi.PAUSES, "7d")]  # duration has no days
    assert f"[{duration(604800 - 30)}]" in expr[kpi.horizon(kpi.PAUSES, "7d")]


def test_uptime_expects_ticks_per_step_from_the_heartbeat_interval() -> None:
    cfg = ArbqosConfig(heartbeat=HeartbeatConfig(interval_s=20, probe_timeout_s=5))
    expr = {r["record"]: r["expr"] for r in kpi_group(cfg)["rules"]}  # type: ignore[attr-defined]
    assert "* 3)" in expr[kpi.horizon(kpi.HEARTBEAT_UPTIME, "1h")]


@pytest.mark.parametrize(("value", "message"), [(7, "divide one hour"), (0.5, "at least")])
def test_kpi_interval_must_tile_an_hour_and_be_slower(
    tmp_path: Path, value: float, message: str
) -> None:
    (tmp_path / "alerting.yml").write_text(f"kpi_interval_s: {value}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, {}, ())
    assert "alerting.kpi_interval_s" in str(caught.value)
    assert message in str(caught.value)


FAST = ArbqosConfig(alerting=AlertingConfig(kpi_interval_s=900))


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_kpi_tests_pass_for_another_step(tmp_path: Path) -> None:
    write_suite(FAST, tmp_path)
    result = run_tool(["promtool", "test", "rules", str(tmp_path / "kpi_test.yaml")])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("old", "new", "fails"),
    [
        ("[23h52m30s]", "[24h]", "global:arb_heartbeat_ticks:uptime_ratio_24h"),
        (
            "last_over_time(arb_heartbeat_ticks_total[2h30m] offset 15m)",
            "arb_heartbeat_ticks_total offset 15m",
            "global:arb_heartbeat_ticks:uptime_ratio_1h",
        ),
    ],
    ids=["closed-24h-range", "previous-value-without-lookback"],
)
def test_a_broken_kpi_rule_fails_the_tests(tmp_path: Path, old: str, new: str, fails: str) -> None:
    text = render_all(FAST)[RULES_PATH]
    assert old in text
    write_suite(FAST, tmp_path, text.replace(old, new))
    result = run_tool(["promtool", "test", "rules", str(tmp_path / "kpi_test.yaml")])
    assert result.returncode == 1
    assert fails in result.stdout + result.stderr
