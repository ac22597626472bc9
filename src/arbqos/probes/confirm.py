"""Confirmed target state: down only after N failed attempts in a row, up after M successes.

A pure state machine, fed one attempt result at a time (compare Gatus' failure/success
thresholds). The heartbeat keeps one `Confirmation` per signal of a target and decides on the
confirmed state; the raw result of every attempt is only logged and exported.

Start-up is neither fail-open nor a blip: a target starts `unknown` and is reported nowhere
until it is confirmed, in either direction, by the same thresholds as any later change (a first
failure alone never reports down, a first success alone never reports up). An unconfirmed
target is re-probed every `retry_interval_s`, so with the defaults a healthy target is
confirmed up one retry interval after start-up and a dead one down two retry intervals after.

>>> policy = ConfirmPolicy(failure_threshold=3, success_threshold=2, retry_interval_s=5)
>>> c = Confirmation()
>>> for ok in (True, True, False, False):
...     c = c.observe(ok, policy)
>>> c.state, c.in_row, c.needs_retry
(<TargetState.UP: 'up'>, 2, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from arbqos.config.schema import HeartbeatConfig


class TargetState(StrEnum):
    """The confirmed state of a target (or of one of its signals)."""

    UNKNOWN = "unknown"
    UP = "up"
    DOWN = "down"


@dataclass(frozen=True)
class ConfirmPolicy:
    """How many attempts in a row confirm a change, and how soon an unsettled target is re-probed.

    >>> ConfirmPolicy.from_config(cfg.heartbeat)
    ConfirmPolicy(failure_threshold=3, success_threshold=2, retry_interval_s=5.0)
    """

    failure_threshold: int = 3
    success_threshold: int = 2
    retry_interval_s: float = 5.0

    def __post_init__(self) -> None:
        for name in ("failure_threshold", "success_threshold"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"heartbeat.{name} = {value!r}: expected a whole number >= 1")
        if not self.retry_interval_s > 0:
            raise ValueError(
                f"heartbeat.retry_interval_s = {self.retry_interval_s!r}: expected a number > 0"
            )

    @classmethod
    def from_config(cls, heartbeat: HeartbeatConfig) -> ConfirmPolicy:
        """The policy set by the `heartbeat` thresholds and retry interval."""
        return cls(
            failure_threshold=heartbeat.failure_threshold,
            success_threshold=heartbeat.success_threshold,
            retry_interval_s=heartbeat.retry_interval_s,
        )

    @classmethod
    def single(cls) -> ConfirmPolicy:
        """Each attempt decides alone (`--once`: one attempt, no history to confirm against)."""
        return cls(failure_threshold=1, success_threshold=1)


@dataclass(frozen=True)
class Confirmation:
    """The confirmed state of one signal and the run of identical attempt results behind it.

    `last_ok` is the latest attempt's result and `in_row` how many attempts in a row gave it.
    """

    state: TargetState = TargetState.UNKNOWN
    last_ok: bool | None = None
    in_row: int = 0
    attempts: int = 0

    def observe(self, ok: bool, policy: ConfirmPolicy) -> Confirmation:
        """Return the state after one more attempt with result `ok`."""
        in_row = self.in_row + 1 if ok == self.last_ok else 1
        state = self.state
        if ok and in_row >= policy.success_threshold:
            state = TargetState.UP
        elif not ok and in_row >= policy.failure_threshold:
            state = TargetState.DOWN
        return Confirmation(state=state, last_ok=ok, in_row=in_row, attempts=self.attempts + 1)

    @property
    def settled(self) -> bool:
        """True when the latest attempt agrees with the confirmed state."""
        if self.state is TargetState.UP:
            return self.last_ok is True
        if self.state is TargetState.DOWN:
            return self.last_ok is False
        return False

    @property
    def needs_retry(self) -> bool:
        """True when an attempt was made and the state is unknown or a change is pending."""
        return self.attempts > 0 and not self.settled

    def progress(self, policy: ConfirmPolicy) -> str:
        """Say where confirmation stands, e.g. `failure 1 of 3 before down`."""
        if self.last_ok is None:
            return "no attempt yet"
        if self.settled:
            return f"{self.state} confirmed ({self.in_row} in a row)"
        if self.last_ok:
            return f"success {self.in_row} of {policy.success_threshold} before up"
        return f"failure {self.in_row} of {policy.failure_threshold} before down"
