"""The guard pauses the real `arbqos orchestrator` process fast, once per breach episode."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from arbqos.clock import parse_ts
from arbqos.config.schema import ArbqosConfig, ExecConfig
from arbqos.guard import PauseNotifier, QosGuard
from arbqos.instrument import ExecutionTracker
from arbqos.vocab import AlertName
from tests.registry.conftest import real_orchestrator

PAUSE_TOKEN = "guard-test-pause-" + "p" * 24
ADMIN_TOKEN = "guard-test-admin-" + "a" * 24

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


@pytest.fixture
def orchestrator(tmp_path: Path) -> Iterator[str]:
    """A real orchestrator on a free loopback port with a fresh state directory."""
    with real_orchestrator(tmp_path, pause_token=PAUSE_TOKEN, admin_token=ADMIN_TOKEN) as url:
        yield url


def guard_reasons(status: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in status["reasons"] if r["source"] == "guard"]


def test_slow_accepts_pause_the_orchestrator(orchestrator: str) -> None:
    config = ArbqosConfig(exec=ExecConfig(min_orders_in_window=5, p95_accept_time_ms_max=50))
    with PauseNotifier(orchestrator, token=PAUSE_TOKEN) as notifier:
        guard = QosGuard(config.exec, notifier)
        tracker = ExecutionTracker(CollectorRegistry(), config, guard=guard)
        legs = [tracker.submit("azuro", "live", 10.0, 0.5) for _ in range(5)]
        time.sleep(0.06)  # every accept takes more than the 50 ms threshold
        breach_at, breach_wall = time.monotonic(), time.time()
        legs[0].result("filled")
        with httpx.Client(base_url=orchestrator, timeout=5) as http:
            deadline = time.monotonic() + 5
            while not guard_reasons(status := http.get("/v1/status").json()):
                assert time.monotonic() < deadline, status
                time.sleep(0.005)
            paused_after = time.monotonic() - breach_at
            for leg in legs[1:]:  # the breach persists: no second request
                leg.result("filled")
            assert notifier.wait_idle(2.0)
            journal = http.get("/v1/journal", params={"limit": 100}).json()["entries"]
    assert status["state"] == "paused"
    (reason,) = guard_reasons(status)
    assert reason["name"] == AlertName.ACCEPT_P95_HIGH
    assert reason["detail"].startswith("venue=azuro p95_accept_time_ms=")
    assert paused_after < 0.5, f"status showed the pause {paused_after:.3f} s after the breach"
    recorded_after = parse_ts(reason["since"]).timestamp() - breach_wall
    assert recorded_after < 0.100, f"orchestrator paused {recorded_after:.3f} s after the breach"
    assert notifier.attempts == 1 and notifier.acknowledged == 1
    requests = [e for e in journal if e["kind"] == "request" and e["source"] == "guard"]
    assert [(e["reason"], e["who"]) for e in requests] == [(AlertName.ACCEPT_P95_HIGH, "pause")]
