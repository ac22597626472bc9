"""TradingGate: the engine's answer to "may I send this leg", latched by the guard at once.

Two inputs close the gate. The in-process guard latches it in the thread that recorded the
breaching leg, before its pause request has even left the process (`GuardLatch`). The
orchestrator's status, polled in the background, closes it for any other pause, and when the
status cannot be read (fail closed). A guard latch lifts only on a status answer saying
`running` that was asked after the orchestrator acknowledged every pause request of the guard:
an answer from before the pause landed, a failed request, a cache, none of them reopens it.

`allowed()` is the hot path: two attribute reads and a clock read, no lock, no I/O.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

from arbqos.clock import Clock, SystemClock
from arbqos.engine.changes import ChangeCause, TradingChange
from arbqos.wire import StatusResponse

logger = logging.getLogger(__name__)


class TradingGate:
    """The local latch and the orchestrator's last answer, with one event per transition.

    >>> gate = TradingGate(max_age_s=0.5, fail_closed=True, publish=dispatcher.publish)
    >>> gate.answered(status, asked_at=time.monotonic(), acknowledged=0)
    >>> gate.allowed()
    True
    """

    def __init__(
        self,
        *,
        max_age_s: float,
        fail_closed: bool,
        publish: Callable[[TradingChange], None],
        clock: Clock | None = None,
    ) -> None:
        self.latched = False
        """True from the guard's pause decision until the orchestrator says running after it."""
        self._remote: tuple[bool, float] = (False, -math.inf)
        """(the orchestrator's last answer allows trading, monotonic time it was asked)."""
        self._max_age_s = max_age_s if fail_closed else math.inf
        self._fail_closed = fail_closed
        self._publish = publish
        self._clock: Clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._open = False
        """The state last published: closed until the orchestrator first says running."""
        self._latch_needs = 0
        self._latch_why = ""
        self._remote_why = "no answer from the orchestrator yet"
        self.closed = False

    def allowed(self) -> bool:
        """May a leg be sent now: no guard latch, and a fresh answer of the orchestrator."""
        if self.latched:
            return False
        allowed, asked_at = self._remote
        return allowed and time.monotonic() - asked_at < self._max_age_s

    def why_not(self) -> str | None:
        """Why `allowed()` is False now, in words; None when it is True."""
        if self.allowed():
            return None
        if self.closed:
            return "closed: the engine's arbqos connection was closed"
        if self.latched:
            return self._latch_why
        allowed, asked_at = self._remote
        if not allowed:
            return self._remote_why
        age = time.monotonic() - asked_at
        return (
            f"the orchestrator's last answer is {age:.2f} s old (limit {self._max_age_s:g} s): "
            "the status request in flight is slow or the poller is stuck"
        )

    def latch(self, reason: str, detail: str, request: int) -> None:
        """The guard decided to pause (its `request`-th pause): close at once, publish."""
        self.latched = True  # first: from this instruction on, no leg passes
        with self._lock:
            self._latch_needs = max(self._latch_needs, request)
            self._latch_why = (
                f"the QoS guard paused for {reason} ({detail}); trading stays stopped until the "
                "orchestrator has acknowledged the pause request and says running again"
            )
            self._settle(ChangeCause.GUARD, (f"guard:{reason}",), detail)

    def answered(self, status: StatusResponse, *, asked_at: float, acknowledged: int) -> None:
        """A status answer asked at `asked_at`, when the orchestrator had acknowledged
        `acknowledged` guard pause requests."""
        with self._lock:
            if self.closed:
                return
            running = not status.paused
            self._remote = (running, asked_at)
            reasons = tuple(f"{r.source}:{r.name}" for r in status.reasons if r.active)
            detail = "; ".join(r.detail for r in status.reasons if r.active and r.detail)
            self._remote_why = f"the orchestrator is {status.state}" + (
                f" ({', '.join(reasons)})" if reasons else ""
            )
            if running and self.latched and acknowledged >= self._latch_needs:
                self.latched = False
                logger.info("guard pause acknowledged and lifted by the orchestrator")
            self._settle(ChangeCause.ORCHESTRATOR, reasons, detail)

    def unreachable(self, error: str, *, asked_at: float) -> None:
        """The status asked at `asked_at` could not be read (`error` says why)."""
        with self._lock:
            self._remote = (not self._fail_closed, asked_at)
            self._remote_why = f"the orchestrator did not answer ({error}): fail closed"
            self._settle(ChangeCause.UNREACHABLE, (), error)

    def close(self) -> None:
        """Close for good: `allowed()` is False from now on."""
        self.latched = True
        with self._lock:
            self.closed = True
            self._latch_why = "closed: the engine's arbqos connection was closed"

    def _settle(self, cause: ChangeCause, reasons: tuple[str, ...], detail: str) -> None:
        """Publish a change when the state (latch and answer, not age) moved; holds the lock."""
        now_open = not self.latched and self._remote[0]
        if now_open == self._open:
            return
        self._open = now_open
        self._publish(TradingChange(now_open, cause, reasons, detail, self._clock.now_utc()))


class PauseRequests(Protocol):
    """What the latch forwards to: the guard's `PauseNotifier`."""

    acknowledged: int

    def request_pause(self, reason: str, detail: str) -> None:
        """Queue one pause request for the orchestrator and return at once."""
        ...


class GuardLatch:
    """The guard's pause sink: stop this process's trading at once, then tell the orchestrator.

    >>> guard = QosGuard(config.exec, GuardLatch(gate, PauseNotifier(url, token=token)))
    """

    def __init__(self, gate: TradingGate, requests: PauseRequests) -> None:
        self._gate = gate
        self._requests = requests
        self._sent = 0

    @property
    def sent(self) -> int:
        """Pause requests made by the guard."""
        return self._sent

    @property
    def acknowledged(self) -> int:
        """Pause requests the orchestrator acknowledged (delivered in order)."""
        return self._requests.acknowledged

    def request_pause(self, reason: str, detail: str) -> None:
        """Latch the gate, then queue the request; called by the guard, returns at once."""
        self._sent += 1
        self._gate.latch(reason, detail, self._sent)
        self._requests.request_pause(reason, detail)
