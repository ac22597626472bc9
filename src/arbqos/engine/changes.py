"""Trading transitions as events, and the thread that hands them to the engine's callbacks."""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from queue import SimpleQueue
from typing import Any

from arbqos.clock import format_ts

logger = logging.getLogger(__name__)

ChangeCallback = Callable[["TradingChange"], Any]
"""A plain function or an `async def` taking the change; its result is ignored."""


class ChangeCause(StrEnum):
    """What moved the engine's trading gate."""

    GUARD = "guard"
    """The in-process QoS guard decided to pause (before the orchestrator knows)."""
    ORCHESTRATOR = "orchestrator"
    """A status answer: paused (any source: alert, guard, heartbeat, manual, ...) or running."""
    UNREACHABLE = "unreachable"
    """The status could not be read: trading is not allowed (fail closed)."""


@dataclass(frozen=True)
class TradingChange:
    """One transition of `trading_allowed()`: now allowed or not, why, and when (UTC)."""

    allowed: bool
    cause: ChangeCause
    reasons: tuple[str, ...]
    """`source:name` of each reason, e.g. `guard:ArbFillRatioLow`, `alert:ArbRpcDown`."""
    detail: str
    at: datetime

    def __str__(self) -> str:
        state = "allowed" if self.allowed else "paused"
        why = f" ({', '.join(self.reasons)})" if self.reasons else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{format_ts(self.at)} trading {state} by {self.cause}{why}{detail}"


@dataclass(frozen=True)
class _Subscriber:
    callback: ChangeCallback
    allowed: bool
    """The direction it hears: False for pauses, True for resumes."""
    loop: asyncio.AbstractEventLoop | None
    """The loop an `async def` callback runs on (None for a plain function)."""


class ChangeDispatcher:
    """Logs each change and runs the subscribed callbacks on one thread, in order.

    `publish()` only queues, so the guard's hot path never waits on a callback or on the
    log's I/O (the record says when it was logged; the change carries its own time). A plain
    callback runs on the dispatcher thread; an `async def` one is scheduled on the event loop
    that was running when it subscribed. A callback that raises is logged and never stops
    the others.
    """

    def __init__(self) -> None:
        self._queue: SimpleQueue[TradingChange | None] = SimpleQueue()
        self._subscribers: list[_Subscriber] = []
        self._lock = threading.Lock()
        self._idle = threading.Condition()
        self._pending = 0
        self._thread = threading.Thread(target=self._run, name="arbqos-engine-changes", daemon=True)
        self._thread.start()

    def subscribe(
        self,
        callback: ChangeCallback,
        *,
        allowed: bool,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> Callable[[], None]:
        """Call `callback` on each change to `allowed`; return a function that unsubscribes.

        Raises:
            ValueError: an `async def` callback, with no `loop` and no running loop.
        """
        if inspect.iscoroutinefunction(callback) and loop is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                raise ValueError(
                    f"{callback!r} is an async function: subscribe it from inside the engine's "
                    "event loop, or pass loop= (the loop it should run on)"
                ) from None
        subscriber = _Subscriber(callback, allowed, loop)
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, change: TradingChange) -> None:
        """Queue `change` for the callbacks and return at once."""
        with self._idle:
            self._pending += 1
        self._queue.put(change)

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until every published change was handed to its callbacks; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout_s)

    def close(self, timeout_s: float = 2.0) -> None:
        """Let queued changes reach their callbacks (up to `timeout_s`), then stop the thread."""
        if self._thread.is_alive():
            self.wait_idle(timeout_s)
            self._queue.put(None)
            self._thread.join(timeout=timeout_s)

    def _run(self) -> None:
        while (change := self._queue.get()) is not None:
            log = logger.info if change.allowed else logger.warning
            log("%s", change, extra={"allowed": change.allowed, "cause": str(change.cause)})
            with self._lock:
                chosen = [s for s in self._subscribers if s.allowed == change.allowed]
            for subscriber in chosen:
                _call(subscriber, change)
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()


def _call(subscriber: _Subscriber, change: TradingChange) -> None:
    """Run one callback (or schedule it on its loop); log what it raises."""
    try:
        if subscriber.loop is None:
            subscriber.callback(change)
            return
        future = asyncio.run_coroutine_threadsafe(subscriber.callback(change), subscriber.loop)
        future.add_done_callback(lambda done: _log_failure(subscriber, done))
    except Exception:  # an engine's callback must not stop the others
        logger.exception("trading change callback %r failed on %s", subscriber.callback, change)


def _log_failure(subscriber: _Subscriber, future: Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.error(
            "trading change callback %r failed: %r", subscriber.callback, future.exception()
        )
