"""Real Prometheus and Alertmanager on the rendered configs: who gets which alert, and when.

The orchestrator webhook is a loopback recorder that answers 404 on /metrics, so Prometheus
cannot scrape it: ArbOrchestratorDown fires and must reach the direct receivers (a slack one
whose URL sits in a file, and a webhook one with a Bearer token file) as well. The engine
port is closed, so ArbEngineMetricsAbsent fires too: a critical alert without `action`, which
must still reach the orchestrator. ArbWatchdog must keep arriving every
`watchdog_repeat_s` to `watchdog_repeat_s + group_interval_s` (Alertmanager repeats at group ticks).
"""

from __future__ import annotations

import itertools
import re
import time
from datetime import datetime
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

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
PAUSE_TOKEN = "live-routing-pause-token"
DIRECT_TOKEN = "live-routing-direct-token"
WATCHDOG_REPEAT_S = 2.0


SLACK_PATH = "/slack/T0SECRET/B0SECRET"


def alertnames(requests: list[dict[str, Any]], path: str | None = None) -> set[str]:
    """Alert names in Alertmanager webhook payloads (or, for Slack, in the message titles)."""
    names = set()
    for request in requests:
        if path is not None and request["path"] != path:
            continue
        body = request["body"]
        names |= {a["labels"]["alertname"] for a in body.get("alerts", [])}
        names |= {a["title"].split("] ", 1)[1] for a in body.get("attachments", [])}
    return names


def test_every_alert_reaches_the_orchestrator_and_orchestrator_down_bypasses_it(
    tmp_path: Path,
    webhook: tuple[int, list[dict[str, Any]]],
    direct_sink: tuple[int, list[dict[str, Any]]],
) -> None:
    hook_port, to_orchestrator = webhook
    sink_port, to_direct = direct_sink
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "pause_token").write_text(PAUSE_TOKEN + "\n")
    (secrets / "direct_token").write_text(DIRECT_TOKEN + "\n")
    slack_url = f"http://127.0.0.1:{sink_port}/slack/T0SECRET/B0SECRET"
    (secrets / "slack_url").write_text(slack_url + "\n")
    prom, am = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    alerting = AlertingConfig.model_validate(
        {
            "absent_for_s": 3,
            "watchdog_repeat_s": WATCHDOG_REPEAT_S,
            "pause_token_file": str(secrets / "pause_token"),
            "prometheus_listen": prom,
            "alertmanager_listen": am,
            "engine_target": f"127.0.0.1:{free_port()}",
            "direct_receivers": {
                "chat": {"type": "slack", "api_url_file": str(secrets / "slack_url")},
                "pager": {
                    "type": "webhook",
                    "url": f"http://127.0.0.1:{sink_port}/pager",
                    "credentials_file": str(secrets / "direct_token"),
                },
            },
        }
    )
    cfg = ArbqosConfig(
        endpoints=EndpointsConfig(orchestrator_url=f"http://127.0.0.1:{hook_port}"),
        heartbeat=HeartbeatConfig(
            interval_s=5, probe_timeout_s=1, retry_interval_s=1, metrics_port=free_port()
        ),
        balance_watcher=BalanceWatcherConfig(metrics_port=free_port()),
        alerting=alerting,
    )
    root = write_tree(render_all(cfg), tmp_path / "root")
    assert "T0SECRET" not in (root / ALERTMANAGER_PATH).read_text()
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
        ready_at = time.monotonic()
        deadline = ready_at + 40
        while time.monotonic() < deadline:
            watchdogs = [r for r in to_orchestrator if "ArbWatchdog" in alertnames([r])]
            direct = alertnames(to_direct, "/pager") & alertnames(to_direct, SLACK_PATH)
            if len(watchdogs) >= 4 and "ArbOrchestratorDown" in direct:
                break
            time.sleep(0.2)
        tail = prometheus.tail() + alertmanager.tail()
        alerts = httpx.get(f"http://{prom}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    (down,) = [a for a in alerts if a["labels"]["alertname"] == "ArbOrchestratorDown"]
    active_at = datetime.fromisoformat(down["activeAt"].replace("Z", "+00:00")).timestamp()

    assert "ArbOrchestratorDown" in alertnames(to_direct, "/pager"), tail
    assert "ArbOrchestratorDown" in alertnames(to_direct, SLACK_PATH), tail
    (slack, *_) = [r["body"] for r in to_direct if r["path"] == SLACK_PATH]
    (attachment,) = slack["attachments"]
    assert attachment["title"] == "[FIRING] ArbOrchestratorDown"
    assert "Prometheus cannot scrape the orchestrator at 127.0.0.1:" in attachment["text"]
    assert re.search(r"\(since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)", attachment["text"])
    assert {r["auth"] for r in to_direct if r["path"] == "/pager"} == {f"Bearer {DIRECT_TOKEN}"}
    assert alertnames(to_direct) <= {"ArbOrchestratorDown", "ArbAlertmanagerNotifyFailing"}
    assert {"ArbWatchdog", "ArbEngineMetricsAbsent", "ArbOrchestratorDown"} <= alertnames(
        to_orchestrator
    )
    assert {r["auth"] for r in to_orchestrator} == {f"Bearer {PAUSE_TOKEN}"}
    watchdog_at = [r["at"] for r in to_orchestrator if "ArbWatchdog" in alertnames([r])]
    gaps = [b - a for a, b in itertools.pairwise(watchdog_at)]
    assert len(gaps) >= 3, watchdog_at
    longest = WATCHDOG_REPEAT_S + cfg.alerting.group_interval_s
    assert all(WATCHDOG_REPEAT_S - 0.5 <= gap <= longest + 0.5 for gap in gaps), gaps
    fired_at = active_at + cfg.alerting.absent_for_s
    to_sink = min(r["wall"] for r in to_direct) - fired_at
    print(  # figures for the record: pytest -s shows them
        f"watchdog gaps {[round(g, 2) for g in gaps]} s (repeat {WATCHDOG_REPEAT_S} s); "
        f"ArbOrchestratorDown firing -> direct sink {to_sink * 1000:.0f} ms"
    )
    assert -0.05 <= to_sink <= 1.5, to_sink
