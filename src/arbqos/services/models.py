"""Request and response bodies of the control API; unknown fields in our own bodies are errors."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from arbqos.registry import ChainHealth, WalletBalance
from arbqos.vocab import Chain, PauseSource, Venue


def _caller_source(value: PauseSource) -> PauseSource:
    """Refuse `deadman`: only the orchestrator's own dead man's switch pauses with it."""
    if value is PauseSource.DEADMAN:
        raise ValueError(
            "deadman is the orchestrator's own source; use manual, guard, alert or heartbeat"
        )
    return value


CallerSource = Annotated[PauseSource, AfterValidator(_caller_source)]
"""Sources a caller may pause with (`deadman` is the orchestrator's own)."""

ReasonText = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
]
DETAIL_MAX = 2000
Detail = Annotated[str, StringConstraints(max_length=DETAIL_MAX)]


def _clip(value: object) -> object:
    """Cut a probe's free-text detail to `DETAIL_MAX` characters instead of refusing the report."""
    return value[:DETAIL_MAX] if isinstance(value, str) else value


ProbeDetail = Annotated[str, BeforeValidator(_clip)]
"""Free text inside machine reports: clipped, since refusing a report over it would pause."""
Label = Annotated[str, StringConstraints(max_length=1024)]
Seconds = Annotated[float, Field(ge=0)]


class RequestBody(BaseModel):
    """Base of our own request bodies: frozen, unknown fields rejected, no NaN or infinity."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class PauseRequest(RequestBody):
    """`POST /v1/pause`."""

    reason: ReasonText
    source: CallerSource = PauseSource.MANUAL
    detail: Detail = ""


class ResumeRequest(RequestBody):
    """`POST /v1/resume`; `detail` says why (journaled)."""

    force: StrictBool = False
    detail: Detail = ""


class ChainHealthBody(RequestBody):
    """`ChainHealth.to_json()`."""

    chain: Chain
    rpc_up: StrictBool
    sequencer_up: StrictBool
    sequencer_status: Literal["up", "down", "recovering", "unknown"] = "unknown"
    head_block: Annotated[StrictInt, Field(ge=0)] | None = None
    head_age_s: float | None = None
    gas_price_gwei: Annotated[float, Field(ge=0)] | None = None
    rpc_endpoint: Annotated[StrictInt, Field(ge=0, le=64)] | None = None
    detail: ProbeDetail = ""
    observed_at: AwareDatetime | None = None

    def to_health(self) -> ChainHealth:
        """Return the registry dataclass."""
        return ChainHealth(**self.model_dump())


class WalletBalanceBody(RequestBody):
    """`WalletBalance.to_json()`."""

    wallet: Venue
    chain: Chain
    token: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9.]{1,16}$")]
    balance_usd: Annotated[float, Field(ge=0)] | None
    balance_units: Annotated[float, Field(ge=0)] | None = None
    low: StrictBool = False
    observed_at: AwareDatetime | None = None
    error: ProbeDetail | None = None

    def to_balance(self) -> WalletBalance:
        """Return the registry dataclass."""
        return WalletBalance(**self.model_dump())


class BalancesRequest(RequestBody):
    """`PUT /v1/registry/balances`: `{"balances": {"sx": WalletBalance.to_json(), ...}}`."""

    balances: dict[Venue, WalletBalanceBody]

    @model_validator(mode="after")
    def _keys_match(self) -> BalancesRequest:
        for key, balance in self.balances.items():
            if balance.wallet != key:
                raise ValueError(f"balances.{key}.wallet is {balance.wallet!r}; must equal the key")
        return self


class TargetReport(BaseModel):
    """One heartbeat target's result; further fields are allowed (the log carries more)."""

    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)

    ok: StrictBool
    latency_ms: Annotated[float, Field(ge=0)] | None = None
    detail: ProbeDetail = ""


