"""Through `connect()` against the real `arbqos orchestrator`: not one leg after the breach.

Each burst is a tight loop: ask `trading_allowed()`, and when it says yes send a leg whose
fill is 10 % of its stake, so the guard breaches `exec.fill_ratio_min` at the leg that opens
its gate (`exec.min_orders_in_window`). Every leg allowed after that one is counted.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pytest

from arbqos.engine import ChangeCause, EngineQos, TradingChange, connect
from arbqos.errors import OrchestratorError
from arbqos.instrument import Leg
from arbqos.vocab import AlertName
from tests.conftest import REPO_ROOT
from tests.engine.conftest import ENV, Orchestrator

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]

MIN_ORDERS = 5
QOS = (f"exec.min_orders_in_window={MIN_ORDERS}", "exec.fill_ratio_min=0.9")


@dataclass
class Changes:
    """Every change the engine's callbacks heard, with an event per direction."""

    seen: list[TradingChange] = field(default_factory=list)
    paused: threading.Event = field(default_factory=threading.Event)
    resumed: threading.Event = field(default_factory=threading.Event)

    def listen(self, qos: EngineQos) -> Changes:
        qos.on_pause(self._heard)
        qos.on_resume(self._heard)
        return self

    def _heard(self, change: TradingChange) -> None:
        self.seen.append(change)
        (self.resumed if change.allowed else self.paused).set()


@dataclass
class Burst:
    legs: int = 0
    breach_leg: int | None = None
    asked_after: int = 0
    allowed_after: int = 0
    inflight: list[Leg] = field(default_factory=list)


def send_leg(qos: EngineQos) -> None:
    """One leg filled at 10 % of its stake (a fill ratio far below 0.9)."""
    qos.tracker.submit("sx", "live", 10.0, 0.5).result("partial", filled_usd=1.0)


def burst(qos: EngineQos, *, after_s: float) -> Burst:
    """Send legs in a tight loop while allowed; keep asking for `after_s` past the breach."""
    b = Burst()
    breach_at = 0.0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        allowed = qos.trading_allowed()
        if b.breach_leg is not None:
            b.asked_after += 1
            if allowed:
                b.allowed_after += 1
                send_leg(qos)
            if time.monotonic() - breach_at >= after_s:
                return b
            continue
        assert allowed, qos.why_not()
        b.legs += 1
        send_leg(qos)
        if qos.guard_requests[0]:
            b.breach_leg, breach_at = b.legs, time.monotonic()
    raise AssertionError(f"no breach after {b.legs} legs")


def guard_reasons(orchestrator: Orchestrator) -> list[str]:
    reasons = orchestrator.status()["reasons"]
    assert isinstance(reasons, list)
    return [r["name"] for r in reasons if r["source"] == "guard"]


def wait_until(predicate: object, timeout_s: float, what: str) -> float:
    start = time.monotonic()
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() - start < timeout_s, what
        time.sleep(0.002)
    return time.monotonic() - start


def test_no_leg_is_allowed_after_the_breaching_one(orchestrator: Orchestrator) -> None:
    with connect(REPO_ROOT / "config", env=ENV, overrides=orchestrator.overrides(*QOS)) as qos:
        changes = Changes().listen(qos)
        poll_s = qos.config.orchestrator.client_cache_s
        b = burst(qos, after_s=6 * poll_s)  # several status polls answer meanwhile
        assert b.breach_leg == MIN_ORDERS
        assert (b.allowed_after, b.asked_after > 10_000) == (0, True), qos.why_not()
        assert changes.paused.wait(1)
        assert guard_reasons(orchestrator) == [AlertName.FILL_RATIO_LOW]
        assert qos.guard_requests == (1, 1)
        orchestrator.resume()
        reopened_s = wait_until(qos.trading_allowed, 5, "still closed after the resume")
        assert changes.resumed.wait(1)
    assert reopened_s < 2 * poll_s + 0.1
    pause, resume = changes.seen
    assert (pause.allowed, pause.cause, pause.reasons) == (
        False,
        ChangeCause.GUARD,
        (f"guard:{AlertName.FILL_RATIO_LOW}",),
    )
    assert pause.detail.startswith("venue=sx fill_ratio=0.1000 < 0.9")
    assert (resume.allowed, resume.cause) == (True, ChangeCause.ORCHESTRATOR)


def test_a_stopped_orchestrator_stops_trading_within_two_polls(
    orchestrator: Orchestrator,
) -> None:
    with connect(REPO_ROOT / "config", env=ENV, overrides=orchestrator.overrides(*QOS)) as qos:
        changes = Changes().listen(qos)
        assert qos.trading_allowed()
        orchestrator.stop()
        stopped_at = time.monotonic()
        closed_s = wait_until(lambda: not qos.trading_allowed(), 5, "open without orchestrator")
        allowed = sum(qos.trading_allowed() for _ in range(100_000))
        assert changes.paused.wait(5)
        why = qos.why_not()
    poll_s = qos.config.orchestrator.client_cache_s
    assert closed_s < 2 * poll_s + 0.1, f"closed {closed_s:.3f} s after the stop"
    assert allowed == 0
    (pause,) = changes.seen
    assert (pause.allowed, pause.cause) == (False, ChangeCause.UNREACHABLE)
    assert why is not None and orchestrator.url in why and "fail closed" in why
    assert time.monotonic() - stopped_at < 10


