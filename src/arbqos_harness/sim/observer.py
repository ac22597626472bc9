"""How the simulated engine reports legs, settlements and venue calls (pluggable observers)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Settlement = Literal["won", "lost", "void"]
LegResultName = Literal["filled", "partial", "rejected", "expired", "error"]


@dataclass(frozen=True)
class LegInfo:
    """One order leg as submitted; times are the engine clock's monotonic seconds."""

    leg_id: str
    venue: str
    phase: str
    stake_usd: float
    quoted_prob: float | None
    """Implied probability of the quote the decision used."""
    quoted_at: float | None
    submitted_at: float


@dataclass(frozen=True)
class LegResult:
    """The terminal result of a leg."""

    result: LegResultName
    filled_usd: float
    filled_prob: float | None = None
    accepted_at: float | None = None
    """Monotonic time the venue accepted (None when nothing was accepted)."""
    code: str | None = None
    """The venue's error code or the failure class."""
    order_id: str | None = None
    """SX fillHash or Azuro order id, when the venue gave one."""


class CallHandle(Protocol):
    """Marks a timed venue call as failed (the shape of `arbqos.instrument.VenueCall`)."""

    def fail(self, error: str) -> None:
        """Count the call as failed with an error class (`rejected`, `http_5xx`, ...)."""
        ...

    def fail_status(self, status: int) -> None:
        """Count the call as failed when `status` is an HTTP error status."""
        ...


class EngineObserver(Protocol):
    """What the engine reports. `arbqos_harness.sim.tracking.TrackerObserver` feeds the real
    instrumentation (`arbqos.instrument.ExecutionTracker`); `RecordingObserver` keeps a list."""

    def leg_submitted(self, leg: LegInfo) -> None:
        """A leg is about to be sent to its venue."""
        ...

    def leg_result(self, leg: LegInfo, result: LegResult) -> None:
        """A leg reached its terminal result (exactly once per submitted leg)."""
        ...

    def bet_settled(self, venue: str, outcome: Settlement) -> None:
        """An accepted bet settled as won, lost or void."""
        ...

    def call(self, venue: str, endpoint: str) -> AbstractContextManager[CallHandle]:
        """Time one venue call; exceptions leaving the block count as failures."""
        ...


class _Call:
    """A call handle that remembers its failure class and duration."""

    def __init__(self) -> None:
        self.error: str | None = None
        self.duration_s = 0.0

    def fail(self, error: str) -> None:
        self.error = error

    def fail_status(self, status: int) -> None:
        if status == 429:
            self.error = "http_429"
        elif status >= 500:
            self.error = "http_5xx"
        elif status >= 400:
            self.error = "http_4xx"


@dataclass
class RecordingObserver:
    """Keeps every report in memory: `events` is a list of `(kind, payload)` tuples."""

    events: list[tuple[str, Any]] = field(default_factory=list)

    def leg_submitted(self, leg: LegInfo) -> None:
        """Remember a submitted leg."""
        self.events.append(("submitted", leg))

    def leg_result(self, leg: LegInfo, result: LegResult) -> None:
        """Remember a leg's result."""
        self.events.append(("result", (leg, result)))

    def bet_settled(self, venue: str, outcome: Settlement) -> None:
        """Remember a settlement."""
        self.events.append(("settled", (venue, outcome)))

    @contextmanager
    def call(self, venue: str, endpoint: str) -> Iterator[CallHandle]:
        """Remember a venue call with its duration and failure class."""
        handle = _Call()
        start = time.monotonic()
        try:
            yield handle
        except BaseException as exc:
            handle.error = handle.error or type(exc).__name__
            raise
        finally:
            handle.duration_s = time.monotonic() - start
            self.events.append(("call", (venue, endpoint, handle.error, handle.duration_s)))

    def of_kind(self, kind: str) -> list[Any]:
        """Payloads of one kind (`submitted`, `result`, `settled`, `call`)."""
        return [payload for k, payload in self.events if k == kind]


class FanOut:
    """Sends every report to several observers, in order."""

    def __init__(self, observers: Sequence[EngineObserver]) -> None:
        self._observers = list(observers)

    def leg_submitted(self, leg: LegInfo) -> None:
        """Forward to every observer."""
        for obs in self._observers:
            obs.leg_submitted(leg)

    def leg_result(self, leg: LegInfo, result: LegResult) -> None:
        """Forward to every observer."""
        for obs in self._observers:
            obs.leg_result(leg, result)

    def bet_settled(self, venue: str, outcome: Settlement) -> None:
        """Forward to every observer."""
        for obs in self._observers:
            obs.bet_settled(venue, outcome)

    @contextmanager
    def call(self, venue: str, endpoint: str) -> Iterator[CallHandle]:
        """Open the call on every observer; failures are marked on all of them."""
        with ExitStack() as stack:
            handles = [stack.enter_context(obs.call(venue, endpoint)) for obs in self._observers]
            yield _Multi(handles)


class _Multi:
    def __init__(self, handles: list[CallHandle]) -> None:
        self._handles = handles

    def fail(self, error: str) -> None:
        for handle in self._handles:
            handle.fail(error)

    def fail_status(self, status: int) -> None:
        for handle in self._handles:
            handle.fail_status(status)
