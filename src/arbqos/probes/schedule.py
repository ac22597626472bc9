"""Drift-free tick schedule, and a virtual-time event loop that runs a simulated day in seconds."""

from __future__ import annotations

import asyncio
import math
import selectors
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Slot:
    """One scheduled tick: slot `index` is due at `due` (monotonic seconds).

    `skipped` counts earlier slots whose whole interval had already passed when this one
    started (the process was frozen or the host suspended); they are never run late.
    """

    index: int
    due: float
    skipped: int = 0


class TickSchedule:
    """Slot k is due at `origin + k * interval_s`, whatever happened before (no drift).

    Lateness never accumulates: a slow tick only delays its own start, and when a start comes
    more than a whole interval late the schedule jumps to the latest slot already due instead
    of running a burst of catch-up ticks.

    >>> schedule = TickSchedule(origin=100.0, interval_s=30.0)
    >>> schedule.slot_at(now=100.0, next_index=0)
    Slot(index=0, due=100.0, skipped=0)
    >>> schedule.slot_at(now=195.0, next_index=1)   # frozen for 65 s
    Slot(index=3, due=190.0, skipped=2)
    """

    def __init__(self, *, origin: float, interval_s: float) -> None:
        if not interval_s > 0:
            raise ValueError(f"tick interval {interval_s} s: it must be a positive number")
        self.origin = origin
        self.interval_s = interval_s

    def due(self, index: int) -> float:
        """Monotonic time at which slot `index` is due."""
        return self.origin + index * self.interval_s

    def slot_at(self, *, now: float, next_index: int) -> Slot:
        """Return the slot to run at `now` when `next_index` is the next one not yet run."""
        latest_due = math.floor((now - self.origin) / self.interval_s + 1e-9)
        index = max(next_index, latest_due)
        return Slot(index=index, due=self.due(index), skipped=index - next_index)


class _IdleSkippingSelector(selectors.DefaultSelector):
    """A selector that, instead of blocking until the next timer, moves virtual time to it."""

    def __init__(self, advance: Callable[[float], None]) -> None:
        super().__init__()
        self._advance = advance

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        """Poll real file descriptors without blocking; jump the clock when nothing is ready."""
        events = super().select(0)
        if events or timeout == 0:
            return events
        if timeout is None:
            return super().select(None)
        self._advance(timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock jumps straight to the next timer whenever every task waits.

    `asyncio.sleep`, `asyncio.timeout` and `asyncio.wait_for` all run on this virtual time, so
    a 24-hour heartbeat with hung probes (cut by their timeouts) runs in a few seconds of real
    time with exactly the ordering it would have in production. Code that computes costs no
    virtual time; `freeze()` simulates a process that stopped running for a while. Meant for
    simulations without real network I/O (sockets are polled but time does not wait for them).

    >>> result = run_virtual(simulate_day(), start=0.0)
    """

    def __init__(self, start: float = 0.0) -> None:
        self._virtual_now = start
        super().__init__(selector=_IdleSkippingSelector(self._jump))
        # asyncio treats a timer as due when `when < time() + resolution`. With the real
        # clock's 1 ns resolution that sum stops moving once virtual time passes ~2^24 s
        # (194 days): a timer exactly at `time()` is never due and the loop spins. 1 us is
        # above the float spacing up to ~2^33 s (270 years) and far below any timer we set.
        self._clock_resolution = 1e-6

    def time(self) -> float:
        """Return the virtual monotonic time."""
        return self._virtual_now

    def freeze(self, seconds: float) -> None:
        """Let `seconds` of virtual time pass at once, as if the process had been suspended."""
        self._jump(seconds)

    def _jump(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"virtual time cannot go backwards (by {seconds} s)")
        self._virtual_now += seconds


class LoopClock:
    """A `Clock` that reads the running loop's time; wall time is `wall_start` plus loop time.

    On `VirtualTimeLoop` it is the simulated clock. On an ordinary loop it tells real monotonic
    time, but its wall clock is derived from it (prefer `SystemClock` in production).

    >>> clock = LoopClock(datetime(2026, 11, 26, 12, tzinfo=UTC))
    """

    def __init__(self, wall_start: datetime | None = None, *, loop_start: float = 0.0) -> None:
        self._wall_start = wall_start or datetime(2026, 11, 26, 0, 0, 0, tzinfo=UTC)
        if self._wall_start.tzinfo is None:
            raise ValueError("wall_start must be timezone-aware UTC")
        self._loop_start = loop_start

    def now_utc(self) -> datetime:
        """Return the simulated UTC time."""
        return self._wall_start + timedelta(seconds=self.monotonic() - self._loop_start)

    def monotonic(self) -> float:
        """Return the running loop's time."""
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        """Sleep on the loop (virtual time on `VirtualTimeLoop`)."""
        await asyncio.sleep(max(seconds, 0.0))


def run_virtual(main: Coroutine[Any, Any, T], *, start: float = 0.0) -> T:
    """Run `main` to completion on a fresh `VirtualTimeLoop` and close the loop."""
    loop = VirtualTimeLoop(start)
    try:
        return loop.run_until_complete(main)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()
