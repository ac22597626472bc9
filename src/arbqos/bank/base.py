"""What every bank source shares: USD valuation, error kinds, the decimals check error."""

from __future__ import annotations

import math
from decimal import Decimal

from arbqos.config.schema import WalletConfig
from arbqos.errors import ArbqosError

READ_ERROR_KINDS: tuple[str, ...] = (
    "timeout",
    "connect",
    "http_429",
    "http_5xx",
    "http_4xx",
    "bad_json",
    "too_large",
    "rpc_error",
    "bad_answer",
    "wrong_chain",
    "decimals_mismatch",
    "implausible",
    "error",
)
"""Bounded classes of a failed balance read (the `error` label of the read-error counter)."""

BALANCE_MAX_USD = 1e7
"""Default ceiling of a believable wallet balance (`balance_watcher.balance_max_usd`), USD."""


class DecimalsMismatch(ArbqosError, ValueError):
    """The token contract's `decimals()` differs from the wallet's configured `decimals`."""

    def __init__(self, wallet: str, token: str, configured: int, onchain: int) -> None:
        self.wallet = wallet
        self.configured = configured
        self.onchain = onchain
        super().__init__(
            f"wallet {wallet}: risk.wallets.{wallet}.decimals = {configured} but the {token} "
            f"contract says decimals() = {onchain}; set risk.wallets.{wallet}.decimals: {onchain} "
            "(or fix token_address): balances would be off by a factor of "
            f"10^{abs(configured - onchain)}"
        )


def units_from_raw(raw: int, decimals: int) -> float:
    """Convert an on-chain integer amount to token units."""
    return float(Decimal(raw) / (Decimal(10) ** decimals))


def usd_value(wallet: WalletConfig, units: float) -> float:
    """Value `units` of the wallet's token in USD: 1:1 for stablecoins, else `usd_price`."""
    if wallet.stablecoin:
        return units
    if wallet.usd_price is None:
        raise ValueError(f"token {wallet.token} is no stablecoin and has no usd_price")
    return units * wallet.usd_price


def error_text(kind: str, detail: str) -> str:
    """Format a failed read as `<kind>: <detail>`, the form `error_kind` reads back."""
    if kind not in READ_ERROR_KINDS:
        kind = "error"
    return f"{kind}: {detail}"


def error_kind(error: str | None) -> str:
    """Return the bounded kind of an `error_text` string (`error` when unknown)."""
    kind = (error or "").partition(":")[0].strip()
    return kind if kind in READ_ERROR_KINDS else "error"


def implausible(balance_usd: float, max_usd: float) -> str | None:
    """Return an `implausible` error text when a balance cannot be real, else None.

    A balance above `max_usd` (or not a finite number >= 0) comes from a lying RPC, a wrong
    token address or wrong decimals; it is a failed read, never a balance.
    """
    if math.isfinite(balance_usd) and 0 <= balance_usd <= max_usd:
        return None
    return error_text(
        "implausible",
        f"balance {balance_usd:.6g} USD is above balance_watcher.balance_max_usd = "
        f"{max_usd:.6g} USD; check the token address, decimals and RPC, or raise the ceiling",
    )
