"""The guard pauses the real `arbqos orchestrator` process, once per breach episode.

How fast (breach to pause) is measured by bench/guard_pause.py, not asserted here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from arbqos.config.schema import ArbqosConfig, ExecConfig
from arbqos.guard import PauseNotifier, QosGuard
from arbqos.instrument import ExecutionTracker
from arbqos.vocab import AlertName
from tests.registry.conftest import real_orchestrator
from tests.support.wait import eventually

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
        time.sleep(0.06)  # the behaviour: every accept takes more than the 50 ms threshold
        legs[0].result("filled")
        with httpx.Client(base_url=orchestrator, timeout=5) as http:
            status = eventually(
                lambda: guard_reasons(s := http.get("/v1/status").json()) and s,
                what="a guard reason in /v1/status",
            )
            for leg in legs[1:]:  # the breach persists: no second request
                leg.result("filled")
            assert notifier.wait_idle(2.0)
            journal = http.get("/v1/journal", params={"limit": 100}).json()["entries"]
    assert status["state"] == "paused"
    (reason,) = guard_reasons(status)
    assert reason["name"] == AlertName.ACCEPT_P95_HIGH
    assert reason["detail"].startswith("venue=azuro p95_accept_time_ms=")
    assert notifier.attempts == 1 and notifier.acknowledged == 1
    requests = [e for e in journal if e["kind"] == "request" and e["source"] == "guard"]
    assert [(e["reason"], e["who"]) for e in requests] == [(AlertName.ACCEPT_P95_HIGH, "pause")]
