"""Every alert and every pause reaches a person: the real orchestrator, Alertmanager and
Prometheus, delivering through apprise to a loopback sink.

Alerts are posted to Alertmanager's API as Prometheus would post them, so each case controls
its own timing; the watchdog case runs the real Prometheus on the rendered rules and stops it.
The breach-to-message latencies of both paths are printed (`pytest -s`) for the record.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from arbqos.clock import format_ts
from arbqos.config import load_config
from arbqos.generators import render_all
from arbqos.generators.render import ALERTMANAGER_PATH, PROMETHEUS_PATH
from arbqos_harness.process import ManagedProcess, find_tool, free_port, wait_for_http
from arbqos_harness.sink import NotificationSink, SinkRecord
from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]
ADMIN = "admin-" + "e" * 32
PAUSE = "pause-" + "f" * 32
SECRET = "123456:FAKE-TOKEN-abcdef"
ARBQOS = str(REPO_ROOT / ".venv" / "bin" / "arbqos")


@dataclass
class Stack:
    """The processes of one test and where to reach them."""

    root: Path
    config_dir: Path
    orchestrator: str
    alertmanager: str
    prometheus: str
    sink: NotificationSink
    processes: dict[str, ManagedProcess]

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(f"{self.orchestrator}/v1/status", timeout=5).json()
        return body

    def post_alert(
        self, name: str, labels: dict[str, str], *, ends: datetime | None = None, starts: datetime
    ) -> float:
        """Post one alert to Alertmanager as Prometheus does; return when (monotonic)."""
        alert = {
            "labels": {"alertname": name, **labels},
            "annotations": {"summary": f"{name} test summary"},
            "startsAt": format_ts(starts),
            "endsAt": format_ts(ends or datetime.now(UTC) + timedelta(minutes=5)),
        }
        sent = time.monotonic()
        response = httpx.post(f"{self.alertmanager}/api/v2/alerts", json=[alert], timeout=5)
        assert response.status_code == 200, response.text
        return sent


def about(text: str) -> Any:
    return lambda record: text in record.text


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    sink = NotificationSink(log_path=tmp_path / "notifications.log").start()
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "pause_token").write_text(PAUSE + "\n")
    urls = secrets / "notify_urls"
    urls.write_text(f"ops={sink.apprise_url('/ops')}?secret={SECRET}\n")
    orch_port = free_port()
    am, prom = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    for source in (REPO_ROOT / "config").glob("*.yml"):
        (config_dir / source.name).write_text(source.read_text())
    overrides = {
        "endpoints": {"orchestrator_url": f"http://127.0.0.1:{orch_port}"},
        "orchestrator": {
            "port": orch_port,
            "state_dir": str(tmp_path / "state"),
            "alert_events_log": str(tmp_path / "alert_events.log"),
            "watchdog_timeout_s": 8,
        },
        "alerting": {
            "pause_token_file": str(secrets / "pause_token"),
            "notify_urls_file": str(urls),
            "notify_warning_tags": ["all"],
            "watchdog_repeat_s": 2,
            "prometheus_listen": prom,
            "alertmanager_listen": am,
            "engine_target": f"127.0.0.1:{free_port()}",
        },
        "heartbeat": {"report_to_orchestrator": False, "metrics_port": free_port()},
        "balance_watcher": {"metrics_port": free_port()},
    }
    for section, values in overrides.items():
        path = config_dir / f"{section}.yml"
        data = yaml.safe_load(path.read_text()) if path.exists() else {}
        data = data or {}
        data.update(values)
        path.write_text(yaml.safe_dump(data))
    config = load_config(config_dir, {}).config
    root = tmp_path / "root"
    for relative, text in render_all(config).items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    logs = tmp_path / "logs"
    env = {"ARBQOS_ADMIN_TOKEN": ADMIN, "ARBQOS_PAUSE_TOKEN": PAUSE}
    processes = {
        "orchestrator": ManagedProcess(
            "orchestrator",
            [ARBQOS, "orchestrator", "--config-dir", str(config_dir)],
            logs,
            env=env,
            cwd=tmp_path,
        ),
        "alertmanager": ManagedProcess(
            "alertmanager",
            [
                find_tool("prometheus-alertmanager"),
                f"--config.file={root / ALERTMANAGER_PATH}",
                f"--storage.path={tmp_path / 'am'}",
                f"--web.listen-address={am}",
                "--cluster.listen-address=",
            ],
            logs,
        ),
        "prometheus": ManagedProcess(
            "prometheus",
            [
                find_tool("prometheus"),
                f"--config.file={root / PROMETHEUS_PATH}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address={prom}",
                "--rules.alert.resend-delay=1s",
            ],
            logs,
        ),
    }
    built = Stack(
        root,
        config_dir,
        f"http://127.0.0.1:{orch_port}",
        f"http://{am}",
        f"http://{prom}",
        sink,
        processes,
    )
    try:
        processes["orchestrator"].start()
        wait_for_http(f"{built.orchestrator}/healthz", timeout_s=20)
        processes["alertmanager"].start()
        wait_for_http(f"{built.alertmanager}/-/ready", timeout_s=20)
        yield built
    finally:
        for process in processes.values():
            process.stop()
        sink.stop()
        logs_text = "".join(p.tail(200) for p in processes.values())
        assert SECRET not in logs_text
        assert (
            SECRET not in (tmp_path / "alert_events.log").read_text()
            if (tmp_path / "alert_events.log").exists()
            else True
        )


def test_alerts_pauses_resolves_and_silences_reach_a_person(stack: Stack) -> None:
    now = datetime.now(UTC) - timedelta(seconds=60)
    latencies: dict[str, list[float]] = {"alertmanager": [], "direct": []}

    sent = stack.post_alert(
        "ArbWalletBalanceLow",
        {"severity": "warning", "wallet": "azuro", "chain": "polygon"},
        starts=now,
    )
    [low] = stack.sink.wait_for(1, timeout_s=15, where=about("ArbWalletBalanceLow"))
    latencies["alertmanager"].append(_arrival(low) - sent)
    assert "wallet=azuro" in low.text
    assert stack.status()["state"] == "running"

    sent = stack.post_alert(
        "ArbFillRatioLow", {"severity": "critical", "action": "pause", "venue": "sx"}, starts=now
    )
    [paused] = stack.sink.wait_for(1, timeout_s=15, where=about("PAUSED"))
    latencies["alertmanager"].append(_arrival(paused) - sent)
    assert 'ArbFillRatioLow{venue="sx"}' in paused.text
    assert stack.status()["state"] == "paused"

    stack.post_alert(
        "ArbFillRatioLow",
        {"severity": "critical", "action": "pause", "venue": "sx"},
        starts=now,
        ends=datetime.now(UTC) - timedelta(seconds=1),
    )
    [resolved] = stack.sink.wait_for(1, timeout_s=15, where=about("resolved:"))
    assert "ArbFillRatioLow" in resolved.text and "an admin resumes" in resolved.text

    silence = subprocess.run(
        [
            find_tool("amtool"),
            "silence",
            "add",
            "alertname=ArbStakeCapExceeded",
            "--comment=maintenance",
            "--duration=10m",
            f"--alertmanager.url={stack.alertmanager}",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=20,
    )
    assert silence.returncode == 0, silence.stderr
    stack.post_alert("ArbStakeCapExceeded", {"severity": "warning", "venue": "sx"}, starts=now)
    stack.post_alert("ArbConfigDrift", {"severity": "warning", "cause": "services"}, starts=now)
    stack.sink.wait_for(1, timeout_s=15, where=about("ArbConfigDrift"))
    time.sleep(2)  # the silenced alert went through the same group tick
    assert not [r for r in stack.sink.records if "ArbStakeCapExceeded" in r.text]

    stack.processes["alertmanager"].stop()
    for _ in range(3):
        before = len(stack.sink.records)
        sent = time.monotonic()
        httpx.post(
            f"{stack.orchestrator}/v1/pause",
            json={"reason": f"drill{_}"},
            headers={"Authorization": f"Bearer {PAUSE}"},
            timeout=5,
        )
        [direct] = stack.sink.wait_for(before + 1, timeout_s=15)[before:]
        latencies["direct"].append(_arrival(direct) - sent)
        assert f"manual:drill{_}" in direct.text
    _report(latencies)


def test_a_stopped_prometheus_is_noticed_and_announced(stack: Stack) -> None:
    stack.processes["prometheus"].start()
    wait_for_http(f"{stack.prometheus}/-/ready", timeout_s=20)
    deadline = time.monotonic() + 40
    while stack.status()["alerting"]["state"] != "up" and time.monotonic() < deadline:
        time.sleep(0.3)
    assert stack.status()["alerting"]["state"] == "up", stack.processes["prometheus"].tail()
    stopped = time.monotonic()
    stack.processes["prometheus"].stop()
    [silent] = stack.sink.wait_for(1, timeout_s=30, where=about("backstop pause path is blind"))
    took = _arrival(silent) - stopped
    status = stack.status()
    assert status["alerting"]["pipeline_up"] is False
    metrics = httpx.get(f"{stack.orchestrator}/metrics", timeout=5).text
    assert "arb_alerting_pipeline_up 0.0" in metrics
    print(
        f"Prometheus stopped -> 'alert path silent' at the sink: {took:.1f} s "
        f"(watchdog_timeout_s 8, repeat 2 s)"
    )
    # Alertmanager keeps re-sending the watchdog until its endsAt (4 x the 1 s resend delay)
    assert took <= 8 + 4 + 3 + 2, took


def _arrival(record: SinkRecord) -> float:
    """The monotonic time a record arrived (its wall stamp mapped to this process's clock)."""
    return time.monotonic() - (datetime.now(UTC) - record.received_at).total_seconds()


def _report(latencies: dict[str, list[float]]) -> None:
    shown = {
        path: {"p50_ms": round(statistics.median(v) * 1000, 1), "max_ms": round(max(v) * 1000, 1)}
        for path, v in latencies.items()
    }
    print("breach -> message at the sink:", json.dumps(shown))
