"""Alertmanager and Prometheus configs and the Kubernetes manifests, as data."""

from __future__ import annotations

import json

import pytest
import yaml

from arbqos.config import AlertingConfig, ArbqosConfig, EndpointsConfig, HeartbeatConfig
from arbqos.generators.alertmanager import build_alertmanager_config
from arbqos.generators.prometheus import build_prometheus_config, scrape_address
from arbqos.generators.promql import duration, number
from arbqos.generators.render import (
    DASHBOARD_CONFIGMAP_PATH,
    DASHBOARD_PATH,
    PROMETHEUS_RULE_PATH,
    RULES_PATH,
    render_all,
)
from arbqos.generators.routecheck import reachable_receivers, swallowed_routes
from arbqos.generators.rules import build_rule_groups


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.25, "250ms"),
        (1, "1s"),
        (90, "1m30s"),
        (300, "5m"),
        (3600, "1h"),
        (5400, "1h30m"),
    ],
)
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_number_has_no_float_noise() -> None:
    assert [number(x) for x in (15.0, 0.85, 0.05, 12.5, 1.0)] == ["15", "0.85", "0.05", "12.5", "1"]


def test_scrape_address_maps_wildcards_to_loopback() -> None:
    assert scrape_address("0.0.0.0", 9102) == "127.0.0.1:9102"
    assert scrape_address("::", 9102) == "[::1]:9102"
    assert scrape_address("10.1.2.3", 80) == "10.1.2.3:80"


def test_prometheus_config_from_settings() -> None:
    cfg = ArbqosConfig(
        alerting=AlertingConfig(
            scrape_interval_s=2,
            evaluation_interval_s=0.5,
            alertmanager_listen="127.0.0.1:19093",
            engine_target="127.0.0.1:19101",
        ),
        heartbeat=HeartbeatConfig(host="0.0.0.0", metrics_port=19102),
        endpoints=EndpointsConfig(orchestrator_url="https://127.0.0.1:18700/arbqos"),
    )
    doc = build_prometheus_config(cfg)
    assert doc["global"] == {"scrape_interval": "2s", "evaluation_interval": "500ms"}
    assert "scrape_timeout" not in json.dumps(doc)
    assert doc["rule_files"] == ["../alerts/qos.yaml"]
    assert doc["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
        "127.0.0.1:19093"
    ]
    jobs = {job["job_name"]: job for job in doc["scrape_configs"]}
    assert jobs["orchestrator"]["scheme"] == "https"
    assert jobs["orchestrator"]["metrics_path"] == "/arbqos/metrics"
    assert jobs["orchestrator"]["static_configs"][0]["targets"] == ["127.0.0.1:18700"]
    assert jobs["heartbeat"]["static_configs"][0]["targets"] == ["127.0.0.1:19102"]
    assert jobs["engine"]["static_configs"][0]["targets"] == ["127.0.0.1:19101"]
    for name, job in jobs.items():
        assert job["static_configs"][0]["labels"] == {"service": name}


def test_alertmanager_routes_every_alert_to_the_orchestrator_with_token_file() -> None:
    cfg = ArbqosConfig(
        alerting=AlertingConfig(
            pause_token_file="/run/secrets/pause",
            group_wait_s=0.5,
            group_interval_s=2,
            repeat_interval_s=7200,
            critical_repeat_s=600,
            warning_repeat_s=3600,
            info_repeat_s=86400,
            watchdog_repeat_s=30,
        ),
        endpoints=EndpointsConfig(orchestrator_url="http://127.0.0.1:18700"),
    )
    doc = build_alertmanager_config(cfg)
    route = doc["route"]
    assert route["receiver"] == "orchestrator"
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == (
        "500ms",
        "2s",
        "2h",
    )
    watchdog, pause, others = route["routes"]
    assert watchdog == {
        "receiver": "orchestrator",
        "matchers": ['alertname="ArbWatchdog"'],
        "repeat_interval": "30s",
    }
    assert pause == {"receiver": "orchestrator", "matchers": ['action="pause"'], "continue": True}
    assert others["matchers"] == ['action!="pause"'] and others["continue"] is True
    assert [(r["matchers"], r["repeat_interval"]) for r in others["routes"]] == [
        (['severity="critical"'], "10m"),
        (['severity="warning"'], "1h"),
        (['severity="info"'], "24h"),
    ]
    (orchestrator,) = doc["receivers"]
    (hook,) = orchestrator["webhook_configs"]
    assert hook["url"] == "http://127.0.0.1:18700/v1/alertmanager"
    assert hook["send_resolved"] is True
    assert hook["http_config"]["authorization"]["credentials_file"] == "/run/secrets/pause"
    for rule in doc["inhibit_rules"]:
        assert 'action!="pause"' in rule["target_matchers"]


