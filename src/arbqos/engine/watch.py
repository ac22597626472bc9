"""One background thread with its own event loop: the status poll, the bank, the guard's clock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from arbqos.engine.bank import BankKeeper, BankReading
from arbqos.engine.gate import TradingGate
from arbqos.guard import QosGuard
from arbqos.registry import RemoteRuntimeRegistry, RuntimeRegistryAPI
from arbqos.sdk import AsyncOrchestratorClient, OrchestratorCallError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchSettings:
    """Where the orchestrator is and how often to ask it."""

    url: str
    poll_s: float
    """Status poll period: a pause from any source is seen within one period."""
    timeout_s: float
    """Deadline of one status or registry read."""
    bank_every_s: float
    """Registry read period while the bank is known (the balance watcher's poll period)."""
    bank_retry_s: float
    """Registry read period while the bank is unknown."""


class Watcher:
    """Polls `GET /v1/status` into the gate every `poll_s`, evicting the guard's windows on the
    same tick, and refreshes the bank from the registry, on a thread of its own.

    The runtime registry is called on this thread's event loop: pass one that is not bound to
    another loop (the default, a `RemoteRuntimeRegistry` over the orchestrator, is built here).
    """

    def __init__(
        self,
        settings: WatchSettings,
        gate: TradingGate,
        *,
        acknowledged: Callable[[], int],
        guard: QosGuard | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        bank: BankKeeper | None = None,
        runtime: RuntimeRegistryAPI | None = None,
    ) -> None:
        self.settings = settings
        self._gate = gate
        self._acknowledged = acknowledged
        self._guard = guard
        self._monotonic = monotonic
        self._bank = bank
        self._runtime = runtime
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._status_ready = threading.Event()
        self._bank_ready = threading.Event()
        self._started = threading.Event()
        self.first_error: str | None = None
        """Why the first status read failed, when it did."""
        self._thread = threading.Thread(target=self._thread_main, name="arbqos-engine-watch")
        self._thread.daemon = True

    @property
    def bank(self) -> BankKeeper | None:
        """The bank keeper (None when the engine gave a fixed bank)."""
        return self._bank

    def start(self, timeout_s: float) -> bool:
        """Start, then wait up to `timeout_s` for the first status answer and bank read.

        Returns True when both were attempted in time (the status may still have failed:
        see `first_error`).
        """
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        status = self._status_ready.wait(timeout_s)
        if self._bank is None:
            return status
        return self._bank_ready.wait(max(0.0, deadline - time.monotonic())) and status

    def refresh_bank(self, timeout_s: float) -> BankReading:
        """Read the registry now (on the watcher's loop) and return the bank."""
        if self._bank is None:
            raise ValueError("the engine was given a fixed bank: there is nothing to refresh")
        if self._loop is None or self._runtime is None:
            raise RuntimeError("the watcher is not running")
        future = asyncio.run_coroutine_threadsafe(self._bank.refresh(self._runtime), self._loop)
        return future.result(timeout_s)

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop the loop and wait for the thread."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stop.set)
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception:  # the thread ends; the gate then closes on age (fail closed)
            logger.exception("the engine's status watcher stopped")

    async def _main(self) -> None:
        s = self.settings
        self._loop = asyncio.get_running_loop()
        self._stop = stop = asyncio.Event()
        async with httpx.AsyncClient(timeout=s.timeout_s) as http:
            client = AsyncOrchestratorClient(s.url, timeout_s=s.timeout_s, cache_s=0, http=http)
            if self._runtime is None:
                self._runtime = RemoteRuntimeRegistry(s.url, http, timeout_s=s.timeout_s)
            tasks = [asyncio.create_task(self._poll(client, stop))]
            if self._bank is not None:
                bank_loop = self._bank_loop(self._bank, self._runtime, stop)
                tasks.append(asyncio.create_task(bank_loop))
            await stop.wait()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _poll(self, client: AsyncOrchestratorClient, stop: asyncio.Event) -> None:
        period = self.settings.poll_s
        next_at = time.monotonic()
        while not stop.is_set():
            try:
                await self._poll_once(client)
            except Exception:  # keep polling whatever one tick raised; the gate ages closed
                logger.exception("status poll failed unexpectedly")
            self._status_ready.set()
            now = time.monotonic()
            next_at = max(next_at + period, now)
            await _wait(stop, next_at - now)

    async def _poll_once(self, client: AsyncOrchestratorClient) -> None:
        acknowledged = self._acknowledged()  # before asking: see TradingGate.answered
        asked_at = time.monotonic()
        try:
            status = await client.status()
        except Exception as err:  # fail closed on anything, not only on the errors foreseen
            error = str(err) if isinstance(err, OrchestratorCallError) else repr(err)
            if not self._status_ready.is_set():
                self.first_error = error
            self._gate.unreachable(error, asked_at=asked_at)
        else:
            self._gate.answered(status, asked_at=asked_at, acknowledged=acknowledged)
        if self._guard is not None:
            self._guard.advance(self._monotonic())

    async def _bank_loop(
        self, bank: BankKeeper, runtime: RuntimeRegistryAPI, stop: asyncio.Event
    ) -> None:
        s = self.settings
        while not stop.is_set():
            try:
                reading = await bank.refresh(runtime)
            except Exception:  # keep refreshing whatever one read raised
                logger.exception("bank refresh failed unexpectedly")
                reading = bank.reading
            self._bank_ready.set()
            await _wait(stop, s.bank_every_s if reading.usd is not None else s.bank_retry_s)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds` or until `stop` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(0.0, seconds))
