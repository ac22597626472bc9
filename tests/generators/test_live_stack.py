"""The rendered configs run in the real Prometheus and Alertmanager: a dead heartbeat pauses.

Prometheus scrapes closed ports (every service down), so after one stale limit
ArbHeartbeatStale{cause="absent"} fires and Alertmanager posts it to the orchestrator
webhook (a loopback recorder here) with the Bearer token read from the credentials file.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from arbqos.config import (
    AlertingConfig,
    ArbqosConfig,
    BalanceWatcherConfig,
    EndpointsConfig,
    HeartbeatConfig,
)
from arbqos.generators import render_all
from arbqos.generators.render import ALERTMANAGER_PATH, PROMETHEUS_PATH
from arbqos_harness.process import ManagedProcess, find_tool, free_port, wait_for_http
from tests.generators.conftest import write_tree

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]
TOKEN = "live-stack-pause-token"


def test_dead_heartbeat_reaches_the_orchestrator_webhook_with_the_token(
    tmp_path: Path, webhook: tuple[int, list[dict[str, Any]]]
) -> None:
    hook_port, received = webhook
    token_file = tmp_path / "pause_token"
    token_file.write_text(TOKEN + "\n")
    prom, am = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    cfg = ArbqosConfig(
        endpoints=EndpointsConfig(orchestrator_url=f"http://127.0.0.1:{hook_port}"),
        heartbeat=HeartbeatConfig(
            interval_s=1, probe_timeout_s=0.5, retry_interval_s=0.25, metrics_port=free_port()
        ),
        balance_watcher=BalanceWatcherConfig(metrics_port=free_port()),
        alerting=AlertingConfig(
            heartbeat_stale_intervals=2,
            pause_token_file=str(token_file),
            prometheus_listen=prom,
            alertmanager_listen=am,
            engine_target=f"127.0.0.1:{free_port()}",
            kpi_interval_s=2,
        ),
    )
    root = write_tree(render_all(cfg), tmp_path / "root")
    logs = tmp_path / "logs"
    alertmanager = ManagedProcess(
        "alertmanager",
        [
            find_tool("prometheus-alertmanager"),
            f"--config.file={root / ALERTMANAGER_PATH}",
            f"--storage.path={tmp_path / 'am'}",
            f"--web.listen-address={am}",
            "--cluster.listen-address=",
        ],
        logs,
    )
    prometheus = ManagedProcess(
        "prometheus",
        [
            find_tool("prometheus"),
            f"--config.file={root / PROMETHEUS_PATH}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address={prom}",
            "--rules.alert.resend-delay=1s",
        ],
        logs,
    )
    with alertmanager, prometheus:
        wait_for_http(f"http://{am}/-/ready", timeout_s=20)
        wait_for_http(f"http://{prom}/-/ready", timeout_s=20)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
            r["body"]["commonLabels"].get("action") == "pause" for r in received
        ):
            time.sleep(0.2)
        assert received, prometheus.tail() + alertmanager.tail()
        while time.monotonic() < deadline:  # every group evaluated once (the KPIs every 2 s)
            rules = httpx.get(f"http://{prom}/api/v1/rules", timeout=5).json()["data"]["groups"]
            if all(r["health"] != "unknown" for g in rules for r in g["rules"]):
                break
            time.sleep(0.2)
        alerts = httpx.get(f"http://{prom}/api/v1/alerts", timeout=5).json()["data"]["alerts"]

    first = next(r for r in received if r["body"]["commonLabels"].get("action") == "pause")
    assert first["path"] == "/v1/alertmanager"
    assert first["auth"] == f"Bearer {TOKEN}"
    assert first["body"]["version"] == "4"
    (alert,) = first["body"]["alerts"]
    assert alert["status"] == "firing"
    assert alert["labels"] == {
        "alertname": "ArbHeartbeatStale",
        "action": "pause",
        "cause": "absent",
        "severity": "critical",
    }
    assert {g["name"] for g in rules} == {
        "arbqos_qos_window",
        "arbqos_qos_alerts",
        "arbqos_infra_alerts",
        "arbqos_kpi",
    }
    unhealthy = [
        (r["name"], r.get("lastError")) for g in rules for r in g["rules"] if r["health"] != "ok"
    ]
    assert not unhealthy
    firing = {a["labels"]["alertname"] for a in alerts if a["state"] == "firing"}
    assert {"ArbWatchdog", "ArbHeartbeatStale"} <= firing
    assert "ArbFillRatioLow" not in firing
