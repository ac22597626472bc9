"""Feed the simulated engine's legs into the real instrumentation (`ExecutionTracker`)."""

from __future__ import annotations

from contextlib import AbstractContextManager

from arbqos.instrument.tracker import ExecutionTracker, Leg
from arbqos_harness.sim.observer import CallHandle, LegInfo, LegResult, Settlement


class TrackerObserver:
    """An `EngineObserver` that records every leg, settlement and call through a tracker.

    The engine and the tracker must share one clock: leg times are its monotonic seconds.

    >>> qos = arbqos.engine.connect(config_dir, env=os.environ)
    >>> engine = ArbEngine(
    ...     settings, trading_allowed=qos.trading_allowed, observer=TrackerObserver(qos.tracker)
    ... )
    """

    def __init__(self, tracker: ExecutionTracker) -> None:
        self._tracker = tracker
        self._legs: dict[str, Leg] = {}

    def leg_submitted(self, leg: LegInfo) -> None:
        """Count the submission (orders, requested stake, stake fraction, guard)."""
        self._legs[leg.leg_id] = self._tracker.submit(
            leg.venue, leg.phase, leg.stake_usd, leg.quoted_prob, quoted_at=leg.quoted_at
        )

    def leg_result(self, leg: LegInfo, result: LegResult) -> None:
        """Record the terminal result (accept time, filled stake, slippage, guard)."""
        tracked = self._legs.pop(leg.leg_id)
        accepted = result.result in ("filled", "partial")
        tracked.result(
            result.result,
            filled_usd=result.filled_usd if accepted else None,
            filled_prob=result.filled_prob if accepted else None,
            accepted_at=result.accepted_at if accepted else None,
        )

    def bet_settled(self, venue: str, outcome: Settlement) -> None:
        """Count the settlement (void also counts as voided)."""
        self._tracker.settled(venue, outcome)

    def call(self, venue: str, endpoint: str) -> AbstractContextManager[CallHandle]:
        """Time the call with the tracker (request duration and error class metrics)."""
        return self._tracker.call(venue, endpoint)
