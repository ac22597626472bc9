"""Poll a condition until it holds: the replacement for a fixed sleep used as a wait."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx

T = TypeVar("T")

RETRIED: tuple[type[BaseException], ...] = (AssertionError, OSError, httpx.TransportError)
"""Exceptions that mean "not yet": a failed assert, a refused connection, a read timeout."""


class _Last:
    """What the condition returned or raised the last time it was called."""

    def __init__(self) -> None:
        self.tries = 0
        self.seen: object = "nothing (never called)"

    def failure(self, what: str, timeout_s: float) -> AssertionError:
        return AssertionError(
            f"{what}: not true after {timeout_s:g} s ({self.tries} tries); last saw {self.seen!r}"
        )


def _describe(condition: Callable[..., object], what: str) -> str:
    return what or getattr(condition, "__qualname__", repr(condition))


def eventually(
    condition: Callable[[], T],
    timeout_s: float = 5.0,
    interval_s: float = 0.02,
    *,
    what: str = "",
    retry_on: tuple[type[BaseException], ...] = RETRIED,
) -> T:
    """Call `condition` until it returns something truthy and return that.

    An exception in `retry_on` counts as "not yet". After `timeout_s` raise AssertionError
    naming `what` and the last value or exception seen.
    """
    last = _Last()
    deadline = time.monotonic() + timeout_s
    while True:
        last.tries += 1
        try:
            value = condition()
            if value:
                return value
            last.seen = value
        except retry_on as err:
            last.seen = err
        if time.monotonic() >= deadline:
            raise last.failure(_describe(condition, what), timeout_s)
        time.sleep(interval_s)


async def eventually_async(
    condition: Callable[[], T | Awaitable[T]],
    timeout_s: float = 5.0,
    interval_s: float = 0.02,
    *,
    what: str = "",
    retry_on: tuple[type[BaseException], ...] = RETRIED,
) -> T:
    """`eventually()` for the event loop: `condition` may be sync or async; waits yield."""
    last = _Last()
    deadline = time.monotonic() + timeout_s
    while True:
        last.tries += 1
        try:
            value = condition()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            last.seen = value
        except retry_on as err:
            last.seen = err
        if time.monotonic() >= deadline:
            raise last.failure(_describe(condition, what), timeout_s)
        await asyncio.sleep(interval_s)


async def returns_within(awaitable: Awaitable[T], backstop_s: float, what: str) -> T:
    """Await `awaitable`; fail if it is still waiting after `backstop_s`.

    For "gives up on a peer that never answers": the peer (a hanging server, an endless
    drip) holds on for far longer than `backstop_s`, so code that waits on it never returns
    in time. `backstop_s` is many times the timeout under test; it ends the test, it is not
    a measurement (figures live in bench/).
    """
    try:
        return await asyncio.wait_for(awaitable, backstop_s)
    except TimeoutError:
        raise AssertionError(
            f"{what}: still waiting after {backstop_s:g} s, so it waited on a peer that "
            "never answers instead of its own timeout"
        ) from None
