"""What both clients share: settings, URLs, auth headers, the status cache and error mapping."""

from __future__ import annotations

import logging
from typing import Any, Self

import httpx
from pydantic import ValidationError

from arbqos.clock import Clock, SystemClock
from arbqos.config import ArbqosConfig
from arbqos.config.redact import redact_url
from arbqos.errors import OrchestratorError
from arbqos.sdk.calls import AnswerT, Call, url_for
from arbqos.tokens import ENV_VARS, Scope
from arbqos.wire import describe

logger = logging.getLogger("arbqos.sdk")

_CHECK_URL = "check that the orchestrator is running and endpoints.orchestrator_url points at it"


class OrchestratorCallError(OrchestratorError):
    """A call failed: no answer, an error status, or an answer that is not the orchestrator's.

    `reason` is short and stable, for logs that report a reason once (`HTTP 503`,
    `ConnectError`, `no token`); `status` and `body` as in `OrchestratorError`.
    """

    def __init__(
        self, message: str, *, reason: str, status: int | None = None, body: Any = None
    ) -> None:
        super().__init__(message, status=status, body=body)
        self.reason = reason


def failure_reason(err: Exception) -> str:
    """The short reason of a failed call (the class name for anything but an SDK error)."""
    return err.reason if isinstance(err, OrchestratorCallError) else type(err).__name__


def _token_hint(scope: Scope) -> str:
    var, file_var = ENV_VARS[scope]
    return f"token refused; set {var} (or {file_var}) to the orchestrator's {scope} token"


class ClientCore:
    """Settings and the request/answer logic of `OrchestratorClient` and its async twin."""

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

    @property
    def has_token(self) -> bool:
        """True when the client was given a token (writes need one)."""
        return self._token is not None

    def url(self, path: str) -> str:
        """The full URL of an API path (`Route.STATUS`), e.g. to show an operator."""
        return url_for(self.base_url, path)

    def _shown(self, call: Call[Any]) -> str:
        return f"{call.method} {redact_url(self.base_url)}{call.path}"

    def _request_args(self, call: Call[Any]) -> dict[str, Any]:
        """Keyword arguments of `httpx.Client.request` for `call`; raises without a token."""
        headers: dict[str, str] = {}
        if call.scope is not None:
            if self._token is None:
                var, file_var = ENV_VARS[call.scope]
                raise OrchestratorCallError(
                    f"{self._shown(call)} needs the {call.scope} token: pass token= to the "
                    f"client (arbqos services read it from {var} or {file_var})",
                    reason="no token",
                )
            headers["Authorization"] = f"Bearer {self._token}"
        return {
            "method": call.method,
            "url": self.url(call.path),
            "json": None if call.body is None else call.body.model_dump(mode="json"),
            "params": call.params,
            "headers": headers,
            "timeout": self.timeout_s,
        }

    def _no_answer(self, call: Call[Any], err: Exception) -> OrchestratorCallError:
        """The error for a call that got no answer (`err`: transport error or deadline)."""
        if isinstance(err, TimeoutError | httpx.TimeoutException):
            message = f"no answer within {self.timeout_s:g} s"
        else:
            message = f"{type(err).__name__}: {err}"
        return OrchestratorCallError(
            f"{self._shown(call)}: {message}; {_CHECK_URL}", reason=type(err).__name__
        )

    def _answer(self, call: Call[AnswerT], response: httpx.Response) -> AnswerT:
        """Parse the answer into `call.answer`, or raise OrchestratorCallError saying why not."""
        shown, code = self._shown(call), response.status_code
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if code >= 400:
            message = _server_message(body, response)
            if code in (401, 403) and call.scope is not None:
                message += f"; {_token_hint(call.scope)}"
            raise OrchestratorCallError(
                f"{shown}: HTTP {code}: {message}", reason=f"HTTP {code}", status=code, body=body
            )
        if body is None:
            raise OrchestratorCallError(
                f"{shown}: answer is not JSON ({response.text[:100]!r}); is that URL the arbqos "
                "orchestrator?",
                reason="answer not JSON",
                status=code,
            )
        try:
            return call.answer.model_validate(body)
        except ValidationError as err:
            raise OrchestratorCallError(
                f"{shown} answered a body that is not {call.what} ({describe(err, 2)}); is that "
                "URL the arbqos orchestrator?",
                reason="unexpected answer",
                status=code,
                body=body,
            ) from err

    def _fresh(self) -> bool | None:
        """The cached `trading_allowed` answer while younger than `cache_s`."""
        if self._cached is None:
            return None
        at, allowed = self._cached
        return allowed if self._clock.monotonic() - at < self.cache_s else None

    def _remember(self, allowed: bool) -> bool:
        self._cached = (self._clock.monotonic(), allowed)
        return allowed

    def _forget(self) -> None:
        self._cached = None

    def _unreachable(self, err: Exception) -> bool:
        """Answer `not fail_closed` (and cache it) when the status could not be read."""
        allowed = not self.fail_closed
        logger.warning(
            "orchestrator status unavailable; trading %s",
            "allowed (fail open)" if allowed else "NOT allowed (fail closed)",
            extra={"error": f"{err.__class__.__name__}: {err}"},
        )
        return self._remember(allowed)


def _server_message(body: Any, response: httpx.Response) -> str:
    """The orchestrator's `message` (FastAPI's `detail` elsewhere), else the start of the text."""
    if isinstance(body, dict):
        for key in ("message", "detail"):
            if isinstance(body.get(key), str):
                return str(body[key])
    return response.text[:200]
