"""What the engine sends for a leg: market pairs, quotes and the venue request bodies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SX_ODDS_ONE = 10**20
SX_USDC = "0x6629Ce1Cf35Cc1329ebB4F63202F3f197b3F050B"
AZURO_ODDS_DECIMALS = 12
AZURO_CORE = "0xF9548Be470A4e130c90ceA8b179FCD66D2972AC7"
_PLACEHOLDER_SIG = "0x" + "00" * 65
"""The engine never signs: arbqos holds no private key. The simulators do not verify."""


@dataclass(frozen=True)
class Pair:
    """An SX market and the Azuro condition of the same event."""

    phase: str
    sx_market: str
    azuro_condition: str
    azuro_outcome: int


@dataclass(frozen=True)
class Quote:
    """Both venues' prices at one moment (monotonic `at`)."""

    sx_prob: float
    """Taker implied probability of SX outcome one."""
    azuro_odds: float
    """Decimal odds of the Azuro outcome opposite to SX outcome one."""
    at: float


def sx_fill_body(
    pair: Pair, quote: Quote, stake: float, salt: str, *, taker: str, odds_slippage_pct: int
) -> dict[str, Any]:
    """The `POST /orders/fill/v2` body of an SX leg taking outcome one at `quote`."""
    return {
        "market": pair.sx_market,
        "baseToken": SX_USDC,
        "isTakerBettingOutcomeOne": True,
        "stakeWei": str(round(stake * 100) * 10**4),
        "desiredOdds": str(int(quote.sx_prob * SX_ODDS_ONE)),
        "oddsSlippage": odds_slippage_pct,
        "taker": taker,
        "takerSig": _PLACEHOLDER_SIG,
        "fillSalt": salt,
    }


def azuro_bet_body(
    pair: Pair,
    quote: Quote,
    stake: float,
    *,
    bettor: str,
    odds_slippage_pct: int,
    nonce: str,
    expires_at: int,
) -> dict[str, Any]:
    """The `POST /bet/orders/ordinar` body of an Azuro leg at `quote` (unsigned)."""
    min_odds = quote.azuro_odds * (1 - odds_slippage_pct / 100)
    return {
        "environment": "PolygonUSDT",
        "bettor": bettor.lower(),
        "betOwner": bettor.lower(),
        "clientBetData": {
            "clientData": {
                "attention": "By signing this message I confirm placing this bet",
                "affiliate": "0x" + "0" * 40,
                "core": AZURO_CORE,
                "expiresAt": expires_at,
                "chainId": 137,
                "relayerFeeAmount": "0",
                "isBetSponsored": False,
                "isFeeSponsored": False,
                "isSponsoredBetReturnable": False,
            },
            "bet": {
                "conditionId": pair.azuro_condition,
                "outcomeId": pair.azuro_outcome,
                "minOdds": str(int(min_odds * 10**AZURO_ODDS_DECIMALS)),
                "amount": str(round(stake * 100) * 10**4),
                "nonce": nonce,
            },
        },
        "bettorSignature": _PLACEHOLDER_SIG,
    }
