"""Client SDK of the orchestrator: may the bot trade, pause, resume, report (sync and async)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import httpx

from arbqos.clock import Clock, SystemClock
from arbqos.config import ArbqosConfig
from arbqos.errors import OrchestratorError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PauseReason:
    """One reason trading is paused."""

    source: str
    name: str
    since: str
    detail: str
    active: bool


@dataclass(frozen=True)
class OrchestratorStatus:
    """The answer of `GET /v1/status`."""

    state: str
    reasons: tuple[PauseReason, ...]
    since: str
    config_hash: str

    @property
    def paused(self) -> bool:
        """True unless the state is `running`."""
        return self.state != "running"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OrchestratorStatus:
        """Parse a status body; raises KeyError/TypeError on a malformed one."""
        reasons = tuple(
            PauseReason(
                source=str(r["source"]),
                name=str(r["name"]),
                since=str(r["since"]),
                detail=str(r.get("detail", "")),
                active=bool(r.get("active", True)),
            )
            for r in data["reasons"]
        )
        state = data["state"]
        if state not in ("running", "paused"):
            raise ValueError(f"unknown state {state!r}")
        return cls(state, reasons, str(data["since"]), str(data.get("config_hash", "")))


_STATUS_FAILURES = (httpx.HTTPError, OrchestratorError, KeyError, TypeError, ValueError)
"""What makes `trading_allowed` fall back to `not fail_closed`: no answer or a malformed one."""


class _ClientCore:
    """What both clients share: settings, the answer cache, headers and answer parsing."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        timeout_s: float,
        cache_s: float,
        fail_closed: bool,
        clock: Clock | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url {base_url!r}: expected http://host:port")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout_s = timeout_s
        self.cache_s = cache_s
        self.fail_closed = fail_closed
        self._clock = clock or SystemClock()
        self._cached: tuple[float, bool] | None = None

    @classmethod
    def from_config(cls, config: ArbqosConfig, token: str | None = None) -> Self:
        """Build from `endpoints.orchestrator_url` and `orchestrator.client_*` settings."""
        orch = config.orchestrator
        return cls(
            base_url=config.endpoints.orchestrator_url,
            token=token,
            timeout_s=orch.client_timeout_s,
            cache_s=orch.client_cache_s,
            fail_closed=orch.client_fail_closed,
        )

    def _auth(self) -> dict[str, str]:
        if self._token is None:
            raise OrchestratorError("this call needs a token: pass token= to the client")
        return {"Authorization": f"Bearer {self._token}"}

    def _fresh(self) -> bool | None:
        if self._cached is None:
            return None
        at, allowed = self._cached
        return allowed if self._clock.monotonic() - at < self.cache_s else None

    def _remember(self, allowed: bool) -> bool:
        self._cached = (self._clock.monotonic(), allowed)
        return allowed

    def _unreachable(self, err: Exception) -> bool:
        allowed = not self.fail_closed
        logger.warning(
            "orchestrator status unavailable; trading %s",
            "allowed (fail open)" if allowed else "NOT allowed (fail closed)",
            extra={"error": f"{err.__class__.__name__}: {err}"},
        )
        return self._remember(allowed)


def _parse(response: httpx.Response) -> Any:
    """Return the JSON body, or raise OrchestratorError with the server's message."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400:
        message = body.get("message") if isinstance(body, dict) else response.text[:200]
        raise OrchestratorError(
            f"{response.request.method} {response.request.url.path}: "
            f"HTTP {response.status_code}: {message}",
            status=response.status_code,
            body=body,
        )
    if body is None:
        raise OrchestratorError(f"HTTP {response.status_code}: the answer is not JSON")
    return body


class OrchestratorClient(_ClientCore):
    """Blocking client, for code that asks before every order.

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

    def status(self) -> OrchestratorStatus:
        """Return the current state and reasons; raises OrchestratorError or httpx.HTTPError."""
        return OrchestratorStatus.from_json(_parse(self._http.get(f"{self.base_url}/v1/status")))

    def trading_allowed(self) -> bool:
        """True when running; cached for `cache_s`; `not fail_closed` when unreachable."""
        cached = self._fresh()
        if cached is not None:
            return cached
        try:
            return self._remember(not self.status().paused)
        except _STATUS_FAILURES as err:
            return self._unreachable(err)

    def pause(self, reason: str, detail: str = "", *, source: str = "manual") -> bool:
        """Pause trading; return True when this call changed anything (idempotent)."""
        body = {"reason": reason, "source": source, "detail": detail}
        answer = _parse(self._post("/v1/pause", body))
        self._cached = None
        return bool(answer["changed"])

    def resume(self, *, force: bool = False, detail: str = "") -> bool:
        """Resume trading (admin token); raises OrchestratorError (409) while reasons are active."""
        answer = _parse(self._post("/v1/resume", {"force": force, "detail": detail}))
        self._cached = None
        return bool(answer["changed"])

    def report_heartbeat(self, report: Mapping[str, Any]) -> dict[str, Any]:
        """Send one heartbeat report (`POST /v1/heartbeat`)."""
        answer: dict[str, Any] = _parse(self._post("/v1/heartbeat", dict(report)))
        return answer

    def close(self) -> None:
        """Close the HTTP client."""
        self._http.close()

    def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self._http.post(f"{self.base_url}{path}", json=body, headers=self._auth())

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncOrchestratorClient(_ClientCore):
    """Asyncio client, for an engine or a prober running on asyncio.

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

    async def status(self) -> OrchestratorStatus:
        """Return the current state and reasons."""
        response = await self._http.get(f"{self.base_url}/v1/status")
        return OrchestratorStatus.from_json(_parse(response))

    async def trading_allowed(self) -> bool:
        """True when running; cached for `cache_s`; `not fail_closed` when unreachable."""
        cached = self._fresh()
        if cached is not None:
            return cached
        try:
            return self._remember(not (await self.status()).paused)
        except _STATUS_FAILURES as err:
            return self._unreachable(err)

    async def pause(self, reason: str, detail: str = "", *, source: str = "manual") -> bool:
        """Pause trading; return True when this call changed anything."""
        body = {"reason": reason, "source": source, "detail": detail}
        answer = _parse(await self._post("/v1/pause", body))
        self._cached = None
        return bool(answer["changed"])

    async def resume(self, *, force: bool = False, detail: str = "") -> bool:
        """Resume trading (admin token)."""
        answer = _parse(await self._post("/v1/resume", {"force": force, "detail": detail}))
        self._cached = None
        return bool(answer["changed"])

    async def report_heartbeat(self, report: Mapping[str, Any]) -> dict[str, Any]:
        """Send one heartbeat report."""
        answer: dict[str, Any] = _parse(await self._post("/v1/heartbeat", dict(report)))
        return answer

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._http.aclose()

    async def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self._http.post(f"{self.base_url}{path}", json=body, headers=self._auth())

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