def test_no_leg_after_the_breach_with_the_orchestrator_stopped_even_failing_open(
    orchestrator: Orchestrator,
) -> None:
    """With `client_fail_closed: false` a dead orchestrator lets the engine trade; the guard's
    latch still stops it at the breaching leg, with nobody to acknowledge the pause."""
    overrides = orchestrator.overrides(*QOS, "orchestrator.client_fail_closed=false")
    with connect(REPO_ROOT / "config", env=ENV, overrides=overrides) as qos:
        changes = Changes().listen(qos)
        orchestrator.stop()
        assert changes.paused.wait(1) is False  # failing open: no pause to hear
        b = burst(qos, after_s=6 * qos.config.orchestrator.client_cache_s)
        assert changes.paused.wait(1)
        requests = qos.guard_requests
    assert b.breach_leg == MIN_ORDERS
    assert (b.allowed_after, b.asked_after > 10_000) == (0, True)
    assert requests == (1, 0)
    (pause,) = changes.seen
    assert pause.cause == ChangeCause.GUARD


def test_a_breach_while_the_orchestrator_is_down_holds_until_it_knows(
    orchestrator: Orchestrator,
) -> None:
    """The guard latches with nobody to tell; a restarted orchestrator saying `running`
    (it never heard of the pause) does not reopen; the delivered pause then holds."""
    with connect(REPO_ROOT / "config", env=ENV, overrides=orchestrator.overrides(*QOS)) as qos:
        inflight = [qos.tracker.submit("sx", "live", 10.0, 0.5) for _ in range(MIN_ORDERS)]
        orchestrator.stop()
        wait_until(lambda: not qos.trading_allowed(), 5, "open without orchestrator")
        inflight[0].result("partial", filled_usd=1.0)  # a late fill breaches
        assert qos.guard_requests == (1, 0)
        allowed = 0
        orchestrator.start()
        ran_running = False
        deadline = time.monotonic() + 20
        while not guard_reasons(orchestrator):  # until the notifier's retry lands
            assert time.monotonic() < deadline, "the guard's pause never reached the orchestrator"
            state = orchestrator.status()["state"]
            ran_running |= state == "running"
            allowed += sum(qos.trading_allowed() for _ in range(2_000))
        allowed += sum(qos.trading_allowed() for _ in range(20_000))
        time.sleep(3 * qos.config.orchestrator.client_cache_s)
        allowed += sum(qos.trading_allowed() for _ in range(20_000))
        why = qos.why_not()
        orchestrator.resume()
        wait_until(qos.trading_allowed, 5, "still closed after the resume")
    assert ran_running, "the restarted orchestrator never said running: nothing was proven"
    assert allowed == 0
    assert why is not None and "QoS guard paused" in why, why
    assert qos.guard_requests == (1, 1)


def test_strict_start_without_orchestrator_raises_and_says_where(
    orchestrator: Orchestrator,
) -> None:
    orchestrator.stop()
    overrides = orchestrator.overrides(*QOS)
    with pytest.raises(OrchestratorError) as err:
        connect(REPO_ROOT / "config", env=ENV, overrides=overrides, strict=True)
    assert orchestrator.url in str(err.value) and "arbqos orchestrator" in str(err.value)


def test_lenient_start_stays_closed_until_the_orchestrator_answers(
    orchestrator: Orchestrator,
) -> None:
    orchestrator.stop()
    with connect(REPO_ROOT / "config", env=ENV, overrides=orchestrator.overrides(*QOS)) as qos:
        changes = Changes().listen(qos)
        assert not qos.trading_allowed()
        assert "did not answer" in (qos.why_not() or "")
        orchestrator.start()
        wait_until(qos.trading_allowed, 10, "still closed with the orchestrator up")
        assert changes.resumed.wait(1)
    assert [c.allowed for c in changes.seen] == [True]


def test_an_alert_pause_is_seen_within_one_poll_and_heard_once(
    orchestrator: Orchestrator,
) -> None:
    with connect(REPO_ROOT / "config", env=ENV, overrides=orchestrator.overrides(*QOS)) as qos:
        changes = Changes().listen(qos)
        paused_at = time.monotonic()
        qos.orchestrator.pause("maintenance", "by hand")
        seen_s = wait_until(lambda: not qos.trading_allowed(), 5, "never saw the pause")
        assert changes.paused.wait(1)
        qos.orchestrator.pause("second", "already paused: no new transition")
        time.sleep(3 * qos.config.orchestrator.client_cache_s)
    assert seen_s < qos.config.orchestrator.client_cache_s + 0.1
    (pause,) = changes.seen
    assert pause.cause == ChangeCause.ORCHESTRATOR and "manual:maintenance" in pause.reasons
    assert time.monotonic() - paused_at < 10
