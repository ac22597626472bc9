"""Azuro adapter: v3 bet order states (`Created` -> `Accepted` / `Rejected` / `Canceled`).

Units (Azuro toolkit): the signed request carries `amount` in base units of the bet token
(Polygon USDT, 6 decimals) and `minOdds` as decimal odds x 10^12 (`"1800000000000"` is 1.8);
`BetOrderData` carries `amount` and `odds` as formatted numbers (10, 1.85) and, under `meta`,
`rawOdds` with 12 decimals. Implied probability = 1 / decimal odds.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arbqos.clock import parse_ts
from arbqos.instrument.outcome import base_units, field
from arbqos.instrument.tracker import ExecutionTracker, Leg

logger = logging.getLogger(__name__)

AZURO_ODDS_DECIMALS = 12
AZURO_USDT_DECIMALS = 6
PENDING_STATES = frozenset({"Created", "Placed", "Sent", "PendingCancel", "CancelFailed"})
KNOWN_STATES = PENDING_STATES | {"Accepted", "Rejected", "Canceled", "Settled"}
_SETTLEMENTS = {"Won": "won", "Lost": "lost", "Canceled": "void"}


def azuro_implied_prob(decimal_odds: float) -> float:
    """Decimal odds (1.85) to implied probability (0.5405...)."""
    if not decimal_odds > 1.0:
        raise ValueError(f"Azuro odds {decimal_odds!r} are not decimal odds above 1")
    return 1.0 / decimal_odds


def azuro_raw_odds_prob(raw_odds: Any) -> float:
    """Odds with 12 decimals (`"1850000000000"`) to implied probability."""
    return azuro_implied_prob(base_units(raw_odds, "Azuro raw odds") / 10**AZURO_ODDS_DECIMALS)


def _filled_prob(order: Mapping[str, Any]) -> float:
    meta = order.get("meta")
    if isinstance(meta, Mapping) and meta.get("rawOdds") is not None:
        return azuro_raw_odds_prob(meta["rawOdds"])
    return azuro_implied_prob(float(field(order, "odds", "Azuro order")))


@dataclass
class _Tracked:
    leg: Leg
    state: str
    accepted: bool = False


class AzuroOrders:
    """Follows Azuro orders by id and turns state changes into tracker events (idempotent).

    >>> orders = AzuroOrders(tracker)
    >>> leg = orders.place(request, create_response, phase="pregame", quoted_prob=0.55)
    >>> orders.update(get_bet_order_response)   # each poll; returns the event recorded
    'filled'

    `Accepted` records a fill (accept time up to the order's `updatedAt`, clamped to the local
    submit..now span); `Rejected`, or `Canceled` before acceptance, records `rejected`;
    `Canceled` after acceptance is a void; `Settled` counts won / lost / void.
    """

    def __init__(
        self,
        tracker: ExecutionTracker,
        *,
        decimals: int = AZURO_USDT_DECIMALS,
        token_usd: float = 1.0,
        max_tracked: int = 10_000,
    ) -> None:
        self._tracker = tracker
        self._decimals = decimals
        self._token_usd = token_usd
        self._max_tracked = max_tracked
        self._orders: OrderedDict[str, _Tracked] = OrderedDict()

    def __len__(self) -> int:
        return len(self._orders)

    def place(
        self,
        request: Mapping[str, Any],
        response: Mapping[str, Any],
        *,
        phase: str,
        quoted_prob: float | None = None,
        quoted_at: float | datetime | None = None,
    ) -> Leg:
        """Record a placed order from the `POST /bet/orders/ordinar` body and its response.

        Without `quoted_prob`, the quote is the signed `minOdds` (the worst accepted price).
        """
        where = "Azuro place request"
        bet = field(field(request, "clientBetData", where), "bet", where + " clientBetData")
        stake_units = base_units(field(bet, "amount", where + " bet"), where + " amount")
        if quoted_prob is None:
            quoted_prob = azuro_raw_odds_prob(field(bet, "minOdds", where + " bet"))
        stake_usd = stake_units / 10**self._decimals * self._token_usd
        leg = self._tracker.submit("azuro", phase, stake_usd, quoted_prob, quoted_at=quoted_at)
        order_id = str(field(response, "id", "Azuro place response"))
        self._orders[order_id] = _Tracked(leg, "")
        while len(self._orders) > self._max_tracked:
            dropped, _ = self._orders.popitem(last=False)
            logger.warning(
                "forgetting Azuro order %s: more than %d tracked", dropped, self._max_tracked
            )
        self.update(response)
        return leg

    def update(self, order: Mapping[str, Any]) -> str | None:
        """Apply one order payload (`BetOrderData` or the create response); return the event."""
        order_id = str(field(order, "id", "Azuro order"))
        state = str(field(order, "state", "Azuro order"))
        if state not in KNOWN_STATES:
            raise ValueError(f"Azuro order {order_id}: unknown state {state!r}")
        tracked = self._orders.get(order_id)
        if tracked is None or state == tracked.state:
            return None
        tracked.state = state
        if state in PENDING_STATES:
            return None
        if not tracked.accepted:
            if state in ("Rejected", "Canceled"):
                tracked.leg.result("rejected")
                del self._orders[order_id]
                return "rejected"
            self._accept(tracked, order)
            if state == "Accepted":
                return "filled"
        if state == "Canceled":
            self._tracker.settled("azuro", "void")
        elif state == "Settled":
            result = order.get("result")
            if result not in _SETTLEMENTS:
                raise ValueError(f"Azuro order {order_id}: settled with result {result!r}")
            self._tracker.settled("azuro", _SETTLEMENTS[result])  # type: ignore[arg-type]
        else:
            return None
        del self._orders[order_id]
        return "voided" if state == "Canceled" else "settled"

    def _accept(self, tracked: _Tracked, order: Mapping[str, Any]) -> None:
        leg = tracked.leg
        amount = float(field(order, "amount", "Azuro order"))
        now = self._tracker.monotonic()
        accepted_at = now
        updated = order.get("updatedAt")
        if isinstance(updated, str) and updated:
            venue_time = self._tracker.monotonic_of(parse_ts(updated), now)
            accepted_at = min(max(venue_time, leg.submitted_at), now)
        leg.result(
            "filled",
            filled_usd=amount * self._token_usd,
            filled_prob=_filled_prob(order),
            accepted_at=accepted_at,
        )
        tracked.accepted = True
