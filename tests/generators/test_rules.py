"""The rule file: names, labels, thresholds from config, exact bucket matchers."""

from __future__ import annotations

import re

import pytest
import yaml

from arbqos.config import AlertingConfig, ArbqosConfig, ExecConfig, RiskConfig, config_hash
from arbqos.generators.promql import duration, number
from arbqos.generators.render import RULES_PATH, render_all
from arbqos.generators.rules import alert_names, build_rule_groups
from arbqos.metrics.definitions import accept_time_buckets, format_le, stake_fraction_buckets
from arbqos.vocab import PAUSABLE_ALERTS, PauseSource
from tests.generators.promql_names import known_series, metric_names

CONTRACT_ALERTS = {
    "ArbFillRatioLow": "pause",
    "ArbAcceptTimeP95High": "pause",
    "ArbSequencerDown": "pause",
    "ArbRpcDown": "pause",
    "ArbHeartbeatStale": "pause",
    "ArbWalletBalanceLow": None,
    "ArbStakeCapExceeded": None,
    "ArbConfigDrift": None,
    "ArbWatchdog": None,
}
SECOND_ROUND_ALERTS = {
    "ArbEngineMetricsAbsent": None,
    "ArbThresholdBucketMissing": None,
    "ArbOrchestratorDown": None,
    "ArbPrometheusNotifyFailing": None,
    "ArbAlertmanagerNotifyFailing": None,
    "ArbRuleEvaluationFailing": None,
    "ArbStakeCapUnchecked": None,
}
RECORD_NAME = re.compile(r"^[a-z_]+:arb_[a-z0-9_]+:[a-z0-9_]+$")


def rules_of(cfg: ArbqosConfig) -> list[dict[str, object]]:
    return [rule for group in build_rule_groups(cfg) for rule in group["rules"]]


def alert_rules(cfg: ArbqosConfig, name: str) -> list[dict[str, object]]:
    return [rule for rule in rules_of(cfg) if rule.get("alert") == name]


def test_every_contract_alert_exists_with_its_action_and_severity() -> None:
    cfg = ArbqosConfig()
    names = alert_names(cfg)
    assert set(CONTRACT_ALERTS) <= set(names)
    for rule in rules_of(cfg):
        if "alert" not in rule:
            continue
        labels = rule["labels"]
        assert isinstance(labels, dict)
        assert labels["severity"] in {"critical", "warning", "info"}
        expected_action = {**CONTRACT_ALERTS, **SECOND_ROUND_ALERTS}.get(str(rule["alert"]))
        assert labels.get("action") == expected_action, rule["alert"]
        annotations = rule["annotations"]
        assert isinstance(annotations, dict)
        assert annotations["summary"] and annotations["description"]


def test_only_contract_pause_alerts_pause() -> None:
    pausing = {r["alert"] for r in rules_of(ArbqosConfig()) if "action" in r.get("labels", {})}
    assert pausing == {name for name, action in CONTRACT_ALERTS.items() if action == "pause"}


def test_recording_rules_follow_level_metric_operation() -> None:
    records = [r["record"] for r in rules_of(ArbqosConfig()) if "record" in r]
    assert records[0] == "arb_rules_info"  # named by the contract (section 9)
    records = records[1:]
    assert "venue:arb_fill_ratio:ratio_window" in records
    assert "venue:arb_accept_time_seconds:p95_window" in records
    assert len(records) == len(set(records))
    for name in records:
        assert RECORD_NAME.match(str(name)), name


def test_every_expression_uses_known_series_only() -> None:
    rules = rules_of(ArbqosConfig())
    known = known_series({str(r["record"]) for r in rules if "record" in r})
    for rule in rules:
        unknown = metric_names(str(rule["expr"])) - known
        assert not unknown, (rule.get("alert") or rule.get("record"), unknown)


def test_for_durations_come_from_alerting_config() -> None:
    cfg = ArbqosConfig()
    cfg = cfg.model_copy(
        update={"alerting": cfg.alerting.model_copy(update={"pause_for_s": 2, "warn_for_s": 90})}
    )
    assert {r["for"] for r in alert_rules(cfg, "ArbFillRatioLow")} == {"2s"}
    assert {r["for"] for r in alert_rules(cfg, "ArbHeartbeatStale")} == {"2s"}
    assert {r["for"] for r in alert_rules(cfg, "ArbWalletBalanceLow")} == {"1m30s"}
    assert {r["for"] for r in alert_rules(cfg, "ArbWatchdog")} == {"0s"}


def test_accept_time_alert_uses_the_exact_bucket_string() -> None:
    for ms in (12000, 1000, 2500, 750):
        cfg = ArbqosConfig(exec=ExecConfig(p95_accept_time_ms_max=ms))
        (rule,) = alert_rules(cfg, "ArbAcceptTimeP95High")
        le = format_le(ms / 1000)
        assert f'arb_accept_time_seconds_bucket{{le="{le}"}}' in str(rule["expr"])
        assert ms / 1000 in accept_time_buckets(ms)
        assert "histogram_quantile" not in str(rule["expr"])
    assert format_le(1.0) == "1.0"


