"""In-process RuntimeRegistry: holds the live state and mirrors it into Prometheus gauges."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace

from prometheus_client import CollectorRegistry, Gauge

from arbqos.clock import Clock, SystemClock
from arbqos.metrics.definitions import CHAINS
from arbqos.metrics.registry import gauge
from arbqos.registry.freshness import DEFAULT_LIMITS, Freshness, StaleLimits
from arbqos.registry.model import BankSource, ChainHealth, RegistrySnapshot, WalletBalance

_GAUGES = (
    "arb_gas_price_gwei",
    "arb_chain_head_block",
    "arb_chain_head_age_seconds",
    "arb_rpc_up",
    "arb_sequencer_up",
    "arb_wallet_balance_usd",
)


class RuntimeRegistry:
    """The live state of chains and wallets; setting a value updates the contract gauges.

    Pass `registry=None` to keep state without exporting metrics (e.g. inside a client).
    Snapshots carry the age of every value on `clock`, stale past `limits`
    (`StaleLimits.of(config)`; the default configuration's limits when not given).

    >>> reg = RuntimeRegistry(registry, config_hash=manager.hash, config_sources="default,file")
    >>> await reg.set_chain_health(ChainHealth("arbitrum", rpc_up=True, sequencer_up=True))
    >>> (await reg.sequencer_health())["arbitrum"].sequencer_up
    True
    """

    def __init__(
        self,
        registry: CollectorRegistry | None,
        *,
        config_hash: str = "",
        config_sources: str = "",
        bank_source: BankSource | None = None,
        clock: Clock | None = None,
        limits: StaleLimits | None = None,
    ) -> None:
        self._chains: dict[str, ChainHealth] = {}
        self._balances: dict[str, WalletBalance] = {}
        self._bank_source = bank_source
        self._clock = clock or SystemClock()
        self.limits = limits or DEFAULT_LIMITS
        self._bank_lock = asyncio.Lock()
        self.config_hash = config_hash
        self.config_sources = config_sources
        self._gauges: dict[str, Gauge] = {}
        if registry is not None:
            self._gauges = {name: gauge(registry, name) for name in _GAUGES}

    async def set_chain_health(self, health: ChainHealth) -> None:
        """Record the latest health of one chain and update its gauges."""
        self._chains[health.chain] = health
        if not self._gauges or health.chain not in CHAINS:
            return
        self._gauges["arb_rpc_up"].labels(health.chain).set(1 if health.rpc_up else 0)
        self._gauges["arb_sequencer_up"].labels(health.chain).set(1 if health.sequencer_up else 0)
        if health.gas_price_gwei is not None:
            self._gauges["arb_gas_price_gwei"].labels(health.chain).set(health.gas_price_gwei)
        if health.head_block is not None:
            self._gauges["arb_chain_head_block"].labels(health.chain).set(health.head_block)
        if health.head_age_s is not None:
            self._gauges["arb_chain_head_age_seconds"].labels(health.chain).set(health.head_age_s)

    async def sequencer_health(self) -> dict[str, ChainHealth]:
        """Return the latest health of every chain seen."""
        return dict(self._chains)

    async def set_balances(self, balances: Mapping[str, WalletBalance]) -> None:
        """Record balances; a failed read keeps the last good USD value and its timestamp."""
        for name, balance in balances.items():
            previous = self._balances.get(name)
            if balance.balance_usd is None and previous is not None:
                balance = replace(
                    balance,
                    balance_usd=previous.balance_usd,
                    balance_units=previous.balance_units,
                    observed_at=previous.observed_at,
                    low=previous.low,
                )
            self._balances[name] = balance
            if self._gauges and balance.balance_usd is not None:
                self._gauges["arb_wallet_balance_usd"].labels(
                    balance.wallet, balance.chain, balance.token
                ).set(balance.balance_usd)

    async def get_bank(self) -> dict[str, WalletBalance]:
        """Read the bank source (one read at a time) and return every wallet's balance."""
        if self._bank_source is not None:
            async with self._bank_lock:
                await self.set_balances(await self._bank_source.read_balances())
        return dict(self._balances)

    async def snapshot(self) -> RegistrySnapshot:
        """Return everything known, with each value's age now and whether it is stale."""
        now = self._clock.now_utc()
        freshness = {
            f"chains.{name}": Freshness.of(h.observed_at, now, self.limits.chains_s)
            for name, h in self._chains.items()
        }
        freshness |= {
            f"balances.{name}": Freshness.of(b.observed_at, now, self.limits.balances_s)
            for name, b in self._balances.items()
        }
        return RegistrySnapshot(
            chains=dict(self._chains),
            balances=dict(self._balances),
            config_hash=self.config_hash,
            config_sources=self.config_sources,
            freshness=freshness,
            stale_after=self.limits,
        )
