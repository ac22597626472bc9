"""The typed live state the dashboard shows: chain health, gas, balances, config identity."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError

from arbqos.registry.freshness import Freshness, StaleLimits
from arbqos.wire import (
    ChainHealthBody,
    ChainHealthEntry,
    ChainHealthOut,
    RegistryResponse,
    WalletBalanceBody,
    WalletBalanceEntry,
    WalletBalanceOut,
    describe,
)
from arbqos.wire import SequencerStatus as SequencerStatus  # re-exported
from arbqos.wire.registry import StaleAfter

# The JSON form of each class is its wire model (`arbqos.wire`); these dataclasses are the
# in-process form (positional construction, `dataclasses.replace`, no validation on the way).


@dataclass(frozen=True)
class ChainHealth:
    """RPC and sequencer health of one chain as last observed by the heartbeat."""

    chain: str
    rpc_up: bool
    sequencer_up: bool
    sequencer_status: SequencerStatus = "unknown"
    head_block: int | None = None
    head_age_s: float | None = None
    gas_price_gwei: float | None = None
    rpc_endpoint: int | None = None
    """Index of the RPC URL that answered (the URL itself may embed a key)."""
    detail: str = ""
    observed_at: datetime | None = None

    def to_wire(self) -> ChainHealthBody:
        """Return the body the orchestrator accepts; ValueError names what it would refuse."""
        try:
            return ChainHealthBody.model_validate(asdict(self))
        except ValidationError as err:
            raise ValueError(f"chain health of {self.chain!r}: {describe(err)}") from err

    @classmethod
    def from_wire(cls, body: ChainHealthOut) -> ChainHealth:
        """Build from a parsed body (an answer's `age_s` and `stale` are left out)."""
        return cls(**ChainHealthOut.model_validate(body.model_dump()).model_dump())

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form, timestamps in UTC `Z` form; ValueError as `to_wire`."""
        return self.to_wire().model_dump(mode="json")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChainHealth:
        """Parse the JSON form; raises ValueError (pydantic's ValidationError) on bad input."""
        return cls.from_wire(ChainHealthOut.model_validate(data))


@dataclass(frozen=True)
class WalletBalance:
    """Balance of one venue wallet; `balance_usd` stays at the last good value on a failed read."""

    wallet: str
    chain: str
    token: str
    balance_usd: float | None
    balance_units: float | None = None
    low: bool = False
    observed_at: datetime | None = None
    """When `balance_usd` was last read successfully."""
    error: str | None = None
    """Why the latest read failed, when it did."""

    def to_wire(self) -> WalletBalanceBody:
        """Return the body the orchestrator accepts; ValueError names what it would refuse."""
        try:
            return WalletBalanceBody.model_validate(asdict(self))
        except ValidationError as err:
            raise ValueError(f"balance of wallet {self.wallet!r}: {describe(err)}") from err

    @classmethod
    def from_wire(cls, body: WalletBalanceOut) -> WalletBalance:
        """Build from a parsed body (an answer's `age_s` and `stale` are left out)."""
        return cls(**WalletBalanceOut.model_validate(body.model_dump()).model_dump())

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form; ValueError as `to_wire`."""
        return self.to_wire().model_dump(mode="json")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WalletBalance:
        """Parse the JSON form; raises ValueError (pydantic's ValidationError) on bad input."""
        return cls.from_wire(WalletBalanceOut.model_validate(data))


def _age(freshness: Freshness | None) -> dict[str, Any]:
    if freshness is None:
        return {}
    return {"age_s": freshness.age_s, "stale": freshness.stale}


def _freshness(entry: ChainHealthEntry | WalletBalanceEntry) -> Freshness | None:
    if entry.stale is None:
        return None
    return Freshness(entry.age_s, entry.stale)


@dataclass(frozen=True)
class RegistrySnapshot:
    """Everything the registry knows, at one moment, with the age of every value.

    `freshness` is keyed like the JSON answer: `chains.<chain>`, `balances.<wallet>`.
    """

    chains: dict[str, ChainHealth] = field(default_factory=dict)
    balances: dict[str, WalletBalance] = field(default_factory=dict)
    config_hash: str = ""
    config_sources: str = ""
    freshness: dict[str, Freshness] = field(default_factory=dict)
    stale_after: StaleLimits | None = None

    def chain_freshness(self, chain: str) -> Freshness | None:
        """Age and staleness of one chain's health (None: the answer did not say)."""
        return self.freshness.get(f"chains.{chain}")

    def balance_freshness(self, wallet: str) -> Freshness | None:
        """Age and staleness of one wallet's balance (None: the answer did not say)."""
        return self.freshness.get(f"balances.{wallet}")

    def to_wire(self) -> RegistryResponse:
        """Return the `/v1/registry` answer, sorted by name."""
        chains = dict(sorted(self.chains.items()))
        limits = self.stale_after
        return RegistryResponse(
            chains={
                name: ChainHealthEntry(
                    **h.to_wire().model_dump(), **_age(self.chain_freshness(name))
                )
                for name, h in chains.items()
            },
            gas_price_gwei={name: h.gas_price_gwei for name, h in chains.items()},
            balances={
                name: WalletBalanceEntry(
                    **b.to_wire().model_dump(), **_age(self.balance_freshness(name))
                )
                for name, b in sorted(self.balances.items())
            },
            config_hash=self.config_hash,
            config_sources=self.config_sources,
            stale_after_s=(
                StaleAfter(chains=limits.chains_s, balances=limits.balances_s) if limits else None
            ),
        )

    @classmethod
    def from_wire(cls, body: RegistryResponse) -> RegistrySnapshot:
        """Build from a parsed `/v1/registry` answer."""
        freshness = {
            f"{kind}.{name}": found
            for kind, entries in (("chains", body.chains), ("balances", body.balances))
            for name, entry in entries.items()
            if (found := _freshness(entry)) is not None
        }
        limits = body.stale_after_s
        return cls(
            chains={k: ChainHealth.from_wire(v) for k, v in body.chains.items()},
            balances={k: WalletBalance.from_wire(v) for k, v in body.balances.items()},
            config_hash=body.config_hash,
            config_sources=body.config_sources,
            freshness=freshness,
            stale_after=StaleLimits(limits.chains, limits.balances) if limits else None,
        )

    def to_json(self) -> dict[str, Any]:
        """Return the `/v1/registry` body."""
        return self.to_wire().model_dump(mode="json")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RegistrySnapshot:
        """Parse a `/v1/registry` body; raises ValueError on a body of another shape."""
        return cls.from_wire(RegistryResponse.model_validate(data))


class BankSource(Protocol):
    """Where wallet balances come from (`onchain`, `static`); never able to move funds."""

    async def read_balances(self) -> dict[str, WalletBalance]:
        """Read every configured wallet once; failed reads carry `error` and no balance."""
        ...


class RuntimeRegistryAPI(Protocol):
    """The registry interface, implemented in-process and remotely over `/v1/registry`."""

    async def set_chain_health(self, health: ChainHealth) -> None:
        """Record the latest health of one chain."""
        ...

    async def sequencer_health(self) -> dict[str, ChainHealth]:
        """Return the latest health of every chain seen."""
        ...

    async def set_balances(self, balances: Mapping[str, WalletBalance]) -> None:
        """Record wallet balances read elsewhere."""
        ...

    async def get_bank(self) -> dict[str, WalletBalance]:
        """Read balances from the bank source (or return the latest known ones)."""
        ...

    async def snapshot(self) -> RegistrySnapshot:
        """Return everything known."""
        ...
