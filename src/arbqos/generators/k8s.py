"""Kubernetes manifests: the rule groups as a PrometheusRule, the dashboard as a ConfigMap."""

from __future__ import annotations

from typing import Any

from arbqos.config import ArbqosConfig
from arbqos.generators.rules import build_rule_groups
from arbqos.generators.serialize import GENERATED

APP_LABELS = {"app.kubernetes.io/name": "arbqos", "app.kubernetes.io/part-of": "arbqos"}
DASHBOARD_KEY = "arb_qos.json"


def build_prometheus_rule(cfg: ArbqosConfig) -> dict[str, Any]:
    """Return a `monitoring.coreos.com/v1` PrometheusRule holding the same rule groups."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "arbqos",
            "labels": {**APP_LABELS, "app.kubernetes.io/component": "alerting-rules"},
        },
        "spec": {"groups": build_rule_groups(cfg)},
    }


def build_dashboard_configmap(dashboard_json: str) -> dict[str, Any]:
    """Return a ConfigMap carrying the dashboard, labelled for the Grafana dashboard sidecar."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "arbqos-dashboard",
            "labels": {**APP_LABELS, "grafana_dashboard": "1"},
            "annotations": {"grafana_folder": "arbqos"},
        },
        "data": {DASHBOARD_KEY: dashboard_json},
    }


HEADER = f"""{GENERATED}
Apply with `kubectl apply -n <monitoring namespace> -f ops/k8s/`. Add the labels your
Prometheus ruleSelector / Grafana sidecar expect (e.g. `release: <helm release>`).
The rules find the engine and the orchestrator by job="engine" and job="orchestrator": name
their Services so, or set the ServiceMonitors' jobLabel (a wrong name fires
ArbEngineMetricsAbsent / ArbOrchestratorDown with cause="target_absent")."""
