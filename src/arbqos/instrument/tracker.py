"""ExecutionTracker: what venue clients call for every order leg, bet settlement and API call."""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Literal, ParamSpec, Protocol, TypeVar

from prometheus_client import CollectorRegistry

from arbqos.clock import Clock, SystemClock
from arbqos.config.schema import ArbqosConfig
from arbqos.instrument.calls import DEFAULT_ENDPOINTS, VenueCall
from arbqos.instrument.metrics import ExecutionMetrics, Lane
from arbqos.metrics.definitions import ORDER_RESULTS, PHASES, VENUES
from arbqos.registry.model import RuntimeRegistryAPI, WalletBalance

_new_leg = object.__new__
P = ParamSpec("P")
R = TypeVar("R")
Settlement = Literal["won", "lost", "void"]
BankProvider = Callable[[], float | None]


class GuardWindow(Protocol):
    """One venue's side of the QoS guard, called on every leg event."""

    def add_submit(self, t: float) -> None:
        """A leg was submitted at monotonic time `t`."""
        ...

    def add_result(
        self, t: float, requested_usd: float, filled_usd: float, accept_s: float | None
    ) -> None:
        """A leg reached its terminal result at monotonic time `t`."""
        ...


class GuardHook(Protocol):
    """What the tracker feeds (see `arbqos.guard.QosGuard`): one window per venue."""

    def bind(self, venue: str) -> GuardWindow:
        """The window receiving the events of `venue`."""
        ...


def bank_usd(balances: Mapping[str, WalletBalance]) -> float | None:
    """Total USD of the known wallet balances (the bank), or None when none is known."""
    known = [b.balance_usd for b in balances.values() if b.balance_usd is not None]
    return float(sum(known)) if known else None


def _filled_usd(result: str, filled_usd: float | None) -> float:
    """The accepted stake of a result other than a plain `filled` (validated)."""
    if result in ("filled", "partial"):
        if filled_usd is None:
            raise ValueError("a partial result needs filled_usd (the stake accepted, USD)")
        if not filled_usd >= 0:
            raise ValueError(f"filled_usd must be >= 0, got {filled_usd!r}")
        return float(filled_usd)
    if filled_usd:
        raise ValueError(f"a {result} leg has no accepted stake, got {filled_usd}")
    return 0.0


class Leg:
    """One submitted order leg (from `ExecutionTracker.submit`); call `result()` exactly once."""

    __slots__ = ("_lane", "outcome", "quoted_at", "quoted_prob", "stake_usd", "submitted_at")

    # Built by ExecutionTracker.submit without an __init__ frame (hot path).
    _lane: Lane
    outcome: str | None
    quoted_at: float | None
    """Monotonic time the quote was observed (None if not given)."""
    quoted_prob: float | None
    stake_usd: float
    submitted_at: float
    """Monotonic time of the submission."""

    @property
    def venue(self) -> str:
        """The venue the leg went to."""
        return self._lane.venue

    @property
    def phase(self) -> str:
        """`pregame` or `live`."""
        return self._lane.phase

    def result(
        self,
        result: str,
        *,
        filled_usd: float | None = None,
        filled_prob: float | None = None,
        accepted_at: float | None = None,
    ) -> None:
        """Record the terminal result of this leg (once).

        Args:
            result: `filled`, `partial`, `rejected`, `expired` or `error`.
            filled_usd: stake accepted, USD; defaults to the whole stake for `filled`, required
                for `partial`, zero otherwise.
            filled_prob: implied probability actually obtained; slippage is
                `(filled_prob - quoted_prob) * 10_000` bps, positive = we paid more.
            accepted_at: monotonic time the venue accepted, if known better than "now".
        """
        if self.outcome is not None:
            raise ValueError(
                f"leg already has result {self.outcome!r}; a retry is a new leg (submit again)"
            )
        lane = self._lane
        try:
            counter = lane.results[result]
        except KeyError:
            raise ValueError(f"unknown result {result!r}; use one of {ORDER_RESULTS}") from None
        if filled_usd is None and result == "filled":
            filled = self.stake_usd
        else:
            filled = _filled_usd(result, filled_usd)
            if filled > self.stake_usd * (1 + 1e-9):
                raise ValueError(
                    f"filled_usd {filled} exceeds the leg's stake {self.stake_usd}; a venue "
                    "cannot accept more than was asked"
                )
        now = lane.mono()
        accept_s: float | None = None
        if filled > 0:
            at = now if accepted_at is None else accepted_at
            accept_s = at - self.submitted_at
            if not accept_s >= 0:  # also refuses NaN
                raise ValueError(f"accepted_at {at} is before the leg was submitted (or NaN)")
            self.outcome = result
            counter.inc()
            lane.resolved.inc(self.stake_usd)
            lane.filled.inc(filled)
            lane.accept.observe(accept_s)
            quoted_at = self.quoted_at
            if quoted_at is not None:
                lane.quote_to_fill.observe(at - quoted_at)
            if filled_prob is not None:
                quoted_prob = self.quoted_prob
                if quoted_prob is not None:
                    lane.slippage.observe((filled_prob - quoted_prob) * 10_000.0)
        else:
            self.outcome = result
            counter.inc()
            lane.resolved.inc(self.stake_usd)
        guard = lane.guard
        if guard is not None:
            guard.add_result(now, self.stake_usd, filled, accept_s)

    def __repr__(self) -> str:
        return (
            f"Leg(venue={self.venue!r}, phase={self.phase!r}, stake_usd={self.stake_usd}, "
            f"outcome={self.outcome!r})"
        )


