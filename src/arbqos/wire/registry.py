"""Chain health, wallet balances and heartbeat reports on the wire (`/v1/registry`, heartbeat)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StrictBool, StrictInt, StringConstraints, model_validator

from arbqos.vocab import Chain, Venue
from arbqos.wire.base import (
    Identifier,
    NonNegative,
    ProbeDetail,
    RequestBody,
    Timestamp,
    WireModel,
)

SequencerStatus = Literal["up", "down", "recovering", "unknown"]


class ChainHealthOut(WireModel):
    """RPC and sequencer health of one chain, as the heartbeat observed it."""

    chain: Chain
    rpc_up: StrictBool
    sequencer_up: StrictBool
    sequencer_status: SequencerStatus = "unknown"
    head_block: Annotated[StrictInt, Field(ge=0)] | None = None
    head_age_s: float | None = None
    gas_price_gwei: NonNegative | None = None
    rpc_endpoint: Annotated[StrictInt, Field(ge=0, le=64)] | None = None
    """Index of the RPC URL that answered (the URL itself may embed a key)."""
    detail: ProbeDetail = ""
    observed_at: Timestamp | None = None


class ChainHealthBody(ChainHealthOut):
    """`PUT /v1/registry/chains/{chain}` and the chains of a heartbeat report: unknown fields
    refused."""

    model_config = ConfigDict(extra="forbid")


class WalletBalanceOut(WireModel):
    """Balance of one venue wallet; `balance_usd` stays at the last good value on a failed read."""

    wallet: Venue
    chain: Chain
    token: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9.]{1,16}$")]
    balance_usd: NonNegative | None
    balance_units: NonNegative | None = None
    low: StrictBool = False
    observed_at: Timestamp | None = None
    """When `balance_usd` was last read successfully."""
    error: ProbeDetail | None = None
    """Why the latest read failed, when it did."""


class WalletBalanceBody(WalletBalanceOut):
    """One wallet of `PUT /v1/registry/balances`: unknown fields refused."""

    model_config = ConfigDict(extra="forbid")


class BalancesRequest(RequestBody):
    """`PUT /v1/registry/balances`: `{"balances": {"sx": {...}, "azuro": {...}}}`."""

    balances: dict[Venue, WalletBalanceBody]

    @model_validator(mode="after")
    def _keys_match(self) -> BalancesRequest:
        for key, balance in self.balances.items():
            if balance.wallet != key:
                raise ValueError(f"balances.{key}.wallet is {balance.wallet!r}; must equal the key")
        return self


class Freshness(WireModel):
    """How old a value of the answer is; None where the orchestrator did not say (older one)."""

    age_s: NonNegative | None = None
    """Seconds from `observed_at` to the answer; None when the value has no observation time."""
    stale: StrictBool | None = None
    """True past the source's stale limit (`stale_after_s`) or without an observation time: the
    registry keeps the last value it got, so a stale value is not live."""


class ChainHealthEntry(ChainHealthOut, Freshness):
    """One chain in `GET /v1/registry`: its health, its age and whether it is stale."""


class WalletBalanceEntry(WalletBalanceOut, Freshness):
    """One wallet in `GET /v1/registry`: its last good balance, its age and whether it is stale."""


class StaleAfter(WireModel):
    """The ages past which the registry marks values stale, seconds."""

    chains: NonNegative
    """alerting.heartbeat_stale_intervals x heartbeat.interval_s."""
    balances: NonNegative
    """alerting.heartbeat_stale_intervals x balance_watcher.poll_interval_s."""


class RegistryResponse(WireModel):
    """`GET /v1/registry` (and the answer of its PUTs): chain health, gas, balances, config.

    Every chain and balance carries `age_s` and `stale` (see `stale_after_s`).
    """

    chains: dict[str, ChainHealthEntry] = Field(default_factory=dict)
    gas_price_gwei: dict[str, float | None] = Field(default_factory=dict)
    balances: dict[str, WalletBalanceEntry] = Field(default_factory=dict)
    config_hash: str = ""
    config_sources: str = ""
    stale_after_s: StaleAfter | None = None


class TargetReport(WireModel):
    """One heartbeat target's result; further fields are allowed (the log carries more)."""

    model_config = ConfigDict(extra="allow")

    ok: StrictBool
    latency_ms: NonNegative | None = None
    detail: ProbeDetail = ""


class HeartbeatReport(RequestBody):
    """`POST /v1/heartbeat`: one completed heartbeat tick."""

    ts: Timestamp
    tick: Annotated[StrictInt, Field(ge=0)]
    config_hash: Annotated[str, StringConstraints(max_length=128)]
    interval_s: Annotated[float, Field(gt=0, le=86400)]
    chains: dict[Chain, ChainHealthBody] = Field(default_factory=dict)
    targets: Annotated[dict[Identifier, TargetReport], Field(max_length=64)] = Field(
        default_factory=dict
    )

    @model_validator(mode="after")
    def _keys_match(self) -> HeartbeatReport:
        for key, health in self.chains.items():
            if health.chain != key:
                raise ValueError(f"chains.{key}.chain is {health.chain!r}; must equal the key")
        return self


class HeartbeatResponse(WireModel):
    """Answer of a heartbeat report: the state, whether it changed, which checks are down."""

    state: Literal["running", "paused"]
    changed: bool
    down: list[str]
