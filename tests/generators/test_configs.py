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


def test_alertmanager_routes_pause_to_orchestrator_with_token_file() -> None:
    cfg = ArbqosConfig(
        alerting=AlertingConfig(
            pause_token_file="/run/secrets/pause",
            group_wait_s=0.5,
            group_interval_s=2,
            repeat_interval_s=7200,
        ),
        endpoints=EndpointsConfig(orchestrator_url="http://127.0.0.1:18700"),
    )
    doc = build_alertmanager_config(cfg)
    route = doc["route"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == (
        "500ms",
        "2s",
        "2h",
    )
    assert route["routes"][0] == {
        "receiver": "orchestrator",
        "matchers": ['action="pause"'],
        "continue": True,
    }
    (hook,) = doc["receivers"][0]["webhook_configs"]
    assert hook["url"] == "http://127.0.0.1:18700/v1/alertmanager"
    assert hook["send_resolved"] is True
    assert hook["http_config"]["authorization"]["credentials_file"] == "/run/secrets/pause"
    assert doc["receivers"][1] == {"name": "default"}
    for rule in doc["inhibit_rules"]:
        assert 'action!="pause"' in rule["target_matchers"]


def test_default_receiver_gets_the_configured_webhook() -> None:
    cfg = ArbqosConfig(alerting=AlertingConfig(default_webhook_url="http://127.0.0.1:9999/hook"))
    default = build_alertmanager_config(cfg)["receivers"][1]
    assert default["webhook_configs"] == [
        {"url": "http://127.0.0.1:9999/hook", "send_resolved": True}
    ]


def test_k8s_manifests_carry_the_same_rules_and_dashboard() -> None:
    files = render_all(ArbqosConfig())
    rule = yaml.safe_load(files[PROMETHEUS_RULE_PATH])
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["kind"] == "PrometheusRule"
    assert rule["spec"]["groups"] == yaml.safe_load(files[RULES_PATH])["groups"]
    configmap = yaml.safe_load(files[DASHBOARD_CONFIGMAP_PATH])
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert configmap["data"]["arb_qos.json"] == files[DASHBOARD_PATH]