def test_default_receiver_gets_the_configured_webhook_but_not_the_watchdog() -> None:
    cfg = ArbqosConfig(alerting=AlertingConfig(default_webhook_url="http://127.0.0.1:9999/hook"))
    doc = build_alertmanager_config(cfg)
    assert doc["receivers"][-1] == {
        "name": "default",
        "webhook_configs": [{"url": "http://127.0.0.1:9999/hook", "send_resolved": True}],
    }
    assert doc["route"]["routes"][-1] == {"receiver": "default"}
    assert "continue" not in doc["route"]["routes"][0]


DIRECT = {
    "chat": {"type": "slack", "api_url_file": "/etc/am/slack_url", "channel": "#arb"},
    "hook": {
        "type": "webhook",
        "url": "https://pager.example.org/arbqos",
        "username": "arbqos",
        "password_file": "/etc/am/pager_pw",
        "alerts": ["ArbOrchestratorDown", "ArbFillRatioLow"],
    },
    "mail": {
        "type": "email",
        "to": "ops@example.org",
        "sender": "arbqos@example.org",
        "smarthost": "smtp.example.org:587",
        "username": "arbqos",
        "password_file": "/etc/am/smtp_pw",
    },
}


def test_direct_receivers_bypass_the_orchestrator_with_secrets_by_file() -> None:
    cfg = ArbqosConfig(alerting=AlertingConfig.model_validate({"direct_receivers": DIRECT}))
    doc = build_alertmanager_config(cfg)
    receivers = {r["name"]: r for r in doc["receivers"]}
    assert set(receivers) == {"orchestrator", "chat", "hook", "mail"}
    (slack,) = receivers["chat"]["slack_configs"]
    assert (slack["api_url_file"], slack["channel"], slack["send_resolved"]) == (
        "/etc/am/slack_url",
        "#arb",
        True,
    )
    (hook,) = receivers["hook"]["webhook_configs"]
    assert hook["http_config"] == {
        "basic_auth": {"username": "arbqos", "password_file": "/etc/am/pager_pw"}
    }
    (mail,) = receivers["mail"]["email_configs"]
    assert (mail["from"], mail["auth_password_file"], mail["require_tls"]) == (
        "arbqos@example.org",
        "/etc/am/smtp_pw",
        True,
    )
    direct = {r["receiver"]: r for r in doc["route"]["routes"] if r["receiver"] in DIRECT}
    assert direct["chat"]["matchers"] == [
        'alertname=~"ArbAlertmanagerNotifyFailing|ArbOrchestratorDown"'
    ]
    assert direct["hook"]["matchers"] == ['alertname=~"ArbFillRatioLow|ArbOrchestratorDown"']
    assert all(r["continue"] is True for r in direct.values())


def test_route_check_names_the_alert_and_the_receiver_without_integration() -> None:
    cfg = ArbqosConfig()
    rules = [rule for group in build_rule_groups(cfg) for rule in group["rules"]]
    good = build_alertmanager_config(cfg)
    assert swallowed_routes(rules, good) == []
    before = {
        "route": {
            "receiver": "default",
            "routes": [
                {"receiver": "orchestrator", "matchers": ['action="pause"'], "continue": True},
                {"receiver": "default"},
            ],
        },
        "receivers": [good["receivers"][0], {"name": "default"}],
    }
    problems = swallowed_routes(rules, before)
    assert (
        "alert ArbWalletBalanceLow (severity=warning) can route to receiver 'default', which "
        "has no integration: its notifications would reach nobody"
    ) in problems
    assert any(
        p.startswith("alert ArbFillRatioLow (severity=critical, action=pause)") for p in problems
    )


def test_route_check_follows_unknown_labels_both_ways() -> None:
    route = {
        "receiver": "root",
        "routes": [
            {"receiver": "by_chain", "matchers": ['chain="arbitrum"']},
            {"receiver": "warnings", "matchers": ['severity="warning"']},
        ],
    }
    assert reachable_receivers(route, {"alertname": "A", "severity": "warning"}) == {
        "by_chain",
        "warnings",
    }
    assert reachable_receivers(route, {"alertname": "A", "severity": "critical"}) == {
        "by_chain",
        "root",
    }
    assert reachable_receivers(route, {"alertname": "A", "chain": "polygon"}) == {"root"}


def test_k8s_manifests_carry_the_same_rules_and_dashboard() -> None:
    files = render_all(ArbqosConfig())
    rule = yaml.safe_load(files[PROMETHEUS_RULE_PATH])
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["kind"] == "PrometheusRule"
    assert rule["spec"]["groups"] == yaml.safe_load(files[RULES_PATH])["groups"]
    configmap = yaml.safe_load(files[DASHBOARD_CONFIGMAP_PATH])
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert configmap["data"]["arb_qos.json"] == files[DASHBOARD_PATH]
