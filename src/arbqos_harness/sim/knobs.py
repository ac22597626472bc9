"""Fault and latency knobs of the venue simulators, changeable while they run."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

Outage = Literal["none", "503", "hang"]
OUTAGES: tuple[str, ...] = ("none", "503", "hang")

# Where no public source gives a number the value is a project choice, marked so below.
SX_PREGAME_DELAY_S = 0.5
"""SX Bet betting delay before matching, pregame, all sports (SX API docs, orders)."""
SX_LIVE_DELAY_S = (3.0, 10.0)
"""SX Bet live betting delay range: NFL 3 s up to soccer 10 s (SX API docs, orders)."""
SX_META_TX_LIMIT = 10
"""SX Bet: "Cannot have more than 10 meta transactions at once" (META_TX_RATE_LIMIT_REACHED)."""


class KnobError(ValueError):
    """A knob change names an unknown knob or a value out of range."""


@dataclass(frozen=True)
class SimKnobs:
    """Latency, outcome and fault settings of one venue simulator (immutable; swap to change).

    Delays are venue seconds; every sleep is `delay * slow_accept * time_scale` wall seconds,
    so `time_scale=0.1` runs a live 3-10 s betting delay in 0.3-1 s.

    >>> SimKnobs().with_changes({"reject_prob": 0.5}).reject_prob
    0.5
    """

    time_scale: float = 1.0
    """Wall seconds per simulated venue second (0.1 runs ten times faster)."""
    pregame_delay_s: tuple[float, float] = (SX_PREGAME_DELAY_S, SX_PREGAME_DELAY_S)
    """Submit-to-accept delay of pregame orders, uniform in [min, max], venue seconds."""
    live_delay_s: tuple[float, float] = SX_LIVE_DELAY_S
    """Submit-to-accept delay of live orders, uniform in [min, max], venue seconds."""
    jitter_s: float = 0.05
    """Mean of an exponential extra processing time added to every delay (project choice)."""
    slow_accept: float = 1.0
    """Factor on every accept delay; 3.0 makes the venue three times slower to accept."""
    partial_prob: float = 0.05
    """Probability that an order is filled partially (SX) (project choice)."""
    partial_fraction: tuple[float, float] = (0.2, 0.8)
    """Filled fraction of a partial fill, uniform in [min, max]."""
    reject_prob: float = 0.03
    """Probability that an order is rejected after the delay (SX error code / Azuro Rejected)."""
    void_prob: float = 0.02
    """Probability that an accepted bet is later voided (SX outcome 0, Azuro Canceled)."""
    trade_fail_prob: float = 0.0
    """SX: probability that an accepted fill ends as tradeStatus FAILED on chain."""
    error_rate: float = 0.0
    """Probability that a venue request fails with HTTP 500 at once."""
    outage: Outage = "none"
    """`503`: every venue endpoint answers 503; `hang`: requests hang until the outage ends."""
    rate_limit_per_min: int = 5500
    """Order requests per rolling minute before HTTP 429 (SX docs: 5,500/min for POST /orders)."""
    max_inflight: int = SX_META_TX_LIMIT
    """Orders in flight before META_TX_RATE_LIMIT_REACHED (SX) or a Rejected order (Azuro)."""
    slippage_bps: tuple[float, float] = (0.0, 15.0)
    """Fill odds minus quoted odds, implied probability bps: normal(mean, sd)."""
    confirm_s: float = 2.0
    """SX: PENDING to SUCCESS/FAILED of a trade; Azuro: Accepted to mined, venue seconds."""
    settle_after_s: float = 60.0
    """Accepted bets settle (or are voided) this long after acceptance, venue seconds."""
    subgraph_lag_blocks: int = 0
    """Azuro subgraph: blocks behind the chain head it reports."""
    subgraph_indexing_errors: bool = False
    """Azuro subgraph: value of `hasIndexingErrors`."""

    def __post_init__(self) -> None:
        _check(self)

    def with_changes(self, changes: Mapping[str, Any]) -> SimKnobs:
        """Return a copy with `changes` applied; unknown names or bad values raise KnobError."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise KnobError(f"unknown knob(s) {unknown}; known knobs: {sorted(known)}")
        converted = {name: _convert(self, name, value) for name, value in changes.items()}
        return dataclasses.replace(self, **converted)

    def to_json(self) -> dict[str, Any]:
        """Return the knobs as JSON-ready values (tuples become lists)."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(self)}

    def accept_delay_s(self, phase: str, draw: float, jitter: float) -> float:
        """Wall seconds from submit to accept for `phase` given uniform `draw` and jitter draw."""
        low, high = self.live_delay_s if phase == "live" else self.pregame_delay_s
        venue_s = (low + (high - low) * draw) * self.slow_accept + jitter
        return venue_s * self.time_scale


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _convert(knobs: SimKnobs, name: str, value: Any) -> Any:
    """Convert one JSON value to the type of knob `name`, naming the knob on failure."""
    current = getattr(knobs, name)
    try:
        if isinstance(current, bool):
            if not isinstance(value, bool):
                raise TypeError("expected true or false")
            return value
        if isinstance(current, tuple):
            if not isinstance(value, list | tuple) or len(value) != 2:
                raise TypeError("expected a list of two numbers [min, max]")
            return (_number(value[0]), _number(value[1]))
        if isinstance(current, int):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError("expected an integer")
            return value
        if isinstance(current, float):
            return _number(value)
        if name == "outage":
            if value not in OUTAGES:
                raise TypeError(f"expected one of {list(OUTAGES)}")
            return value
    except TypeError as err:
        raise KnobError(f"knob {name} = {value!r}: {err}") from err
    raise KnobError(f"knob {name} cannot be changed")  # pragma: no cover - every type handled


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("expected a number")
    result = float(value)
    if not math.isfinite(result):
        raise TypeError("expected a finite number")
    return result


def _check(k: SimKnobs) -> None:
    """Raise KnobError naming the first knob out of range."""
    problems: list[str] = []
    for name in ("partial_prob", "reject_prob", "void_prob", "trade_fail_prob", "error_rate"):
        value = getattr(k, name)
        if not 0.0 <= value <= 1.0:
            problems.append(f"{name} = {value}: expected a probability in [0, 1]")
    if k.partial_prob + k.reject_prob > 1.0:
        problems.append(
            f"partial_prob + reject_prob = {k.partial_prob + k.reject_prob}: must not exceed 1"
        )
    if k.time_scale <= 0:
        problems.append(f"time_scale = {k.time_scale}: expected > 0")
    if k.slow_accept <= 0:
        problems.append(f"slow_accept = {k.slow_accept}: expected > 0")
    for name in ("jitter_s", "confirm_s", "settle_after_s"):
        if getattr(k, name) < 0:
            problems.append(f"{name} = {getattr(k, name)}: expected >= 0")
    for name in ("pregame_delay_s", "live_delay_s", "partial_fraction"):
        low, high = getattr(k, name)
        if low < 0 or high < low:
            problems.append(f"{name} = [{low}, {high}]: expected 0 <= min <= max")
    low, high = k.partial_fraction
    if high >= 1.0 or low <= 0.0:
        problems.append(f"partial_fraction = [{low}, {high}]: expected within (0, 1)")
    if k.slippage_bps[1] < 0:
        problems.append(f"slippage_bps sd = {k.slippage_bps[1]}: expected >= 0")
    if k.rate_limit_per_min < 1 or k.max_inflight < 1:
        problems.append("rate_limit_per_min and max_inflight must be >= 1")
    if k.subgraph_lag_blocks < 0:
        problems.append(f"subgraph_lag_blocks = {k.subgraph_lag_blocks}: expected >= 0")
    if k.outage not in OUTAGES:
        problems.append(f"outage = {k.outage!r}: expected one of {list(OUTAGES)}")
    if problems:
        raise KnobError("; ".join(problems))


class KnobBox:
    """Holds the current knobs of one simulator; `update()` swaps them atomically."""

    def __init__(self, knobs: SimKnobs | None = None) -> None:
        self._knobs = knobs or SimKnobs()

    @property
    def current(self) -> SimKnobs:
        """The knobs in force now."""
        return self._knobs

    def update(self, changes: Mapping[str, Any]) -> SimKnobs:
        """Apply `changes` (validated as a whole) and return the new knobs."""
        self._knobs = self._knobs.with_changes(changes)
        return self._knobs
