"""Timestamps are UTC with milliseconds and Z; FakeClock moves only when told."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from arbqos.clock import FakeClock, SystemClock, format_ts, parse_ts


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 11, 26, 13, 50, 58, 123000, tzinfo=UTC), "2026-11-26T13:50:58.123Z"),
        (datetime(2026, 11, 26, 13, 50, 58, tzinfo=UTC), "2026-11-26T13:50:58.000Z"),
        (datetime(2026, 11, 26, 13, 50, 58, 123456, tzinfo=UTC), "2026-11-26T13:50:58.123Z"),
        (datetime(2026, 11, 26, 13, 50, 58, 123999, tzinfo=UTC), "2026-11-26T13:50:58.123Z"),
        (datetime(2026, 11, 26, 13, 50, 58, 999, tzinfo=UTC), "2026-11-26T13:50:58.000Z"),
        (datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "2026-12-31T23:59:59.999Z"),
        (
            datetime(2026, 11, 26, 15, 50, 58, 5000, tzinfo=timezone(timedelta(hours=2))),
            "2026-11-26T13:50:58.005Z",
        ),
        (
            datetime(2026, 11, 26, 20, 0, tzinfo=timezone(timedelta(hours=-5))),
            "2026-11-27T01:00:00.000Z",
        ),
    ],
)
def test_format_ts_is_utc_with_milliseconds_truncated(moment: datetime, text: str) -> None:
    assert format_ts(moment) == text


def test_format_ts_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        format_ts(datetime(2026, 11, 26, 13, 50, 58))


def test_parse_ts_round_trips_and_converts_offsets() -> None:
    moment = datetime(2026, 11, 26, 13, 50, 58, 123000, tzinfo=UTC)
    assert parse_ts(format_ts(moment)) == moment
    assert parse_ts("2026-11-26T15:50:58.123+02:00") == moment
    assert parse_ts("2026-11-26T13:50:58.123Z").tzinfo == UTC


def test_parse_ts_rejects_a_timestamp_without_zone() -> None:
    with pytest.raises(ValueError, match="has no timezone"):
        parse_ts("2026-11-26T13:50:58.123")


def test_fake_clock_moves_only_when_told() -> None:
    clock = FakeClock(datetime(2026, 11, 26, 12, tzinfo=UTC), monotonic_start=100.0)
    assert clock.now_utc() == datetime(2026, 11, 26, 12, tzinfo=UTC)
    assert clock.monotonic() == 100.0
    clock.advance(1.5)
    assert clock.monotonic() == 101.5
    assert clock.now_utc() == datetime(2026, 11, 26, 12, 0, 1, 500000, tzinfo=UTC)
    assert FakeClock().now_utc() == datetime(2026, 11, 26, tzinfo=UTC)


def test_fake_clock_refuses_to_go_back_or_start_naive() -> None:
    clock = FakeClock()
    with pytest.raises(ValueError, match="cannot go backwards"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="timezone-aware"):
        FakeClock(datetime(2026, 11, 26))


async def test_fake_clock_sleep_advances_and_yields() -> None:
    clock = FakeClock()
    ran: list[str] = []

    async def other() -> None:
        ran.append("other")

    task = asyncio.create_task(other())
    await clock.sleep(30)
    assert clock.monotonic() == 30.0
    assert ran == ["other"]
    await clock.sleep(-5)
    assert clock.monotonic() == 30.0
    await task


async def test_system_clock_is_aware_and_monotonic() -> None:
    clock = SystemClock()
    assert clock.now_utc().tzinfo == UTC
    before = clock.monotonic()
    await clock.sleep(0.001)
    assert clock.monotonic() >= before + 0.001
