"""Push wallet balances to the orchestrator's registry in the background; latest wins."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import httpx

from arbqos.config.redact import redact_url
from arbqos.registry.model import WalletBalance

logger = logging.getLogger(__name__)


class BalancePusher:
    """`PUT {orchestrator_url}/v1/registry/balances` without ever delaying a poll.

    `submit()` keeps the newest balances and returns at once; one background task sends, one
    request at a time, always the newest body. A failed push is logged (once per new failure
    reason) and not retried on its own: the next poll submits fresh balances.

    >>> pusher = BalancePusher(client, url="http://127.0.0.1:8700", token=token, timeout_s=2)
    >>> pusher.submit(balances)
    """

    def __init__(
        self, http: httpx.AsyncClient, *, url: str, token: str | None, timeout_s: float
    ) -> None:
        self._http = http
        self._url = url.rstrip("/") + "/v1/registry/balances"
        self._shown_url = redact_url(self._url)
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.timeout_s = timeout_s
        self._latest: dict[str, Any] | None = None
        self._task: asyncio.Task[None] | None = None
        self.delivered = 0
        self.failures = 0
        self.last_error: str | None = None
        if not token:
            logger.warning(
                "balances are pushed without a token; the orchestrator will refuse them: set "
                "ARBQOS_PAUSE_TOKEN (or ARBQOS_PAUSE_TOKEN_FILE)"
            )

    def submit(self, balances: Mapping[str, WalletBalance]) -> None:
        """Keep `balances` as the newest body and make sure a sender runs."""
        self._latest = {"balances": {name: b.to_json() for name, b in sorted(balances.items())}}
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def flush(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for the sender to finish; True when the last push succeeded."""
        if self._task is not None:
            await asyncio.wait({self._task}, timeout=timeout_s)
        done = self._task is None or self._task.done()
        return done and self._latest is None and self.last_error is None

    async def aclose(self) -> None:
        """Stop sending; an undelivered body is dropped."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _drain(self) -> None:
        while self._latest is not None:
            body, self._latest = self._latest, None
            await self._send(body)

    async def _send(self, body: dict[str, Any]) -> None:
        error: str | None
        try:
            response = await self._http.put(
                self._url, json=body, headers=self._headers, timeout=self.timeout_s
            )
        except httpx.HTTPError as err:
            error = type(err).__name__
        else:
            error = None if response.is_success else f"HTTP {response.status_code}"
        if error is None:
            self.delivered += 1
            if self.last_error is not None:
                logger.info("orchestrator takes balances again", extra={"url": self._shown_url})
            self.last_error = None
            return
        self.failures += 1
        if error != self.last_error:
            logger.warning(
                "balances not pushed to the orchestrator (%s); retried at the next poll",
                error,
                extra={"url": self._shown_url},
            )
        self.last_error = error
