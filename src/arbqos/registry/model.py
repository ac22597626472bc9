"""The typed live state the dashboard shows: chain health, gas, balances, config identity."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from arbqos.clock import format_ts, parse_ts

SequencerStatus = Literal["up", "down", "recovering", "unknown"]


def _ts(value: datetime | None) -> str | None:
    return format_ts(value) if value is not None else None


def _dt(value: Any) -> datetime | None:
    return parse_ts(value) if isinstance(value, str) and value else None


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

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict with timestamps in UTC `Z` form."""
        data = asdict(self)
        data["observed_at"] = _ts(self.observed_at)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChainHealth:
        """Build from `to_json()` output; raises KeyError/TypeError/ValueError on bad input."""
        fields = dict(data)
        fields["observed_at"] = _dt(fields.get("observed_at"))
        return cls(**fields)


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

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        data = asdict(self)
        data["observed_at"] = _ts(self.observed_at)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WalletBalance:
        """Build from `to_json()` output."""
        fields = dict(data)
        fields["observed_at"] = _dt(fields.get("observed_at"))
        return cls(**fields)


@dataclass(frozen=True)
class RegistrySnapshot:
    """Everything the registry knows, at one moment."""

    chains: dict[str, ChainHealth] = field(default_factory=dict)
    balances: dict[str, WalletBalance] = field(default_factory=dict)
    config_hash: str = ""
    config_sources: str = ""

    def to_json(self) -> dict[str, Any]:
        """Return the `/v1/registry` body."""
        return {
            "chains": {name: h.to_json() for name, h in sorted(self.chains.items())},
            "gas_price_gwei": {name: h.gas_price_gwei for name, h in sorted(self.chains.items())},
            "balances": {name: b.to_json() for name, b in sorted(self.balances.items())},
            "config_hash": self.config_hash,
            "config_sources": self.config_sources,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RegistrySnapshot:
        """Parse a `/v1/registry` body."""
        return cls(
            chains={k: ChainHealth.from_json(v) for k, v in data.get("chains", {}).items()},
            balances={k: WalletBalance.from_json(v) for k, v in data.get("balances", {}).items()},
            config_hash=str(data.get("config_hash", "")),
            config_sources=str(data.get("config_sources", "")),
        )


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
