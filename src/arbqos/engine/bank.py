"""The bank the stake cap is checked against: every wallet's fresh balance from the registry.

The bank is the sum of the configured wallets' USD balances as the RuntimeRegistry knows them
(fed by the balance watcher). It is known only when every wallet has a balance read at most
`risk.bank_max_age_s` ago: a partial sum would make every stake look larger than it is and
raise ArbStakeCapExceeded for the wrong reason, and a balance read long ago may predate a
withdrawal. While it is unknown, legs count in `arb_stake_unchecked_total` (ArbStakeCapUnchecked).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from arbqos.clock import Clock
from arbqos.instrument import ExecutionTracker
from arbqos.registry import RuntimeRegistryAPI, WalletBalance

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BankReading:
    """The bank (USD) made of fresh balances, or None with the wallets that prevent it."""

    usd: float | None
    missing: tuple[str, ...] = ()
    """Wallets the registry has no balance for."""
    stale: tuple[str, ...] = ()
    """Wallets whose last good balance is older than the limit."""

    def why_unknown(self) -> str:
        """Which wallets keep the bank unknown, in words."""
        parts = []
        if self.missing:
            parts.append("no balance for " + ", ".join(self.missing))
        if self.stale:
            parts.append("balance too old for " + ", ".join(self.stale))
        return "; ".join(parts) or "no wallet configured"


def read_bank(
    balances: Mapping[str, WalletBalance],
    wallets: Iterable[str],
    *,
    now: datetime,
    max_age_s: float,
) -> BankReading:
    """The bank of `wallets` from `balances`: known only when each one is fresh (see module)."""
    total, missing, stale = 0.0, [], []
    for name in sorted(wallets):
        balance = balances.get(name)
        if balance is None or balance.balance_usd is None:
            missing.append(name)
        elif balance.observed_at is None or (now - balance.observed_at).total_seconds() > max_age_s:
            stale.append(name)
        else:
            total += balance.balance_usd
    if missing or stale or total <= 0:
        return BankReading(None, tuple(missing), tuple(stale))
    return BankReading(total)


class BankKeeper:
    """Keeps the tracker's bank equal to the registry's fresh balances (`refresh()` on a timer).

    A failed or slow registry read (over `timeout_s`) keeps the balances last read, so the bank
    stays known until they age past `max_age_s`; each change between known and unknown is
    logged once.
    """

    def __init__(
        self,
        tracker: ExecutionTracker,
        wallets: Iterable[str],
        *,
        max_age_s: float,
        timeout_s: float,
        clock: Clock,
    ) -> None:
        self._tracker = tracker
        self._timeout_s = timeout_s
        self._wallets = tuple(wallets)
        self._max_age_s = max_age_s
        self._clock = clock
        self._balances: dict[str, WalletBalance] = {}
        self._read_error: str | None = None
        self._known: bool | None = None
        self.reading = BankReading(None, missing=self._wallets)

    async def refresh(self, runtime: RuntimeRegistryAPI) -> BankReading:
        """Read the registry's balances, set the tracker's bank, return what it is now."""
        try:
            async with asyncio.timeout(self._timeout_s):
                self._balances = dict(await runtime.get_bank())
        except Exception as err:  # any failure: keep the last balances, say why once
            error = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
            if error != self._read_error:
                logger.warning("wallet balances not read from the registry: %s", error)
            self._read_error = error
        else:
            self._read_error = None
        reading = read_bank(
            self._balances, self._wallets, now=self._clock.now_utc(), max_age_s=self._max_age_s
        )
        if self._known is not (reading.usd is not None):
            self._known = reading.usd is not None
            if reading.usd is None:
                logger.warning(
                    "bank unknown (%s): stakes are not checked against risk.stake_pct_cap",
                    reading.why_unknown(),
                )
            else:
                logger.info("bank known: %.2f USD", reading.usd, extra={"bank_usd": reading.usd})
        self.reading = reading
        self._tracker.set_bank(reading.usd)
        return reading
