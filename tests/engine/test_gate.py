"""TradingGate: the guard's latch holds until an answer asked after the acknowledgement."""

from __future__ import annotations

import time
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from arbqos.config.schema import ArbqosConfig, ExecConfig
from arbqos.engine import ChangeCause, GuardLatch, TradingChange, TradingGate
from arbqos.guard import QosGuard
from arbqos.instrument import ExecutionTracker
from arbqos.wire import StatusResponse


def status(state: str, *reasons: tuple[str, str]) -> StatusResponse:
    return StatusResponse.model_validate(
        {
            "state": state,
            "since": "2026-01-01T00:00:00.000Z",
            "reasons": [
                {"source": s, "name": n, "since": "2026-01-01T00:00:00.000Z", "detail": "d"}
                for s, n in reasons
            ],
        }
    )


RUNNING = status("running")
PAUSED_BY_GUARD = status("paused", ("guard", "ArbFillRatioLow"))


class Requests:
    """Stands for the PauseNotifier: records requests; the test acknowledges them."""

    def __init__(self) -> None:
        self.acknowledged = 0
        self.requested: list[tuple[str, str]] = []

    def request_pause(self, reason: str, detail: str) -> None:
        self.requested.append((reason, detail))


@pytest.fixture
def published() -> list[TradingChange]:
    return []


@pytest.fixture
def gate(published: list[TradingChange]) -> TradingGate:
    gate = TradingGate(max_age_s=0.5, fail_closed=True, publish=published.append)
    gate.answered(RUNNING, asked_at=time.monotonic(), acknowledged=0)
    return gate


def test_closed_until_the_orchestrator_first_answers(published: list[Any]) -> None:
    gate = TradingGate(max_age_s=0.5, fail_closed=True, publish=published.append)
    assert not gate.allowed() and gate.why_not() == "no answer from the orchestrator yet"
    gate.answered(RUNNING, asked_at=time.monotonic(), acknowledged=0)
    assert gate.allowed() and gate.why_not() is None
    assert [(c.allowed, c.cause) for c in published] == [(True, ChangeCause.ORCHESTRATOR)]


def test_the_latch_closes_in_the_call_that_breached(
    gate: TradingGate, published: list[TradingChange]
) -> None:
    requests = Requests()
    config = ArbqosConfig(exec=ExecConfig(min_orders_in_window=3, fill_ratio_min=0.9))
    guard = QosGuard(config.exec, GuardLatch(gate, requests))
    tracker = ExecutionTracker(CollectorRegistry(), config, guard=guard, bank=1000.0)
    allowed = []
    for _ in range(5):
        allowed.append(gate.allowed())
        tracker.submit("azuro", "live", 10.0, 0.5).result("rejected")
    assert allowed == [True, True, True, False, False]
    assert [r for r, _ in requests.requested] == ["ArbFillRatioLow"]
    change = published[-1]
    assert (change.allowed, change.cause, change.reasons) == (
        False,
        ChangeCause.GUARD,
        ("guard:ArbFillRatioLow",),
    )


def test_running_answers_do_not_lift_an_unacknowledged_latch(
    gate: TradingGate, published: list[TradingChange]
) -> None:
    gate.latch("ArbFillRatioLow", "venue=sx", request=1)
    gate.answered(RUNNING, asked_at=time.monotonic(), acknowledged=0)  # the pause not landed
    gate.unreachable("ConnectError", asked_at=time.monotonic())
    gate.answered(RUNNING, asked_at=time.monotonic(), acknowledged=0)
    assert not gate.allowed() and "QoS guard paused for ArbFillRatioLow" in str(gate.why_not())
    gate.answered(PAUSED_BY_GUARD, asked_at=time.monotonic(), acknowledged=1)
    assert not gate.allowed()
    gate.answered(RUNNING, asked_at=time.monotonic(), acknowledged=1)  # an admin resumed
    assert gate.allowed()
    assert [(c.allowed, c.cause) for c in published] == [
        (True, ChangeCause.ORCHESTRATOR),
        (False, ChangeCause.GUARD),
        (True, ChangeCause.ORCHESTRATOR),
    ]


def test_a_second_breach_needs_its_own_acknowledgement(gate: TradingGate) -> None:
    gate.latch("ArbFillRatioLow", "venue=sx", request=1)
    gate.latch("ArbAcceptTimeP95High", "venue=azuro", request=2)
    gate.answered(RUNNING, asked_at=time.monotonic(), acknowledged=1)
    assert not gate.allowed()
    gate.answered(RUNNING, asked_at=time.monotonic(), acknowledged=2)
    assert gate.allowed()


def test_unreachable_fails_closed_once_and_an_old_answer_expires(
    gate: TradingGate, published: list[TradingChange]
) -> None:
    gate.unreachable("ConnectError: refused", asked_at=time.monotonic())
    gate.unreachable("ConnectError: refused", asked_at=time.monotonic())
    assert not gate.allowed()
    assert [(c.allowed, c.cause) for c in published][1:] == [(False, ChangeCause.UNREACHABLE)]
    gate.answered(RUNNING, asked_at=time.monotonic() - 0.6, acknowledged=0)
    assert not gate.allowed()
    assert "0.5 s" in str(gate.why_not())


def test_fail_open_when_configured(published: list[TradingChange]) -> None:
    gate = TradingGate(max_age_s=0.5, fail_closed=False, publish=published.append)
    gate.unreachable("ConnectError", asked_at=time.monotonic() - 10)
    assert gate.allowed()


def test_a_paused_orchestrator_publishes_its_reasons(
    gate: TradingGate, published: list[TradingChange]
) -> None:
    gate.answered(
        status("paused", ("alert", "ArbRpcDown"), ("manual", "maintenance")),
        asked_at=time.monotonic(),
        acknowledged=0,
    )
    assert published[-1].reasons == ("alert:ArbRpcDown", "manual:maintenance")
    assert "paused by orchestrator (alert:ArbRpcDown, manual:maintenance): d; d" in str(
        published[-1]
    )
    assert gate.why_not() == "the orchestrator is paused (alert:ArbRpcDown, manual:maintenance)"


def test_close_is_final(gate: TradingGate) -> None:
    gate.close()
    gate.answered(RUNNING, asked_at=time.monotonic(), acknowledged=0)
    assert not gate.allowed() and "closed" in str(gate.why_not())
