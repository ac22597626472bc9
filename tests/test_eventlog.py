"""EventLog: flushed JSON lines, rotation at UTC midnight, retention, restart behaviour."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from arbqos.clock import FakeClock
from arbqos.eventlog import EventLog

HASH = "ab" * 32
TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _log(tmp_path: Path, clock: FakeClock, retention_days: int = 3) -> EventLog:
    path = tmp_path / "monitoring" / "heartbeat.log"
    return EventLog(path, clock, config_hash=HASH, retention_days=retention_days)


def test_every_line_has_ts_with_ms_and_z_event_and_config_hash(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 26, 13, 50, 58, 123456, tzinfo=UTC))
    log = _log(tmp_path, clock)
    returned = log.write("tick", {"tick": 1, "sx_rollup": {"ok": True, "latency_ms": 12.5}})
    clock.advance(30)
    log.write("tick", {"tick": 2})
    records = _lines(log.path)
    assert records[0] == returned
    assert records[0] == {
        "ts": "2026-11-26T13:50:58.123Z",
        "event": "tick",
        "config_hash": HASH,
        "tick": 1,
        "sx_rollup": {"ok": True, "latency_ms": 12.5},
    }
    assert list(records[0])[:3] == ["ts", "event", "config_hash"]
    assert records[1]["ts"] == "2026-11-26T13:51:28.123Z"
    assert all(TS.match(r["ts"]) and r["event"] and r["config_hash"] == HASH for r in records)


def test_each_line_is_on_disk_as_soon_as_it_is_written(tmp_path: Path) -> None:
    log = _log(tmp_path, FakeClock())
    log.write("poll", {"n": 1})
    assert len(log.path.read_text().splitlines()) == 1


def test_rotation_at_utc_midnight(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 26, 23, 59, 50, tzinfo=UTC))
    log = _log(tmp_path, clock)
    log.write("tick", {"tick": 1})
    clock.advance(9.9996)
    log.write("tick", {"tick": 2})
    assert log.rotated_files() == []
    clock.advance(0.0004)
    log.write("tick", {"tick": 3})
    rotated = log.path.with_name("heartbeat.log.2026-11-26")
    assert log.rotated_files() == [rotated]
    assert [(r["tick"], r["ts"]) for r in _lines(rotated)] == [
        (1, "2026-11-26T23:59:50.000Z"),
        (2, "2026-11-26T23:59:59.999Z"),
    ]
    assert [(r["tick"], r["ts"]) for r in _lines(log.path)] == [(3, "2026-11-27T00:00:00.000Z")]


def test_retention_prunes_files_older_than_retention_days(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 26, 12, tzinfo=UTC))
    log = _log(tmp_path, clock, retention_days=3)
    log.path.parent.mkdir(parents=True)
    for days_ago in range(1, 7):
        day = date(2026, 11, 26) - timedelta(days=days_ago)
        log.path.with_name(f"heartbeat.log.{day.isoformat()}").write_text("{}\n")
    other = log.path.with_name("balance_watcher.log.2026-11-01")
    other.write_text("{}\n")
    log.write("tick", {"tick": 1})
    assert [p.name for p in log.rotated_files()] == [
        "heartbeat.log.2026-11-23",
        "heartbeat.log.2026-11-24",
        "heartbeat.log.2026-11-25",
    ]
    assert other.exists()


def test_a_week_of_midnights_keeps_only_retention_days(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 20, 12, tzinfo=UTC))
    log = _log(tmp_path, clock, retention_days=2)
    for tick in range(7):
        log.write("tick", {"tick": tick})
        clock.advance(86400)
    log.write("tick", {"tick": 7})
    assert [p.name for p in log.rotated_files()] == [
        "heartbeat.log.2026-11-25",
        "heartbeat.log.2026-11-26",
    ]
    assert [r["tick"] for r in _lines(log.path)] == [7]


def test_a_restart_on_the_same_day_appends(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 26, 8, tzinfo=UTC))
    first = _log(tmp_path, clock)
    first.write("tick", {"tick": 1})
    first.write("tick", {"tick": 2})
    first.close()
    clock.advance(3600)
    second = _log(tmp_path, clock)
    second.write("tick", {"tick": 1})
    assert [r["tick"] for r in _lines(second.path)] == [1, 2, 1]
    assert second.rotated_files() == []


def test_a_restart_on_a_later_day_rotates_under_the_day_of_the_records(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 26, 22, tzinfo=UTC))
    first = _log(tmp_path, clock)
    first.write("tick", {"tick": 1})
    first.close()
    clock.advance(2 * 86400)
    second = _log(tmp_path, clock)
    second.write("tick", {"tick": 9})
    assert [p.name for p in second.rotated_files()] == ["heartbeat.log.2026-11-26"]
    assert [r["tick"] for r in _lines(second.path)] == [9]


def test_rotation_onto_an_existing_day_file_appends_to_it(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 26, 22, tzinfo=UTC))
    log = _log(tmp_path, clock)
    day_file = log.path.with_name("heartbeat.log.2026-11-26")
    log.path.parent.mkdir(parents=True)
    day_file.write_text('{"ts":"2026-11-26T01:00:00.000Z","event":"tick","tick":0}\n')
    log.write("tick", {"tick": 1})
    clock.advance(4 * 3600)
    log.write("tick", {"tick": 2})
    assert [r["tick"] for r in _lines(day_file)] == [0, 1]
    assert [r["tick"] for r in _lines(log.path)] == [2]


def test_a_half_written_last_line_is_never_glued_to(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 26, 8, tzinfo=UTC))
    log = _log(tmp_path, clock)
    log.path.parent.mkdir(parents=True)
    log.path.write_text('{"ts":"2026-11-26T07:00:00.000Z","event":"tick","tick":1}\n{"ts":"2026-1')
    log.write("tick", {"tick": 2})
    lines = log.path.read_text().splitlines()
    assert lines[1] == '{"ts":"2026-1'
    assert json.loads(lines[2])["tick"] == 2


class SetClock(FakeClock):
    """A wall clock that can be set to any moment, like NTP stepping it."""

    def __init__(self, moment: datetime) -> None:
        super().__init__(moment)
        self.moment = moment

    def now_utc(self) -> datetime:
        return self.moment


def test_a_wall_clock_step_back_does_not_rotate(tmp_path: Path) -> None:
    clock = SetClock(datetime(2026, 11, 27, 0, 0, 1, tzinfo=UTC))
    log = _log(tmp_path, clock)
    log.write("tick", {"tick": 1})
    clock.moment = datetime(2026, 11, 26, 23, 59, 59, tzinfo=UTC)
    log.write("tick", {"tick": 2})
    clock.moment = datetime(2026, 11, 27, 0, 0, 2, tzinfo=UTC)
    log.write("tick", {"tick": 3})
    assert log.rotated_files() == []
    assert [r["tick"] for r in _lines(log.path)] == [1, 2, 3]


def test_reserved_fields_are_refused(tmp_path: Path) -> None:
    log = _log(tmp_path, FakeClock())
    with pytest.raises(ValueError, match=r"\['config_hash', 'ts'\] are set by EventLog"):
        log.write("tick", {"ts": "x", "config_hash": "y"})


def test_non_finite_numbers_are_written_as_null(tmp_path: Path) -> None:
    log = _log(tmp_path, FakeClock())
    log.write("tick", {"latency_ms": float("nan"), "nested": [float("inf"), 1.5]})
    line = log.path.read_text()
    assert "NaN" not in line and "Infinity" not in line
    assert json.loads(line)["nested"] == [None, 1.5]


def test_retention_below_two_days_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="keep at least 2 days"):
        _log(tmp_path, FakeClock(), retention_days=1)
