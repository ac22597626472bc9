"""Reports to the orchestrator through the SDK: in the background, one at a time, latest wins."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, Protocol, TypeVar

import httpx
from pydantic import ValidationError

from arbqos.config.redact import redact_url
from arbqos.sdk import AsyncOrchestratorClient, failure_reason
from arbqos.tokens import read_pause_token as read_pause_token  # re-exported
from arbqos.wire import HeartbeatReport, describe

logger = logging.getLogger(__name__)

BodyT = TypeVar("BodyT")


class Reporter(Protocol):
    """Where a tick's report goes; `submit` must return at once."""

    def submit(self, report: Mapping[str, Any]) -> None:
        """Hand over the latest report."""
        ...


class LatestWinsSender(Generic[BodyT]):
    """Deliver bodies with `deliver` (an SDK call), never delaying the caller.

    `send()` stores the body and returns. One background task delivers, one request at a time,
    always the newest body: a body superseded while another was in flight is dropped. With
    `retry=(initial_s, max_s)` a failed body is retried with a backoff (doubling up to `max_s`;
    a newer body is tried at once); with `retry=None` a failed body is dropped and the caller's
    next body is the retry. Failures are logged once per new reason, as `failed_message % reason`.
    """

    def __init__(
        self,
        client: AsyncOrchestratorClient,
        deliver: Callable[[BodyT], Awaitable[object]],
        *,
        retry: tuple[float, float] | None,
        what: str,
        failed_message: str,
    ) -> None:
        self.client = client
        self._shown_url = redact_url(client.base_url)
        self._deliver = deliver
        self.timeout_s = client.timeout_s
        self._retry = retry
        self._what = what
        self._failed_message = failed_message
        self._latest: BodyT | None = None
        self._task: asyncio.Task[None] | None = None
        self._wakeup = asyncio.Event()
        self.delivered = 0
        self.failures = 0
        self.last_error: str | None = None
        if not client.has_token:
            logger.warning(
                "%s go without a token; the orchestrator will refuse them: set "
                "ARBQOS_PAUSE_TOKEN (or ARBQOS_PAUSE_TOKEN_FILE)",
                what,
            )

    def send(self, body: BodyT) -> None:
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
            return self.last_error is None
        done, _ = await asyncio.wait({task}, timeout=timeout_s)
        return bool(done) and self._latest is None and self.last_error is None

    async def aclose(self) -> None:
        """Stop sending (undelivered bodies are dropped)."""
        self._latest = None
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def failed(self, error: str, context: Mapping[str, Any] | None = None) -> None:
        """Count a failure; log it when its reason differs from the previous one."""
        self.failures += 1
        if error != self.last_error:
            extra = {"url": self._shown_url, **(context or {})}
            logger.warning(self._failed_message, error, extra=extra)
        self.last_error = error

    def _log_context(self, body: BodyT) -> dict[str, Any]:
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
            # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that arrives as
            # the event is set, and aclose() would then wait out a whole backoff.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wakeup.wait()  # a new body ends the wait
            delay = min(delay * 2, self._retry[1])

    async def _send(self, body: BodyT) -> bool:
        """Deliver once; True on success."""
        try:
            await self._deliver(body)
        except Exception as err:  # the SDK's errors, and anything else: never kill the sender
            self.failed(failure_reason(err), self._log_context(body))
            return False
        self.delivered += 1
        if self.last_error is not None:
            logger.info("orchestrator takes %s again", self._what, extra={"url": self._shown_url})
        self.last_error = None
        return True


class OrchestratorReporter(LatestWinsSender[HeartbeatReport]):
    """POST each tick's report to the orchestrator without delaying the tick.

    `submit()` validates the report against the wire model the orchestrator checks it with
    and stores it; the newest report is sent in the background. When the orchestrator cannot
    be reached the latest report is retried with a backoff (starting at `retry_initial_s`,
    doubling up to `retry_max_s`; a newer report is tried at once), so it gets the current
    state as soon as it is back, and the heartbeat keeps ticking meanwhile.

    >>> reporter = OrchestratorReporter(http, url="http://127.0.0.1:8700", token=token,
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
        client = AsyncOrchestratorClient(url, token, timeout_s=timeout_s, http=http)
        super().__init__(
            client,
            client.report_heartbeat,
            retry=(retry_initial_s, retry_max_s),
            what="heartbeat reports",
            failed_message="heartbeat report not delivered: %s",
        )

    def submit(self, report: Mapping[str, Any]) -> None:
        """Validate `report`, keep it as the newest one and make sure a sender is running."""
        try:
            body = HeartbeatReport.model_validate(report)
        except ValidationError as err:  # the orchestrator would refuse it: say why, here
            self.failed(f"invalid report ({describe(err)})", {"tick": report.get("tick")})
            return
        self.send(body)

    def _log_context(self, body: HeartbeatReport) -> dict[str, Any]:
        return {"tick": body.tick}
