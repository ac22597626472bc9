"""Every orchestrator call once: method, route, the token it needs, its body and its answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, Literal, TypeVar

from arbqos.tokens import Scope
from arbqos.vocab import Chain, PauseSource
from arbqos.wire import (
    BalancesRequest,
    ChainHealthBody,
    HeartbeatReport,
    HeartbeatResponse,
    JournalResponse,
    PauseRequest,
    PauseResponse,
    RegistryResponse,
    ResumeRequest,
    ResumeResponse,
    StatusResponse,
    WalletBalanceBody,
    WireModel,
)

AnswerT = TypeVar("AnswerT", bound=WireModel)
JournalKind = Literal["request", "reason", "transition"]


class Route(StrEnum):
    """Paths of the orchestrator API (contract §6); the SDK is the only code that joins them."""

    STATUS = "/v1/status"
    PAUSE = "/v1/pause"
    RESUME = "/v1/resume"
    HEARTBEAT = "/v1/heartbeat"
    REGISTRY = "/v1/registry"
    REGISTRY_CHAINS = "/v1/registry/chains"
    REGISTRY_BALANCES = "/v1/registry/balances"
    JOURNAL = "/v1/journal"


def url_for(base_url: str, path: str) -> str:
    """The URL of an API path on the orchestrator at `base_url` (`Route.RESUME`)."""
    return base_url.rstrip("/") + path


@dataclass(frozen=True)
class Call(Generic[AnswerT]):
    """One request: what to send, which token it needs, what the answer parses into."""

    method: Literal["GET", "POST", "PUT"]
    path: str
    answer: type[AnswerT]
    what: str
    """The answer in words, for errors: `a status`, `a registry snapshot`."""
    body: WireModel | None = None
    params: Mapping[str, str | int] | None = None
    scope: Scope | None = None
    """The token the call needs (`admin` also passes where `pause` is needed)."""


def status() -> Call[StatusResponse]:
    """`GET /v1/status`."""
    return Call("GET", Route.STATUS, StatusResponse, "a status")


def pause(reason: str, detail: str, source: PauseSource | str) -> Call[PauseResponse]:
    """`POST /v1/pause`; ValueError on a reason or detail the orchestrator would refuse."""
    body = PauseRequest.model_validate({"reason": reason, "source": source, "detail": detail})
    return Call("POST", Route.PAUSE, PauseResponse, "a pause answer", body, scope="pause")


def resume(force: bool, detail: str) -> Call[ResumeResponse]:
    """`POST /v1/resume` (admin)."""
    body = ResumeRequest(force=force, detail=detail)
    return Call("POST", Route.RESUME, ResumeResponse, "a resume answer", body, scope="admin")


def heartbeat(report: HeartbeatReport | Mapping[str, Any]) -> Call[HeartbeatResponse]:
    """`POST /v1/heartbeat`; a mapping is validated first (ValueError names the bad field)."""
    body = report if isinstance(report, HeartbeatReport) else HeartbeatReport.model_validate(report)
    return Call(
        "POST", Route.HEARTBEAT, HeartbeatResponse, "a heartbeat answer", body, scope="pause"
    )


def put_chain_health(health: ChainHealthBody) -> Call[RegistryResponse]:
    """`PUT /v1/registry/chains/{chain}`."""
    path = f"{Route.REGISTRY_CHAINS}/{Chain(health.chain).value}"
    return Call("PUT", path, RegistryResponse, "a registry snapshot", health, scope="pause")


def put_balances(
    balances: BalancesRequest | Mapping[str, WalletBalanceBody],
) -> Call[RegistryResponse]:
    """`PUT /v1/registry/balances`."""
    body = (
        balances
        if isinstance(balances, BalancesRequest)
        else BalancesRequest.model_validate({"balances": dict(balances)})
    )
    return Call(
        "PUT", Route.REGISTRY_BALANCES, RegistryResponse, "a registry snapshot", body, scope="pause"
    )


def registry() -> Call[RegistryResponse]:
    """`GET /v1/registry`."""
    return Call("GET", Route.REGISTRY, RegistryResponse, "a registry snapshot")


def journal(limit: int, kind: JournalKind | None) -> Call[JournalResponse]:
    """`GET /v1/journal` (newest first; `limit` 1 to 1000)."""
    params: dict[str, str | int] = {"limit": limit}
    if kind is not None:
        params["kind"] = kind
    return Call("GET", Route.JOURNAL, JournalResponse, "a journal", params=params)
