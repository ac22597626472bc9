"""Optional outbound heartbeat to an external dead man's switch (healthchecks.io style).

While all is well, `HeartbeatPinger.run()` sends `GET <url>` every `interval_s`. When this
machine dies, loses its network, or the caller's `all_well()` says no, the pings stop and the
external service alarms on its own after its grace period: the one alarm that needs nothing on
this machine to work. The URL is a secret (it identifies the check); it is never logged.
Each ping is counted in `arb_notifications_total{channel="heartbeat_ping",result=sent|failed}`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AsyncExitStack

import httpx

from arbqos.clock import Clock
from arbqos.notify.metrics import HEARTBEAT_PING_CHANNEL, NotifyMetrics
from arbqos.notify.scrub import SecretScrubber

logger = logging.getLogger(__name__)


class HeartbeatPinger:
    """Ping `url` on a drift-free schedule while `all_well()` is true.

    >>> pinger = HeartbeatPinger(url, all_well=lambda: not control.paused_by_infra(),
    ...                          clock=clock, metrics=metrics, interval_s=60)
    >>> task = asyncio.create_task(pinger.run())   # cancel the task to stop

    Args:
        url: the check's ping URL (http or https); a secret, never logged.
        all_well: called before each ping; False skips it (the external switch then alarms).
        interval_s: seconds between pings; keep it below the external check's period.
        timeout_s: limit of one ping, below `interval_s`.
        client: an httpx client to use (tests, shared pools); by default one of its own.
    """

    def __init__(
        self,
        url: str,
        *,
        all_well: Callable[[], bool],
        clock: Clock,
        metrics: NotifyMetrics,
        interval_s: float = 60.0,
        timeout_s: float = 10.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("the heartbeat ping URL must start with https:// (not shown here)")
        if not 0 < timeout_s < interval_s:
            raise ValueError(
                f"heartbeat ping timeout_s {timeout_s} must be > 0 and below interval_s "
                f"{interval_s}, so a hanging ping never delays the next one"
            )
        self._url = url
        self._all_well = all_well
        self._clock = clock
        self._metrics = metrics
        self.interval_s = interval_s
        self._timeout = timeout_s
        self._client = client
        self._scrubber = SecretScrubber([url])
        self._skipping = False
        metrics.prepare(HEARTBEAT_PING_CHANNEL, ("sent", "failed"))

    async def run(self) -> None:
        """Ping every `interval_s` until cancelled; a failed ping never ends the loop."""
        async with AsyncExitStack() as stack:
            stack.enter_context(self._scrubber)
            client = self._client
            if client is None:
                own = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
                client = await stack.enter_async_context(own)
            start = self._clock.monotonic()
            tick = 0
            while True:
                await self._tick(client)
                elapsed = self._clock.monotonic() - start
                tick = max(tick + 1, int(elapsed // self.interval_s) + 1)
                await self._clock.sleep(start + tick * self.interval_s - self._clock.monotonic())

    async def ping_once(self) -> bool:
        """Send one ping now (ignores `all_well`); True when the service answered 2xx."""
        with self._scrubber:
            if self._client is not None:
                return await self._ping(self._client)
            async with httpx.AsyncClient(timeout=self._timeout) as own:
                return await self._ping(own)

    async def _tick(self, client: httpx.AsyncClient) -> None:
        try:
            well = bool(self._all_well())
        except Exception:  # a broken check means "not well": the switch should alarm
            logger.exception("heartbeat ping check failed; not pinging")
            well = False
        if not well:
            if not self._skipping:
                logger.warning("not all is well: heartbeat pings to the dead man's switch stop")
            self._skipping = True
            return
        if self._skipping:
            logger.info("all is well again: heartbeat pings to the dead man's switch resume")
            self._skipping = False
        await self._ping(client)

    async def _ping(self, client: httpx.AsyncClient) -> bool:
        try:
            response = await client.get(self._url, timeout=self._timeout)
        except httpx.HTTPError as err:
            reason = self._scrubber.scrub(f"{type(err).__name__}: {err}")
        else:
            if response.is_success:
                self._metrics.count(HEARTBEAT_PING_CHANNEL, "sent")
                return True
            reason = f"HTTP {response.status_code}"
        self._metrics.count(HEARTBEAT_PING_CHANNEL, "failed")
        logger.warning(
            "heartbeat ping to the dead man's switch failed: %s",
            reason,
            extra={"channel": HEARTBEAT_PING_CHANNEL},
        )
        return False