class ExecutionTracker:
    """Updates the execution metrics (contract §4) and feeds the QoS guard; no global state.

    One order lifecycle is two calls; times are the injected clock's monotonic seconds:

    >>> tracker = ExecutionTracker(registry, config, clock=SystemClock(), bank=2_000.0, guard=guard)
    >>> leg = tracker.submit("sx", "live", 50.0, quoted_prob=0.52, quoted_at=quote_mono)
    >>> leg.result("filled", filled_usd=50.0, filled_prob=0.53)   # slippage +100 bps
    >>> with tracker.call("sx", "orders_fill") as call:            # latency + error class
    ...     response = client.post(url, json=body)
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        config: ArbqosConfig,
        *,
        clock: Clock | None = None,
        bank: float | BankProvider | None = None,
        guard: GuardHook | None = None,
        endpoints: Mapping[str, Iterable[str]] = DEFAULT_ENDPOINTS,
    ) -> None:
        self._clock: Clock = clock or SystemClock()
        # SystemClock.monotonic is time.monotonic; skip a Python frame on the hot path.
        self._mono = (
            time.monotonic if isinstance(self._clock, SystemClock) else self._clock.monotonic
        )
        self._metrics = ExecutionMetrics(registry, config, endpoints=endpoints)
        self._lanes = self._metrics.lanes
        for lanes in self._lanes.values():
            for lane in lanes.values():
                lane.mono = self._mono
        if guard is not None:
            for venue, lanes in self._lanes.items():
                window = guard.bind(venue)
                for lane in lanes.values():
                    lane.guard = window
        self._bank_fn: BankProvider | None = None
        self._bank: float | None = None
        if callable(bank):
            self._bank_fn = bank
        else:
            self.set_bank(bank)
        metrics = self._metrics.metrics
        metrics["arb_engine_bank_usd"].set_function(lambda: self.bank or 0.0)
        metrics["arb_engine_bank_known"].set_function(lambda: 1.0 if self.bank else 0.0)

    @property
    def bank(self) -> float | None:
        """The bank (USD) stake fractions divide by now; None when unknown (stakes unchecked)."""
        if self._bank_fn is None:
            return self._bank
        try:
            value = self._bank_fn()
        except Exception:  # a scrape must not fail because the engine's provider did
            return None
        return value if value and value > 0 else None

    def set_bank(self, bank_usd_value: float | None) -> None:
        """Set the bank (USD) that stake fractions divide by; None or <= 0 means unknown.

        While the bank is unknown, each leg counts in `arb_stake_unchecked_total` instead of
        `arb_stake_fraction_of_bank`, and `arb_engine_bank_known` is 0.
        """
        self._bank_fn = None
        self._bank = bank_usd_value if bank_usd_value and bank_usd_value > 0 else None

    async def refresh_bank(self, runtime: RuntimeRegistryAPI) -> float | None:
        """Set the bank from `runtime.get_bank()` (local or remote registry) and return it."""
        value = bank_usd(await runtime.get_bank())
        self.set_bank(value)
        return value

    def submit(
        self,
        venue: str,
        phase: str,
        stake_usd: float,
        quoted_prob: float | None = None,
        *,
        quoted_at: float | datetime | None = None,
    ) -> Leg:
        """Record a submitted leg and return it.

        Args:
            venue: `sx` or `azuro`.
            phase: `pregame` or `live`.
            stake_usd: stake asked for, USD (> 0).
            quoted_prob: implied probability of the quote the decision used (0-1).
            quoted_at: when the quote was observed: this clock's monotonic seconds, or an
                aware datetime (converted with the clock's wall time).
        """
        try:
            lane = self._lanes[venue][phase]
        except KeyError:
            raise ValueError(
                f"unknown venue/phase {venue!r}/{phase!r}; use venue in {VENUES}, phase in {PHASES}"
            ) from None
        if not stake_usd > 0:
            raise ValueError(f"stake_usd must be a positive USD amount, got {stake_usd!r}")
        now = self._mono()
        if type(quoted_at) is not float and quoted_at is not None:
            quoted_at = self._to_monotonic(quoted_at, now)
        lane.submitted.inc()
        lane.requested.inc(stake_usd)
        bank = self._bank if self._bank_fn is None else self._bank_fn()
        if bank:
            lane.fraction.observe(stake_usd / bank)
        else:  # the stake cap cannot be checked: count it, so that an alert can say so
            lane.unchecked.inc()
        guard = lane.guard
        if guard is not None:
            guard.add_submit(now)
        leg = _new_leg(Leg)
        leg._lane = lane
        leg.stake_usd = stake_usd
        leg.quoted_prob = quoted_prob
        leg.submitted_at = now
        leg.quoted_at = quoted_at
        leg.outcome = None
        return leg

    def record_result(
        self,
        leg: Leg,
        result: str,
        *,
        filled_usd: float | None = None,
        filled_prob: float | None = None,
        accepted_at: float | None = None,
    ) -> None:
        """Record the terminal result of `leg` (once); same as `leg.result(...)`."""
        leg.result(result, filled_usd=filled_usd, filled_prob=filled_prob, accepted_at=accepted_at)

    def settled(self, venue: str, outcome: Settlement) -> None:
        """Count an accepted bet settled as `won`, `lost` or `void` (void also counts voided)."""
        if outcome not in ("won", "lost", "void"):
            raise ValueError(f"unknown settlement {outcome!r}; use won, lost or void")
        try:
            self._metrics.settled[venue].inc()
        except KeyError:
            raise ValueError(f"unknown venue {venue!r}; use one of {VENUES}") from None
        if outcome == "void":
            self._metrics.voided[venue].inc()

    def voided(self, venue: str) -> None:
        """Count an accepted bet voided / cancelled by the venue (a `void` settlement)."""
        self.settled(venue, "void")

    def call(self, venue: str, endpoint: str) -> VenueCall:
        """Context manager (sync or async) timing one venue call under a bounded endpoint name."""
        duration, errors = self._metrics.call_children(venue, endpoint)
        return VenueCall(duration, errors, self._mono)

    def timed(self, venue: str, endpoint: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
        """Decorator form of `call()` for plain and `async def` functions."""
        self._metrics.call_children(venue, endpoint)

        def decorate(func: Callable[P, R]) -> Callable[P, R]:
            if inspect.iscoroutinefunction(func):
                afunc: Callable[P, Awaitable[Any]] = func

                @functools.wraps(func)
                async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                    with self.call(venue, endpoint):
                        return await afunc(*args, **kwargs)

                return async_wrapper  # type: ignore[return-value]

            @functools.wraps(func)
            def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
                with self.call(venue, endpoint):
                    return func(*args, **kwargs)

            return wrapper

        return decorate

    def monotonic(self) -> float:
        """The tracker clock's monotonic seconds (the time base of `quoted_at`, `accepted_at`)."""
        return self._mono()

    def monotonic_of(self, moment: datetime, now: float | None = None) -> float:
        """This clock's monotonic time of the wall-clock `moment` (aware datetime)."""
        if now is None:
            now = self._mono()
        return now - (self._clock.now_utc() - moment).total_seconds()

    def _to_monotonic(self, quoted_at: float | datetime, now: float) -> float:
        if isinstance(quoted_at, datetime):
            return self.monotonic_of(quoted_at, now)
        return float(quoted_at)
