"""StaticBank: balances fixed in config (`bank_source: static`), for dry runs and tests."""

from __future__ import annotations

from collections.abc import Mapping

from arbqos.bank.base import usd_value
from arbqos.clock import Clock
from arbqos.config.schema import WalletConfig
from arbqos.registry.model import WalletBalance


class StaticBank:
    """Return each wallet's configured `static_balance` (token units), valued in USD.

    >>> bank = StaticBank(config.risk.wallets, clock=clock)
    >>> (await bank.read_balances())["sx"].balance_usd
    250.0
    """

    def __init__(self, wallets: Mapping[str, WalletConfig], *, clock: Clock) -> None:
        missing = sorted(name for name, w in wallets.items() if w.static_balance is None)
        if missing:
            raise ValueError(
                f"static bank needs risk.wallets.<name>.static_balance; missing for {missing}"
            )
        self._wallets = dict(wallets)
        self._clock = clock

    async def read_balances(self) -> dict[str, WalletBalance]:
        """Return every wallet's static balance, observed now."""
        now = self._clock.now_utc()
        balances = {}
        for name, wallet in self._wallets.items():
            units = float(wallet.static_balance or 0.0)
            balances[name] = WalletBalance(
                wallet=name,
                chain=wallet.chain,
                token=wallet.token,
                balance_usd=usd_value(wallet, units),
                balance_units=units,
                observed_at=now,
            )
        return balances
