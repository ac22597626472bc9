"""Bank sources: where wallet balances are read (on chain, or static); none can move funds."""

from arbqos.bank.base import (
    BALANCE_MAX_USD,
    READ_ERROR_KINDS,
    DecimalsMismatch,
    error_kind,
    error_text,
    implausible,
    units_from_raw,
    usd_value,
)
from arbqos.bank.factory import build_bank
from arbqos.bank.onchain import OnchainBank
from arbqos.bank.static import StaticBank

__all__ = [
    "BALANCE_MAX_USD",
    "READ_ERROR_KINDS",
    "DecimalsMismatch",
    "OnchainBank",
    "StaticBank",
    "build_bank",
    "error_kind",
    "error_text",
    "implausible",
    "units_from_raw",
    "usd_value",
]
