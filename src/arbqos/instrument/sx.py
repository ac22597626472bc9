"""SX Bet adapter: `POST /orders/fill/v2` request and response into tracker events.

Units (SX Bet API docs, "Filling orders"): `stakeWei` and `totalFilled` are base-token units
(USDC has 6 decimals, so `"50000000"` is 50 USDC); `desiredOdds` and `averageOdds` are the
taker's implied probability times 10^20 (`"83000000000000000000"` is 0.83).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from arbqos.instrument.outcome import FillOutcome, base_units, field
from arbqos.instrument.tracker import ExecutionTracker, Leg

SX_ODDS_SCALE = 10**20
SX_USDC_DECIMALS = 6
EXPIRED_CODES = frozenset({"AFTER_ORDER_EXPIRY"})
"""Fill error codes that mean the matched orders lapsed; every other code is a rejection."""
_CODE_KEYS = ("errorCode", "code", "error", "message")


def sx_implied_prob(raw_odds: Any) -> float:
    """SX odds (implied probability x 10^20, as a string) to a probability in [0, 1]."""
    value = base_units(raw_odds, "SX odds")
    if value > SX_ODDS_SCALE:
        raise ValueError(f"SX odds {raw_odds!r} exceed 10^20 (an implied probability above 1)")
    return value / SX_ODDS_SCALE


def sx_error_code(response: Mapping[str, Any]) -> str:
    """The error code of a failed SX response (the docs show no error body: best effort)."""
    data = response.get("data")
    for source in (response, data if isinstance(data, Mapping) else {}):
        for key in _CODE_KEYS:
            value = source.get(key)
            if isinstance(value, str) and value:
                return value
    return data if isinstance(data, str) and data else "UNKNOWN"


def sx_fill_outcome(
    response: Mapping[str, Any],
    *,
    decimals: int = SX_USDC_DECIMALS,
    token_usd: float = 1.0,
) -> FillOutcome:
    """Read a `POST /orders/fill/v2` response: filled, partial, rejected or expired."""
    where = "SX fill response"
    if field(response, "status", where) != "success":
        code = sx_error_code(response)
        return FillOutcome("expired" if code in EXPIRED_CODES else "rejected", 0.0, None, code)
    data = field(response, "data", where)
    filled_units = base_units(field(data, "totalFilled", where + " data"), where + " totalFilled")
    if filled_units == 0:
        return FillOutcome("rejected", 0.0, None, "NOTHING_FILLED")
    partial = field(data, "isPartialFill", where + " data")
    if not isinstance(partial, bool):
        raise ValueError(f"{where}: isPartialFill must be true or false, got {partial!r}")
    return FillOutcome(
        "partial" if partial else "filled",
        filled_units / 10**decimals * token_usd,
        sx_implied_prob(field(data, "averageOdds", where + " data")),
    )


def submit_sx_fill(
    tracker: ExecutionTracker,
    request: Mapping[str, Any],
    *,
    phase: str,
    quoted_prob: float | None = None,
    quoted_at: float | datetime | None = None,
    decimals: int = SX_USDC_DECIMALS,
    token_usd: float = 1.0,
) -> Leg:
    """Record the submission of a fill request; the quote defaults to `desiredOdds`.

    `desiredOdds` is the worst price the taker accepts, so slippage measured against it is a
    bound; pass the quote the decision was made on as `quoted_prob` for the true slippage.
    """
    where = "SX fill request"
    stake_units = base_units(field(request, "stakeWei", where), where + " stakeWei")
    if quoted_prob is None:
        quoted_prob = sx_implied_prob(field(request, "desiredOdds", where))
    stake_usd = stake_units / 10**decimals * token_usd
    return tracker.submit("sx", phase, stake_usd, quoted_prob, quoted_at=quoted_at)


def record_sx_fill(
    leg: Leg,
    response: Mapping[str, Any],
    *,
    decimals: int = SX_USDC_DECIMALS,
    token_usd: float = 1.0,
) -> FillOutcome:
    """Record the terminal result of `leg` from its fill response and return what it read."""
    outcome = sx_fill_outcome(response, decimals=decimals, token_usd=token_usd)
    leg.result(outcome.result, filled_usd=outcome.filled_usd, filled_prob=outcome.filled_prob)
    return outcome
