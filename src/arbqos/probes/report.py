"""Reports to the orchestrator: sent in the background, one request at a time, latest wins."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any, Protocol

import httpx

from arbqos.config.redact import redact_url
from arbqos.tokens import read_pause_token as read_pause_token  # re-exported

logger = logging.getLogger(__name__)


class Reporter(Protocol):
    """Where a tick's report goes; `submit` must return at once."""

    def submit(self, report: Mapping[str, Any]) -> None:
        """Hand over the latest report."""
        ...


class OrchestratorSender:
    """Send JSON bodies to `{orchestrator_url}{path}` with `method`, never delaying the caller.

    `send()` stores the body and returns. One background task sends, one request at a time,
    always the newest body: a body superseded while another was in flight is dropped. With
    `retry=(initial_s, max_s)` a failed body is retried with a backoff (doubling up to `max_s`;
    a newer body is tried at once); with `retry=None` a failed body is dropped and the caller's
    next body is the retry. Failures are logged once per new reason, as `failed_message % reason`.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        url: str,
        method: str,
        path: str,
        token: str | None,
        timeout_s: float,
        retry: tuple[float, float] | None,
        what: str,
        failed_message: str,
    ) -> None:
        self._http = http
        self._method = method
        self._url = url.rstrip("/") + path
        self._shown_url = redact_url(self._url)
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.timeout_s = timeout_s
        self._retry = retry
        self._what = what
        self._failed_message = failed_message
        self._latest: Mapping[str, Any] | None = None
        self._task: asyncio.Task[None] | None = None
        self._wakeup = asyncio.Event()
        self.delivered = 0
        self.failures = 0
        self.last_error: str | None = None
        if not token:
            logger.warning(
                "%s go without a token; the orchestrator will refuse them: set "
                "ARBQOS_PAUSE_TOKEN (or ARBQOS_PAUSE_TOKEN_FILE)",
                what,
            )

    def send(self, body: Mapping[str, Any]) -> None:
        """Keep `body` as the newest one and make sure a sender is running."""
        self._latest = body
        self._wakeup.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())

    @property
    def pending(self) -> bool:
        """True while a body waits to be delivered."""
        return self._latest is not None or (self._task is not None and not self._task.done())

    async def flush(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for the newest body to be delivered; True if it was."""
        task = self._task
        if task is None:
            return True
        done, _ = await asyncio.wait({task}, timeout=timeout_s)
        return bool(done) and self._latest is None and self.last_error is None

    async def aclose(self) -> None:
        """Stop sending (undelivered bodies are dropped)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _log_context(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Extra log fields naming `body` (none by default)."""
        return {}

    async def _drain(self) -> None:
        delay = self._retry[0] if self._retry else 0.0
        while self._latest is not None:
            body = self._latest
            self._wakeup.clear()
            if await self._send(body) or self._retry is None:
                if self._latest is body:
                    self._latest = None
                delay = self._retry[0] if self._retry else 0.0
                continue
            if self._latest is not body:
                continue  # a newer body arrived meanwhile: send that one at once
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), delay)  # a new body ends the wait
            delay = min(delay * 2, self._retry[1])

    async def _send(self, body: Mapping[str, Any]) -> bool:
        """Send once; True on success."""
        error: str | None
        try:
            response = await self._http.request(
                self._method,
                self._url,
                json=dict(body),
                headers=self._headers,
                timeout=self.timeout_s,
            )
        except httpx.HTTPError as err:
            error = type(err).__name__
        else:
            error = None if response.is_success else f"HTTP {response.status_code}"
        if error is None:
            self.delivered += 1
            if self.last_error is not None:
                logger.info(
                    "orchestrator takes %s again", self._what, extra={"url": self._shown_url}
                )
            self.last_error = None
            return True
        self.failures += 1
        if error != self.last_error:
            logger.warning(
                self._failed_message,
                error,
                extra={"url": self._shown_url, **self._log_context(body)},
            )
        self.last_error = error
        return False


class OrchestratorReporter(OrchestratorSender):
    """POST each tick's report to `{orchestrator_url}/v1/heartbeat` without delaying the tick.

    `submit()` stores the report and returns; the newest report is sent in the background. When
    the orchestrator cannot be reached the latest report is retried with a backoff (starting at
    `retry_initial_s`, doubling up to `retry_max_s`; a newer report is tried at once), so it
    gets the current state as soon as it is back, and the heartbeat keeps ticking meanwhile.

    >>> reporter = OrchestratorReporter(client, url="http://127.0.0.1:8700", token=token,
    ...                                 timeout_s=2.0)
    >>> reporter.submit({"tick": 7, ...})
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        url: str,
        token: str | None,
        timeout_s: float = 2.0,
        retry_initial_s: float = 1.0,
        retry_max_s: float = 30.0,
    ) -> None:
        super().__init__(
            http,
            url=url,
            method="POST",
            path="/v1/heartbeat",
            token=token,
            timeout_s=timeout_s,
            retry=(retry_initial_s, retry_max_s),
            what="heartbeat reports",
            failed_message="heartbeat report not delivered: %s",
        )

    def submit(self, report: Mapping[str, Any]) -> None:
        """Keep `report` as the newest one and make sure a sender is running."""
        self.send(report)

    def _log_context(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return {"tick": body.get("tick")}
