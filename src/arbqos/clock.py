"""Injectable clocks: wall time in UTC for timestamps, monotonic time for schedules."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What services need from time; inject `SystemClock` in production, `FakeClock` in tests."""

    def now_utc(self) -> datetime:
        """Return the current time as a timezone-aware UTC datetime."""
        ...

    def monotonic(self) -> float:
        """Return seconds from an arbitrary origin that never goes backwards."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Sleep for `seconds` of this clock's time."""
        ...


class SystemClock:
    """The real clock."""

    def now_utc(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """Return `time.monotonic()`."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Sleep with asyncio."""
        await asyncio.sleep(max(seconds, 0.0))


class FakeClock:
    """A clock that moves only when told to, so tests can simulate a day in milliseconds.

    `sleep()` advances the clock by the requested time and yields once to the event loop.

    >>> clock = FakeClock(datetime(2026, 11, 26, tzinfo=UTC))
    >>> clock.advance(30)
    >>> clock.monotonic()
    30.0
    """

    def __init__(self, start: datetime | None = None, monotonic_start: float = 0.0) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("FakeClock start must be timezone-aware, e.g. tzinfo=UTC")
        self._wall0 = start or datetime(2026, 11, 26, 0, 0, 0, tzinfo=UTC)
        self._mono0 = monotonic_start
        self._elapsed = 0.0

    def advance(self, seconds: float) -> None:
        """Move both clocks forward by `seconds`."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go backwards (advance by {seconds})")
        self._elapsed += seconds

    def now_utc(self) -> datetime:
        """Return the simulated UTC time."""
        return self._wall0 + timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        """Return the simulated monotonic time."""
        return self._mono0 + self._elapsed

    async def sleep(self, seconds: float) -> None:
        """Advance by `seconds` and let other tasks run."""
        self.advance(max(seconds, 0.0))
        await asyncio.sleep(0)


def format_ts(moment: datetime) -> str:
    """Format a datetime as ISO 8601 UTC with milliseconds and `Z` (`2026-11-26T13:50:58.123Z`).

    Sub-millisecond digits are truncated, never rounded up, so a stamp never shows a moment
    that has not happened yet and `23:59:59.9996` stays on its own UTC day (the day its log
    line is filed under).

    Raises:
        ValueError: `moment` is naive (has no timezone).
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: arbqos only formats timezone-aware UTC times")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_ts(text: str) -> datetime:
    """Parse an ISO 8601 timestamp (with `Z` or an offset) into an aware UTC datetime."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no timezone; expected UTC with 'Z'")
    return parsed.astimezone(UTC)
