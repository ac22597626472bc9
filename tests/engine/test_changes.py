"""Callbacks hear each change once, in order, off the guard's thread; one failing is isolated."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest

from arbqos.engine import ChangeCause, TradingChange
from arbqos.engine.changes import ChangeDispatcher

AT = datetime(2026, 11, 26, tzinfo=UTC)
PAUSE = TradingChange(False, ChangeCause.GUARD, ("guard:ArbFillRatioLow",), "venue=sx", AT)
RESUME = TradingChange(True, ChangeCause.ORCHESTRATOR, (), "", AT)


def test_plain_callbacks_run_on_the_dispatcher_thread_by_direction() -> None:
    dispatcher = ChangeDispatcher()
    heard: list[tuple[str, bool, str]] = []

    def on_pause(change: TradingChange) -> None:
        heard.append(("pause", change.allowed, threading.current_thread().name))

    def broken(change: TradingChange) -> None:
        raise RuntimeError("the engine's bug")

    def on_resume(change: TradingChange) -> None:
        heard.append(("resume", change.allowed, threading.current_thread().name))

    dispatcher.subscribe(broken, allowed=False)
    unsubscribe = dispatcher.subscribe(on_pause, allowed=False)
    dispatcher.subscribe(on_resume, allowed=True)
    for change in (PAUSE, RESUME, PAUSE):
        dispatcher.publish(change)
    assert dispatcher.wait_idle(5)
    unsubscribe()
    dispatcher.publish(PAUSE)
    dispatcher.close()
    thread = "arbqos-engine-changes"
    assert heard == [("pause", False, thread), ("resume", True, thread), ("pause", False, thread)]


async def test_async_callbacks_run_on_the_loop_they_subscribed_from() -> None:
    dispatcher = ChangeDispatcher()
    loop = asyncio.get_running_loop()
    heard: asyncio.Queue[tuple[TradingChange, bool]] = asyncio.Queue()

    async def cancel_resting_orders(change: TradingChange) -> None:
        await heard.put((change, asyncio.get_running_loop() is loop))

    dispatcher.subscribe(cancel_resting_orders, allowed=False)
    dispatcher.publish(PAUSE)
    assert await asyncio.wait_for(heard.get(), 5) == (PAUSE, True)
    dispatcher.close()


def test_an_async_callback_needs_a_loop() -> None:
    dispatcher = ChangeDispatcher()

    async def callback(change: TradingChange) -> None:
        return None

    with pytest.raises(ValueError, match="subscribe it from inside the engine's event loop"):
        dispatcher.subscribe(callback, allowed=False)
    dispatcher.close()


def test_a_change_reads_as_one_line() -> None:
    assert str(PAUSE) == (
        "2026-11-26T00:00:00.000Z trading paused by guard (guard:ArbFillRatioLow): venue=sx"
    )
