"""The Prometheus rule file (`ops/alerts/qos.yaml`): recording rules, then QoS and infra alerts."""

from __future__ import annotations

from typing import Any

from arbqos.config import ArbqosConfig
from arbqos.generators.alertpath import build_alert_path_alerts
from arbqos.generators.alerts import build_infra_alerts, build_qos_alerts
from arbqos.generators.blindspots import build_blindspot_alerts, rules_info_record
from arbqos.generators.kpi import build_kpi_rules
from arbqos.generators.promql import duration
from arbqos.generators.recording import build_recording_rules

GROUP_RECORDING = "arbqos_qos_window"
GROUP_QOS_ALERTS = "arbqos_qos_alerts"
GROUP_INFRA_ALERTS = "arbqos_infra_alerts"
GROUP_KPI = "arbqos_kpi"


def build_rule_groups(cfg: ArbqosConfig) -> list[dict[str, Any]]:
    """Return the rule groups: three every `alerting.evaluation_interval_s`, the KPIs slower.

    The interval is set on every group so a Prometheus with a slower global evaluation
    interval (the Prometheus Operator default is 30 s) still evaluates these every second.
    The long-window KPI group runs every `alerting.kpi_interval_s` (see `arbqos.generators.kpi`).

    Raises:
        RuntimeError: the alerts marked `action="pause"` are not `cfg.alerting.pause_alerts()`
            (the set the orchestrator relies on); a generator bug, never a config problem.
    """
    interval = duration(cfg.alerting.evaluation_interval_s)
    infra = [*build_infra_alerts(cfg), *build_blindspot_alerts(cfg), *build_alert_path_alerts(cfg)]
    groups: list[dict[str, Any]] = [
        {
            "name": GROUP_RECORDING,
            "interval": interval,
            "rules": [rules_info_record(cfg), *build_recording_rules(cfg)],
        },
        {"name": GROUP_QOS_ALERTS, "interval": interval, "rules": build_qos_alerts(cfg)},
        {"name": GROUP_INFRA_ALERTS, "interval": interval, "rules": infra},
        {
            "name": GROUP_KPI,
            "interval": duration(cfg.alerting.kpi_interval_s),
            "rules": build_kpi_rules(cfg),
        },
    ]
    marked = {r["alert"] for g in groups for r in g["rules"] if r.get("labels", {}).get("action")}
    expected = cfg.alerting.pause_alerts()
    if marked != expected:
        raise RuntimeError(f"pause alerts {sorted(marked)} differ from {sorted(expected)}")
    return groups


def build_rule_file(cfg: ArbqosConfig) -> dict[str, Any]:
    """Return the rule file document `{"groups": [...]}`."""
    return {"groups": build_rule_groups(cfg)}


def alert_names(cfg: ArbqosConfig) -> list[str]:
    """Every distinct alert name in the rule file, in file order."""
    names: list[str] = []
    for group in build_rule_groups(cfg):
        for rule in group["rules"]:
            if "alert" in rule and rule["alert"] not in names:
                names.append(rule["alert"])
    return names