class HeartbeatReport(RequestBody):
    """`POST /v1/heartbeat`: one completed heartbeat tick."""

    ts: AwareDatetime
    tick: Annotated[StrictInt, Field(ge=0)]
    config_hash: Annotated[str, StringConstraints(max_length=128)]
    interval_s: Annotated[float, Field(gt=0, le=86400)]
    chains: dict[Chain, ChainHealthBody] = Field(default_factory=dict)
    targets: Annotated[
        dict[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")], TargetReport],
        Field(max_length=64),
    ] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _keys_match(self) -> HeartbeatReport:
        for key, health in self.chains.items():
            if health.chain != key:
                raise ValueError(f"chains.{key}.chain is {health.chain!r}; must equal the key")
        return self


class AmAlert(BaseModel):
    """One alert of an Alertmanager webhook (fields Alertmanager may add later are ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    status: Literal["firing", "resolved"]
    labels: Annotated[dict[str, Label], Field(max_length=64)]
    annotations: Annotated[dict[str, Label], Field(max_length=64)] = Field(default_factory=dict)
    starts_at: AwareDatetime = Field(alias="startsAt")
    ends_at: AwareDatetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL", max_length=4096)
    fingerprint: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z]{1,64}$")]

    @field_validator("labels")
    @classmethod
    def _has_alertname(cls, value: dict[str, str]) -> dict[str, str]:
        if not value.get("alertname"):
            raise ValueError("labels must include a non-empty alertname")
        return value


class AlertmanagerPayload(BaseModel):
    """Alertmanager webhook body, version 4.

    Unknown fields are ignored rather than refused: Alertmanager has added fields to version 4
    before (`truncatedAlerts`), and refusing a webhook would lose a pause.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    version: Literal["4"]
    status: Literal["firing", "resolved"]
    receiver: Annotated[str, StringConstraints(max_length=256)] = ""
    alerts: Annotated[list[AmAlert], Field(max_length=1000)]
    group_labels: dict[str, Label] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, Label] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, Label] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field(default="", alias="externalURL", max_length=4096)
    group_key: str = Field(default="", alias="groupKey", max_length=4096)
    truncated_alerts: Annotated[StrictInt, Field(ge=0)] = Field(default=0, alias="truncatedAlerts")


class ReasonOut(BaseModel):
    """One pause reason as shown by `/v1/status`."""

    source: str
    name: str
    since: str
    detail: str
    active: bool
    inactive_since: str | None = None


class StatusResponse(BaseModel):
    """`GET /v1/status`."""

    state: Literal["running", "paused"]
    reasons: list[ReasonOut]
    since: str
    config_hash: str
    heartbeat: dict[str, Any] = Field(default_factory=dict)


class PauseResponse(BaseModel):
    """Answer of pause: the state after the request and whether it changed anything."""

    state: Literal["running", "paused"]
    changed: bool
    persisted: bool = True
    """False when the change holds in memory only (the store failed; retried every second)."""


class ResumeResponse(PauseResponse):
    """Answer of resume, with the reasons it cleared."""

    cleared: list[ReasonOut] = Field(default_factory=list)


class AlertResultOut(BaseModel):
    """What the orchestrator did with one alert."""

    alertname: str
    fingerprint: str
    status: str
    reason: str | None
    action: Literal["paused", "already_paused", "reason_resolved", "ignored"]
    detail: str


class AlertmanagerResponse(BaseModel):
    """Answer of the Alertmanager webhook."""

    state: Literal["running", "paused"]
    results: list[AlertResultOut]


class HeartbeatResponse(BaseModel):
    """Answer of a heartbeat report."""

    state: Literal["running", "paused"]
    changed: bool
    down: list[str]


class JournalResponse(BaseModel):
    """`GET /v1/journal`: newest entries first."""

    entries: list[dict[str, Any]]


class ErrorResponse(BaseModel):
    """Every 4xx/5xx body: a short code, a message naming the problem and the fix, details."""

    error: str
    message: str
    errors: list[dict[str, Any]] = Field(default_factory=list)
