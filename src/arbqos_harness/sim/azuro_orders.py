"""The Azuro simulator's conditions and bet orders, with their payloads at any moment.

An order is planned whole when it is placed (`AzOrder`): Created -> Placed -> Sent ->
Accepted or Rejected, then Settled or Canceled; its JSON is derived from that plan and the
time asked about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arbqos.clock import format_ts
from arbqos_harness.sim.core import Phase

ODDS_DECIMALS = 12
"""Azuro odds precision (toolkit `ODDS_DECIMALS`)."""
TOKEN_DECIMALS = 6
"""Polygon USDT."""
CORE = "0xf9548be470a4e130c90cea8b179fcd66d2972ac7"
LIQUIDITY_POOL = "0x0fa7fb5407ea971694652e6e16c12a52625de1b8"


@dataclass(frozen=True)
class AzCondition:
    """A two-outcome condition (outcome ids 29 and 30) with a fair probability and margin."""

    condition_id: str
    game_id: str
    phase: Phase
    p_first: float
    margin: float = 0.05
    outcome_ids: tuple[int, int] = (29, 30)

    @property
    def game_state(self) -> str:
        """`Prematch` or `Live` (toolkit `GameState`)."""
        return "Live" if self.phase == "live" else "Prematch"

    def probability(self, outcome_id: int) -> float:
        """Fair probability that `outcome_id` wins."""
        return self.p_first if outcome_id == self.outcome_ids[0] else 1.0 - self.p_first

    def odds(self, outcome_id: int) -> float:
        """Decimal odds offered on `outcome_id`, margin included."""
        return round(1.0 / (self.probability(outcome_id) + self.margin / 2), 4)

    def to_state_json(self) -> dict[str, Any]:
        """`ConditionStateData` of `POST /market-manager/condition-batch`."""
        return {
            "conditionId": self.condition_id,
            "state": "Active",
            "outcomes": [
                {
                    "id": f"{self.condition_id}_{oid}",
                    "outcomeId": str(oid),
                    "odds": f"{self.odds(oid):.4f}",
                }
                for oid in self.outcome_ids
            ],
        }

    def to_catalogue(self) -> dict[str, Any]:
        """Catalogue entry for `/sim/markets`."""
        return {
            "conditionId": self.condition_id,
            "gameId": self.game_id,
            "phase": self.phase,
            "outcomeIds": list(self.outcome_ids),
        }


@dataclass(frozen=True)
class AzOrder:
    """One bet order and its whole planned timeline."""

    id: str
    bettor: str
    owner: str
    affiliate: str
    environment: str
    condition: AzCondition
    outcome_id: int
    amount_raw: int
    quoted_odds: float
    odds: float
    nonce: str
    created_at: datetime
    placed_at: datetime
    sent_at: datetime
    final_at: datetime
    accepted: bool
    error: str | None
    settle_at: datetime
    void: bool
    won: bool
    bet_id: int
    tx_hash: str

    @property
    def winner_id(self) -> int:
        """The outcome that wins the condition (the bet's own outcome when the bet is won)."""
        first, second = self.condition.outcome_ids
        if self.won:
            return self.outcome_id
        return second if self.outcome_id == first else first

    def state(self, now: datetime) -> str:
        """`BetOrderState` at `now`."""
        if now < self.placed_at:
            return "Created"
        if now < self.sent_at:
            return "Placed"
        if now < self.final_at:
            return "Sent"
        if not self.accepted:
            return "Rejected"
        if now < self.settle_at:
            return "Accepted"
        return "Canceled" if self.void else "Settled"

    def updated_at(self, now: datetime) -> datetime:
        """Time of the last state change before `now`."""
        moments = (self.created_at, self.placed_at, self.sent_at, self.final_at, self.settle_at)
        return max(m for m in moments if m <= now)

    def to_json(self, now: datetime) -> dict[str, Any]:
        """`BetOrderData` at `now`, in the shape of the toolkit type."""
        state = self.state(now)
        accepted = self.accepted and now >= self.final_at
        settled = state in ("Settled", "Canceled")
        amount = self.amount_raw / 10**TOKEN_DECIMALS
        odds = self.odds if accepted else self.quoted_odds
        result = ("Canceled" if self.void else ("Won" if self.won else "Lost")) if settled else None
        payout = _payout(amount, odds, result)
        return {
            "id": self.id,
            "state": state,
            "environment": self.environment,
            "betType": "ORDINARY",
            "core": CORE,
            "bettor": self.bettor,
            "owner": self.owner,
            "affiliate": self.affiliate,
            "amount": amount,
            "payout": payout,
            "odds": odds,
            "bonusId": None,
            "isFreebet": False,
            "isSponsoredBetReturnable": False,
            "betId": self.bet_id if accepted else None,
            "txHash": self.tx_hash if accepted else None,
            "margin": f"{self.condition.margin:.2f}",
            "settledMargin": f"{self.condition.margin:.2f}" if settled else None,
            "result": result,
            "createdAt": format_ts(self.created_at),
            "updatedAt": format_ts(self.updated_at(now)),
            "settledAt": format_ts(self.settle_at) if settled else None,
            "redeemedAt": None,
            "conditions": [self._condition_json(odds, amount, settled)],
            "meta": self._meta_json(odds, amount, result, payout) if accepted else None,
            "error": None if self.accepted or state != "Rejected" else self.error,
            "errorMessage": _reject_text(self.error) if state == "Rejected" else None,
        }

    def _condition_json(self, odds: float, amount: float, settled: bool) -> dict[str, Any]:
        cond = self.condition
        return {
            "conditionId": cond.condition_id,
            "outcomeId": self.outcome_id,
            "orderId": self.id,
            "gameId": cond.game_id,
            "gameState": cond.game_state,
            "conditionMargin": f"{cond.margin:.2f}",
            "selectionMargin": f"{cond.margin:.2f}",
            "settledSelectionMargin": f"{cond.margin:.2f}" if settled else None,
            "result": ("Canceled" if self.void else "Resolved") if settled else None,
            "price": f"{odds:.2f}",
            "potentialAmount": _fmt(amount * odds),
            "potentialLoss": _fmt(amount * (odds - 1)),
        }

    def _meta_json(
        self, odds: float, amount: float, result: str | None, payout: float | None
    ) -> dict[str, Any]:
        cond = self.condition
        raw_odds = str(round(odds * 10**ODDS_DECIMALS))
        created_block_ts = str(int(self.final_at.timestamp()))
        resolved_ts = str(int(self.settle_at.timestamp())) if result else None
        won_ids = None if result in (None, "Canceled") else [str(self.winner_id)]
        graph_status = "Accepted" if result is None else ("Canceled" if self.void else "Resolved")
        raw_payout = None if payout is None else str(round(payout * 10**TOKEN_DECIMALS))
        return {
            "id": f"{CORE}_{self.bet_id}",
            "core": {
                "type": "V3",
                "address": CORE,
                "liquidityPool": {"address": LIQUIDITY_POOL, "asset": "USDT"},
            },
            "odds": _fmt(odds),
            "betId": str(self.bet_id),
            "actor": self.bettor,
            "owner": self.owner,
            "bettor": self.bettor,
            "nonce": self.nonce,
            "amount": _fmt(amount),
            "payout": None if payout is None else _fmt(payout),
            "result": None if result in (None, "Canceled") else result,
            "status": graph_status,
            "rawOdds": raw_odds,
            "affiliate": self.affiliate,
            "rawAmount": str(self.amount_raw),
            "rawPayout": raw_payout,
            "isRedeemed": False,
            "selections": [
                {
                    "id": f"{CORE}_{self.bet_id}_{cond.condition_id}",
                    "odds": _fmt(odds),
                    "result": None if won_ids is None else ("Won" if self.won else "Lost"),
                    "outcome": {
                        "condition": {
                            "id": f"{CORE}_{cond.condition_id}",
                            "gameId": cond.game_id,
                            "status": "Created" if result is None else graph_status,
                            "outcomes": [
                                {
                                    "result": None
                                    if won_ids is None
                                    else ("Won" if str(oid) in won_ids else "Lost"),
                                    "outcomeId": str(oid),
                                    "sortOrder": index,
                                }
                                for index, oid in enumerate(cond.outcome_ids)
                            ],
                            "conditionId": cond.condition_id,
                            "coreAddress": CORE,
                            "wonOutcomeIds": won_ids,
                            "_winningOutcomesCount": 1,
                            "createdBlockTimestamp": str(int(self.created_at.timestamp())),
                            "resolvedBlockTimestamp": resolved_ts,
                        },
                        "outcomeId": str(self.outcome_id),
                        "sortOrder": cond.outcome_ids.index(self.outcome_id),
                    },
                    "rawOdds": raw_odds,
                    "_outcomeId": str(self.outcome_id),
                }
            ],
            "settledOdds": _fmt(odds) if result else None,
            "createdTxHash": self.tx_hash,
            "rawSettledOdds": raw_odds if result else None,
            "potentialPayout": _fmt(amount * odds),
            "potentialLossLimit": _fmt(amount * (odds - 1)),
            "rawPotentialPayout": str(round(amount * odds * 10**TOKEN_DECIMALS)),
            "createdBlockTimestamp": created_block_ts,
            "rawPotentialLossLimit": str(round(amount * (odds - 1) * 10**TOKEN_DECIMALS)),
            "resolvedBlockTimestamp": resolved_ts,
            "isCashedOut": False,
            "isFreebetAmountReturnable": None,
            "paymasterContractAddress": None,
            "redeemedTxHash": None,
            "cashout": None,
        }


def _payout(amount: float, odds: float, result: str | None) -> float | None:
    if result is None:
        return None
    if result == "Canceled":
        return amount
    return round(amount * odds, 6) if result == "Won" else 0.0


def _fmt(value: float) -> str:
    """Format a human amount or odds without trailing zeros (`18.5`, `10`)."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _reject_text(code: str | None) -> str:
    return {
        "ODDS_CHANGED": "odds moved below minOdds before the bet reached the contracts",
        "LIMIT_EXCEEDED": "the bet exceeds the condition's current limit",
        "CONDITION_NOT_ACTIVE": "the condition is not active anymore",
        "TOO_MANY_PENDING": "too many orders of this bettor are still being processed",
    }.get(code or "", "the order was rejected during the contracts checks")
