"""The orchestrator clients: blocking and asyncio, with the same calls and the same errors."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

import httpx

from arbqos.clock import Clock
from arbqos.sdk import calls
from arbqos.sdk.calls import AnswerT, Call, JournalKind
from arbqos.sdk.core import ClientCore
from arbqos.vocab import PauseSource
from arbqos.wire import (
    BalancesRequest,
    ChainHealthBody,
    HeartbeatReport,
    HeartbeatResponse,
    JournalEntryOut,
    RegistryResponse,
    StatusResponse,
    WalletBalanceBody,
)


class OrchestratorClient(ClientCore):
    """Blocking client, for code that asks before every order.

    Every call raises `OrchestratorError` (an `OrchestratorCallError` with `.reason`,
    `.status` and `.body`) when the orchestrator cannot be reached or refuses; only
    `trading_allowed()` never raises: it answers `not fail_closed` instead.

    >>> client = OrchestratorClient("http://127.0.0.1:8700", token=pause_token)
    >>> if client.trading_allowed():
    ...     place_order()
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout_s: float = 2.0,
        cache_s: float = 0.25,
        fail_closed: bool = True,
        clock: Clock | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        super().__init__(base_url, token, timeout_s, cache_s, fail_closed, clock)
        self._http = http or httpx.Client(timeout=timeout_s)

    def status(self) -> StatusResponse:
        """The current state and its reasons."""
        return self._run(calls.status())

    def trading_allowed(self) -> bool:
        """True when running; cached for `cache_s`; `not fail_closed` on any failure."""
        cached = self._fresh()
        if cached is not None:
            return cached
        try:
            return self._remember(not self.status().paused)
        except Exception as err:  # fail closed on anything, not only on the errors we foresaw
            return self._unreachable(err)

    def pause(
        self, reason: str, detail: str = "", *, source: PauseSource | str = PauseSource.MANUAL
    ) -> bool:
        """Pause trading; True when this call changed anything (idempotent). Pause token."""
        answer = self._run(calls.pause(reason, detail, source))
        self._forget()
        return answer.changed

    def resume(self, *, force: bool = False, detail: str = "") -> bool:
        """Resume trading (admin token); HTTP 409 while automatic reasons are active."""
        answer = self._run(calls.resume(force, detail))
        self._forget()
        return answer.changed

    def report_heartbeat(self, report: HeartbeatReport | Mapping[str, Any]) -> HeartbeatResponse:
        """Send one heartbeat report (`POST /v1/heartbeat`). Pause token."""
        return self._run(calls.heartbeat(report))

    def put_chain_health(self, health: ChainHealthBody) -> RegistryResponse:
        """Record one chain's health in the orchestrator's registry. Pause token."""
        return self._run(calls.put_chain_health(health))

    def put_balances(
        self, balances: BalancesRequest | Mapping[str, WalletBalanceBody]
    ) -> RegistryResponse:
        """Record wallet balances in the orchestrator's registry. Pause token."""
        return self._run(calls.put_balances(balances))

    def registry(self) -> RegistryResponse:
        """The orchestrator's registry: chain health, gas, balances, config identity."""
        return self._run(calls.registry())

    def journal(self, limit: int = 100, kind: JournalKind | None = None) -> list[JournalEntryOut]:
        """The newest `limit` journal entries (of one `kind`), newest first."""
        return self._run(calls.journal(limit, kind)).entries

    def close(self) -> None:
        """Close the HTTP client."""
        self._http.close()

    def _run(self, call: Call[AnswerT]) -> AnswerT:
        args = self._request_args(call)
        try:
            response = self._http.request(**args)
        except httpx.HTTPError as err:
            raise self._no_answer(call, err) from err
        return self._answer(call, response)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncOrchestratorClient(ClientCore):
    """Asyncio client, for an engine, a prober or a watcher running on asyncio.

    Same calls and errors as `OrchestratorClient`; each call also ends within `timeout_s`
    as a whole (httpx's own timeouts apply per connect and per read).

    >>> async with AsyncOrchestratorClient("http://127.0.0.1:8700", token=t) as client:
    ...     allowed = await client.trading_allowed()
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout_s: float = 2.0,
        cache_s: float = 0.25,
        fail_closed: bool = True,
        clock: Clock | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(base_url, token, timeout_s, cache_s, fail_closed, clock)
        self._http = http or httpx.AsyncClient(timeout=timeout_s)

    async def status(self) -> StatusResponse:
        """The current state and its reasons."""
        return await self._run(calls.status())

    async def trading_allowed(self) -> bool:
        """True when running; cached for `cache_s`; `not fail_closed` on any failure."""
        cached = self._fresh()
        if cached is not None:
            return cached
        try:
            return self._remember(not (await self.status()).paused)
        except Exception as err:  # fail closed on anything, not only on the errors we foresaw
            return self._unreachable(err)

    async def pause(
        self, reason: str, detail: str = "", *, source: PauseSource | str = PauseSource.MANUAL
    ) -> bool:
        """Pause trading; True when this call changed anything (idempotent). Pause token."""
        answer = await self._run(calls.pause(reason, detail, source))
        self._forget()
        return answer.changed

    async def resume(self, *, force: bool = False, detail: str = "") -> bool:
        """Resume trading (admin token); HTTP 409 while automatic reasons are active."""
        answer = await self._run(calls.resume(force, detail))
        self._forget()
        return answer.changed

    async def report_heartbeat(
        self, report: HeartbeatReport | Mapping[str, Any]
    ) -> HeartbeatResponse:
        """Send one heartbeat report (`POST /v1/heartbeat`). Pause token."""
        return await self._run(calls.heartbeat(report))

    async def put_chain_health(self, health: ChainHealthBody) -> RegistryResponse:
        """Record one chain's health in the orchestrator's registry. Pause token."""
        return await self._run(calls.put_chain_health(health))

    async def put_balances(
        self, balances: BalancesRequest | Mapping[str, WalletBalanceBody]
    ) -> RegistryResponse:
        """Record wallet balances in the orchestrator's registry. Pause token."""
        return await self._run(calls.put_balances(balances))

    async def registry(self) -> RegistryResponse:
        """The orchestrator's registry: chain health, gas, balances, config identity."""
        return await self._run(calls.registry())

    async def journal(
        self, limit: int = 100, kind: JournalKind | None = None
    ) -> list[JournalEntryOut]:
        """The newest `limit` journal entries (of one `kind`), newest first."""
        return (await self._run(calls.journal(limit, kind))).entries

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._http.aclose()

    async def _run(self, call: Call[AnswerT]) -> AnswerT:
        args = self._request_args(call)
        try:
            async with asyncio.timeout(self.timeout_s):
                response = await self._http.request(**args)
        except (TimeoutError, httpx.HTTPError) as err:
            raise self._no_answer(call, err) from err
        return self._answer(call, response)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
