"""Pause requests leave the process fast, retry until acknowledged and are never repeated."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from prometheus_client import CollectorRegistry

from arbqos.config.schema import ArbqosConfig, ExecConfig
from arbqos.guard import PauseNotifier, QosGuard
from arbqos.instrument import ExecutionTracker
from arbqos.vocab import AlertName
from arbqos.wire import DETAIL_MAX
from arbqos_harness.process import free_port
from tests.guard.conftest import PauseServer
from tests.support.servers import HangingServer
from tests.support.wait import eventually

CONFIG = ArbqosConfig(
    exec=ExecConfig(fill_ratio_min=0.85, min_orders_in_window=5, p95_accept_time_ms_max=5000)
)


def breach_sx(tracker: ExecutionTracker) -> None:
    """Submit five legs and reject them: the first result breaches (fill ratio 0)."""
    legs = [tracker.submit("sx", "live", 20.0, 0.5) for _ in range(5)]
    for leg in legs:
        leg.result("rejected")


def test_the_breaching_call_returns_while_the_orchestrator_holds_the_request(
    registry: CollectorRegistry, hanging_server: HangingServer
) -> None:
    """The hot path never waits on the network (breach-to-pause figures: bench/guard_pause.py)."""
    notifier = PauseNotifier(hanging_server.url, token="t")
    tracker = ExecutionTracker(registry, CONFIG, guard=QosGuard(CONFIG.exec, notifier))
    breach_sx(tracker)  # returned: the breach is handed over, not sent inline
    assert hanging_server.wait_held(1) == 1
    assert hanging_server.answered == 0, "the request is still held by the orchestrator"
    closer = threading.Thread(target=notifier.close, kwargs={"drain_timeout_s": 0.1})
    closer.start()
    closer.join(timeout=30)  # a backstop, not a measurement
    assert not closer.is_alive(), "close() waited on the hung orchestrator"


def test_pause_request_arrives_once(registry: CollectorRegistry, pause_server: PauseServer) -> None:
    with PauseNotifier(pause_server.url, token="pause-secret") as notifier:
        guard = QosGuard(CONFIG.exec, notifier)
        tracker = ExecutionTracker(registry, CONFIG, guard=guard)
        breach_sx(tracker)
        (arrival,) = pause_server.wait_for(1)
        assert arrival.path == "/v1/pause"
        assert arrival.headers["Authorization"] == "Bearer pause-secret"
        assert arrival.body == {
            "reason": AlertName.FILL_RATIO_LOW,
            "source": "guard",
            "detail": "venue=sx fill_ratio=0.0000 < 0.85 over 300s (n=5 submitted, 1 results)",
        }
        assert notifier.wait_idle(2.0) and notifier.acknowledged == 1
        time.sleep(0.3)  # the breach persists: nothing more is sent
        assert len(pause_server.arrivals) == 1


def test_retries_after_503_until_acknowledged(
    registry: CollectorRegistry, pause_server: PauseServer
) -> None:
    pause_server.statuses = [503, 503]
    with PauseNotifier(
        pause_server.url, token="t", backoff_initial_s=0.02, backoff_max_s=0.05
    ) as notifier:
        tracker = ExecutionTracker(registry, CONFIG, guard=QosGuard(CONFIG.exec, notifier))
        breach_sx(tracker)
        arrivals = pause_server.wait_for(3)
        assert notifier.wait_idle(2.0)
        assert len(arrivals) == 3 and notifier.attempts == 3 and notifier.acknowledged == 1
        gaps = [b.at - a.at for a, b in itertools.pairwise(arrivals)]
        assert gaps[0] >= 0.02 and gaps[1] >= 0.04  # exponential backoff
        assert all(a.body == arrivals[0].body for a in arrivals)
        time.sleep(0.2)
        assert len(pause_server.arrivals) == 3


def test_unreachable_orchestrator_is_retried_and_close_returns() -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    notifier = PauseNotifier(closed, token="t", backoff_initial_s=0.01, backoff_max_s=0.02)
    notifier.request_pause("ArbAcceptTimeP95High", "venue=azuro ...")
    eventually(lambda: notifier.attempts >= 3, what="three attempts")
    assert notifier.acknowledged == 0
    closer = threading.Thread(target=notifier.close, kwargs={"drain_timeout_s": 0.1})
    closer.start()
    closer.join(timeout=30)  # a backstop, not a measurement
    assert not closer.is_alive()


def test_refused_token_is_retried_and_explained(
    pause_server: PauseServer, caplog: pytest.LogCaptureFixture
) -> None:
    pause_server.statuses = [401]
    with PauseNotifier(pause_server.url, token="stale", backoff_initial_s=0.01) as notifier:
        notifier.request_pause(AlertName.FILL_RATIO_LOW, "x")
        assert notifier.wait_idle(2.0)
    assert pause_server.arrivals[0].headers["Authorization"] == "Bearer stale"
    assert "HTTP 401" in caplog.text
    assert "token refused; set ARBQOS_PAUSE_TOKEN (or ARBQOS_PAUSE_TOKEN_FILE)" in caplog.text
    assert len(pause_server.arrivals) == 2 and notifier.acknowledged == 1


def test_missing_token_is_explained_and_sends_nothing(
    pause_server: PauseServer, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = PauseNotifier(pause_server.url, token=None, backoff_initial_s=0.01)
    notifier.request_pause(AlertName.FILL_RATIO_LOW, "x")
    assert not notifier.wait_idle(0.1)
    notifier.close(drain_timeout_s=0)
    assert pause_server.arrivals == [] and notifier.attempts >= 2
    assert "pause requests go without a token" in caplog.text
    assert "needs the pause token" in caplog.text and "ARBQOS_PAUSE_TOKEN" in caplog.text


def test_a_long_detail_is_clipped_not_refused(pause_server: PauseServer) -> None:
    with PauseNotifier(pause_server.url, token="t") as notifier:
        notifier.request_pause(AlertName.FILL_RATIO_LOW, "d" * 5000)
        assert notifier.wait_idle(2.0) and notifier.acknowledged == 1
    assert pause_server.arrivals[0].body["detail"] == "d" * DETAIL_MAX