def test_stake_cap_alert_uses_the_cap_bucket() -> None:
    cfg = ArbqosConfig(risk=RiskConfig(stake_pct_cap=0.1))
    (rule,) = alert_rules(cfg, "ArbStakeCapExceeded")
    assert 'arb_stake_fraction_of_bank_bucket{le="0.1"}' in str(rule["expr"])
    assert 0.1 in stake_fraction_buckets(0.1)


def test_qos_alerts_are_gated_on_min_orders_and_window() -> None:
    cfg = ArbqosConfig(exec=ExecConfig(min_orders_in_window=7, qos_window_s=120))
    for name in ("ArbFillRatioLow", "ArbAcceptTimeP95High"):
        (rule,) = alert_rules(cfg, name)
        expr = str(rule["expr"])
        assert "increase(arb_orders_submitted_total[2m])) >= 7" in expr
        assert "[5m]" not in expr


def test_heartbeat_stale_limit_and_absence() -> None:
    cfg = ArbqosConfig()
    limit = cfg.alerting.heartbeat_stale_intervals * cfg.heartbeat.interval_s
    by_cause = {r["labels"]["cause"]: str(r["expr"]) for r in alert_rules(cfg, "ArbHeartbeatStale")}
    assert f"> {number(limit)}" in by_cause["tick_age"]
    assert (
        f"absent_over_time(arb_heartbeat_last_tick_timestamp_seconds[{duration(limit)}])"
        in (by_cause["absent"])
    )
    assert "job=" not in by_cause["absent"]


def test_committed_rule_file_is_valid_yaml_with_four_groups() -> None:
    text = render_all(ArbqosConfig())[RULES_PATH]
    assert text.startswith("# Generated by `arbqos render`")
    document = yaml.safe_load(text)
    assert [(g["name"], g["interval"]) for g in document["groups"]] == [
        ("arbqos_qos_window", "1s"),
        ("arbqos_qos_alerts", "1s"),
        ("arbqos_infra_alerts", "1s"),
        ("arbqos_kpi", "1m"),
    ]


def pausing(cfg: ArbqosConfig) -> set[str]:
    return {str(r["alert"]) for r in rules_of(cfg) if r.get("labels", {}).get("action")}


@pytest.mark.parametrize("engine_absent_pauses", [False, True])
def test_rendered_pause_alerts_are_exactly_what_the_orchestrator_knows(
    engine_absent_pauses: bool,
) -> None:
    """The rules and the orchestrator agree through `AlertingConfig.pause_alerts()`."""
    from arbqos.services.control import _PREINIT

    cfg = ArbqosConfig(alerting=AlertingConfig(pause_on_engine_absent=engine_absent_pauses))
    assert pausing(cfg) == set(cfg.alerting.pause_alerts())
    assert ("ArbEngineMetricsAbsent" in pausing(cfg)) is engine_absent_pauses
    preinit = {name for source, name in _PREINIT if source == PauseSource.ALERT}
    assert pausing(cfg) <= preinit
    assert preinit == set(PAUSABLE_ALERTS)


def test_every_pausable_alert_pauses_under_some_config() -> None:
    configs = [ArbqosConfig(alerting=AlertingConfig(pause_on_engine_absent=v)) for v in (0, 1)]
    assert set().union(*(pausing(c) for c in configs)) == set(PAUSABLE_ALERTS)
    for rule in rules_of(configs[1]):
        if rule.get("alert") == "ArbEngineMetricsAbsent":
            assert rule["labels"]["action"] == "pause", rule["labels"]


def test_the_rules_carry_the_hash_of_the_config_they_were_rendered_from() -> None:
    cfg = ArbqosConfig(exec=ExecConfig(fill_ratio_min=0.9))
    (info,) = [r for r in rules_of(cfg) if r.get("record") == "arb_rules_info"]
    assert info == {
        "record": "arb_rules_info",
        "expr": "vector(1)",
        "labels": {"config_hash": config_hash(cfg)},
    }
    (drift,) = [r for r in alert_rules(cfg, "ArbConfigDrift") if r["labels"]["cause"] == "rules"]
    assert f'config_hash!="{config_hash(cfg)}"' in str(drift["expr"])
    assert config_hash(cfg) != config_hash(ArbqosConfig())


def test_threshold_bucket_rules_use_the_exported_le_strings() -> None:
    cfg = ArbqosConfig(
        exec=ExecConfig(p95_accept_time_ms_max=1000), risk=RiskConfig(stake_pct_cap=0.1)
    )
    exprs = " ".join(str(r["expr"]) for r in alert_rules(cfg, "ArbThresholdBucketMissing"))
    assert 'arb_accept_time_seconds_bucket{le="1.0"}' in exprs
    assert 'arb_stake_fraction_of_bank_bucket{le="0.1"}' in exprs


def test_sequencer_down_covers_sx_rollup_and_arbitrum() -> None:
    rules = alert_rules(ArbqosConfig(), "ArbSequencerDown")
    assert {r["labels"]["chain"] for r in rules} == {"arbitrum", "sx_rollup"}
    for rule in rules:
        chain = rule["labels"]["chain"]
        assert f'arb_sequencer_up{{chain="{chain}"}}' in str(rule["expr"])
        assert rule["labels"]["action"] == "pause"
