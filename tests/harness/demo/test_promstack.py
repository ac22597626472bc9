"""The local Prometheus + Alertmanager stack starts from a config tree and answers queries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arbqos_harness.demo.promstack import PrometheusStack
from arbqos_harness.process import free_port
from tests.support.wait import eventually


@pytest.mark.slow
def test_stack_starts_scrapes_itself_and_fires_a_rule(tmp_path: Path) -> None:
    prom, am = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    (tmp_path / "ops/prometheus").mkdir(parents=True)
    (tmp_path / "ops/alertmanager").mkdir(parents=True)
    (tmp_path / "ops/alerts").mkdir(parents=True)
    (tmp_path / "ops/alerts/qos.yaml").write_text(
        "groups:\n- name: t\n  rules:\n  - alert: AlwaysOn\n    expr: vector(1)\n"
    )
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": ["../alerts/qos.yaml"],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [am]}]}]},
        "scrape_configs": [{"job_name": "self", "static_configs": [{"targets": [prom]}]}],
    }
    (tmp_path / "ops/prometheus/prometheus.yml").write_text(json.dumps(config))
    (tmp_path / "ops/alertmanager/alertmanager.yml").write_text(
        "route:\n  receiver: none\nreceivers:\n- name: none\n"
    )
    stack = PrometheusStack(tmp_path, prom, am, tmp_path / "logs").start()
    try:
        client = stack.client()
        firing = eventually(client.firing_alerts, 20, 0.2, what="a firing alert")
        assert [a["labels"]["alertname"] for a in firing] == ["AlwaysOn"]
        up = eventually(lambda: client.scalar('up{job="self"}') is not None, 20, 0.2, what="up")
        assert up and client.scalar('up{job="self"}') == 1.0
        pids = [p.pid for p in stack.processes]
    finally:
        stack.stop()
    assert all(not Path(f"/proc/{pid}").exists() for pid in pids)


def test_refuses_a_non_loopback_bind(tmp_path: Path) -> None:
    stack = PrometheusStack(tmp_path, "0.0.0.0:9090", "127.0.0.1:9093", tmp_path)
    with pytest.raises(ValueError, match=r"127\.0\.0\.1 only"):
        stack.start()
