"""RemoteRuntimeRegistry: the RuntimeRegistryAPI over the orchestrator's `/v1/registry` routes."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any

import httpx

from arbqos.config.redact import redact_url
from arbqos.errors import OrchestratorError
from arbqos.registry.model import ChainHealth, RegistrySnapshot, WalletBalance

_CHAIN_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class RemoteRegistryError(OrchestratorError):
    """A `/v1/registry` call failed; `status` is the HTTP status when there was an answer."""


class RemoteRuntimeRegistry:
    """Talks to the orchestrator's RuntimeRegistry; every call ends within `timeout_s`.

    Reads (`snapshot`, `sequencer_health`, `get_bank`) need no token; writes need the `pause`
    token. `get_bank()` returns the balances the orchestrator last received; it never reads
    a chain itself.

    >>> remote = RemoteRuntimeRegistry("http://127.0.0.1:8700", http=client, token=pause_token)
    >>> await remote.set_chain_health(ChainHealth("arbitrum", rpc_up=True, sequencer_up=True))
    >>> (await remote.get_bank())["sx"].balance_usd
    120.5
    """

    def __init__(
        self,
        base_url: str,
        http: httpx.AsyncClient,
        token: str | None = None,
        *,
        timeout_s: float = 5.0,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._http = http
        self._token = token
        self._timeout_s = timeout_s

    async def set_chain_health(self, health: ChainHealth) -> None:
        """`PUT /v1/registry/chains/{chain}` with `health.to_json()`."""
        if not _CHAIN_RE.match(health.chain):
            raise ValueError(f"chain name {health.chain!r} is not a short lowercase identifier")
        await self._request("PUT", f"/v1/registry/chains/{health.chain}", health.to_json())

    async def sequencer_health(self) -> dict[str, ChainHealth]:
        """The orchestrator's latest health of every chain."""
        return (await self.snapshot()).chains

    async def set_balances(self, balances: Mapping[str, WalletBalance]) -> None:
        """`PUT /v1/registry/balances` with `{"balances": {name: balance.to_json()}}`."""
        body = {"balances": {name: b.to_json() for name, b in balances.items()}}
        await self._request("PUT", "/v1/registry/balances", body)

    async def get_bank(self) -> dict[str, WalletBalance]:
        """The orchestrator's latest wallet balances."""
        return (await self.snapshot()).balances

    async def snapshot(self) -> RegistrySnapshot:
        """`GET /v1/registry`, parsed."""
        body = await self._request("GET", "/v1/registry")
        try:
            if not isinstance(body, Mapping):
                raise TypeError(f"expected a JSON object, got {type(body).__name__}")
            return RegistrySnapshot.from_json(body)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise RemoteRegistryError(
                f"GET {redact_url(self._base)}/v1/registry answered a body that is not a "
                f"registry snapshot ({err}); is that URL the arbqos orchestrator?"
            ) from err

    async def _request(self, method: str, path: str, body: Any = None) -> Any:
        url = self._base + path
        shown = f"{method} {redact_url(url)}"
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        try:
            async with asyncio.timeout(self._timeout_s):
                response = await self._http.request(
                    method, url, json=body, headers=headers, timeout=self._timeout_s
                )
        except (TimeoutError, httpx.TimeoutException) as err:
            raise RemoteRegistryError(
                f"{shown}: no answer within {self._timeout_s:g} s; check that the orchestrator "
                "is running and endpoints.orchestrator_url points at it"
            ) from err
        except httpx.HTTPError as err:
            raise RemoteRegistryError(
                f"{shown}: {type(err).__name__}: {err}; check that the orchestrator is running "
                "and endpoints.orchestrator_url points at it"
            ) from err
        if response.status_code in (401, 403):
            raise RemoteRegistryError(
                f"{shown}: HTTP {response.status_code}, token refused; set ARBQOS_PAUSE_TOKEN "
                "(or ARBQOS_PAUSE_TOKEN_FILE) to the orchestrator's pause token",
                status=response.status_code,
            )
        if not response.is_success:
            raise RemoteRegistryError(
                f"{shown}: HTTP {response.status_code}: {response.text[:300]}",
                status=response.status_code,
            )
        if method != "GET":
            return None
        try:
            return response.json()
        except ValueError as err:
            raise RemoteRegistryError(
                f"{shown}: answer is not JSON ({response.text[:100]!r})",
                status=response.status_code,
            ) from err
