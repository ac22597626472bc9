"""RemoteRuntimeRegistry: the RuntimeRegistryAPI over the orchestrator's `/v1/registry` routes."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TypeVar

import httpx

from arbqos.errors import OrchestratorError
from arbqos.registry.model import ChainHealth, RegistrySnapshot, WalletBalance
from arbqos.sdk import AsyncOrchestratorClient

T = TypeVar("T")


class RemoteRegistryError(OrchestratorError):
    """A `/v1/registry` call failed; `status` is the HTTP status when there was an answer."""


class RemoteRuntimeRegistry:
    """Talks to the orchestrator's RuntimeRegistry through the SDK; every call ends within
    `timeout_s`.

    Reads (`snapshot`, `sequencer_health`, `get_bank`) need no token; writes need the `pause`
    token. `get_bank()` returns the balances the orchestrator last received; it never reads
    a chain itself. A value the orchestrator would refuse raises ValueError before any request.

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
        self._client = AsyncOrchestratorClient(
            base_url, token, timeout_s=timeout_s, cache_s=0, http=http
        )

    async def set_chain_health(self, health: ChainHealth) -> None:
        """`PUT /v1/registry/chains/{chain}`."""
        await self._call(self._client.put_chain_health(health.to_wire()))

    async def sequencer_health(self) -> dict[str, ChainHealth]:
        """The orchestrator's latest health of every chain."""
        return (await self.snapshot()).chains

    async def set_balances(self, balances: Mapping[str, WalletBalance]) -> None:
        """`PUT /v1/registry/balances`."""
        body = {name: balance.to_wire() for name, balance in balances.items()}
        await self._call(self._client.put_balances(body))

    async def get_bank(self) -> dict[str, WalletBalance]:
        """The orchestrator's latest wallet balances."""
        return (await self.snapshot()).balances

    async def snapshot(self) -> RegistrySnapshot:
        """`GET /v1/registry`, parsed."""
        return RegistrySnapshot.from_wire(await self._call(self._client.registry()))

    async def _call(self, pending: Awaitable[T]) -> T:
        """Await an SDK call; its error becomes a RemoteRegistryError with the same message."""
        try:
            return await pending
        except OrchestratorError as err:
            raise RemoteRegistryError(str(err), status=err.status, body=err.body) from err
