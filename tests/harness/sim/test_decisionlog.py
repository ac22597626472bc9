"""The decision log keeps a time window on disk, in two segments, and says what it dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from arbqos.clock import FakeClock
from arbqos_harness.demo.breach import LogCoverageError, log_files, read_sim_events
from arbqos_harness.sim.decisionlog import DecisionLog, read_header
from tests.harness.sim.conftest import read_log


def submitted(log: DecisionLog, n: int) -> None:
    log.write("order_submitted", {"venue": "sx", "order_id": f"o{n}", "requested_usd": 5.0})


def test_segments_rotate_so_the_disk_holds_one_to_two_windows(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "sim" / "sx_events.log"
    log = DecisionLog(path, clock, config_hash="h", retention_s=100.0)
    for n in range(50):  # 250 s, one line each 5 s
        submitted(log, n)
        clock.advance(5.0)
    log.close()
    live, previous = read_log(path), read_log(path.with_name("sx_events.log.prev"))
    assert [r["event"] for r in (previous[0], live[0])] == ["log_segment", "log_segment"]
    assert (previous[0]["segment"], live[0]["segment"]) == (1, 2)  # segment 0 was dropped
    assert live[0]["history_from"] == previous[0]["ts"]
    kept = [r["order_id"] for r in previous[1:] + live[1:]]
    assert kept == [f"o{n}" for n in range(20, 50)]  # the last 150 s: between 100 and 200
    assert log_files(path) == [path.with_name("sx_events.log.prev"), path]
    assert all(r["config_hash"] == "h" for r in live)


def test_reading_before_what_is_kept_is_refused(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "sx_events.log"
    log = DecisionLog(path, clock, config_hash="h", retention_s=100.0)
    start = clock.now_utc().timestamp()
    for n in range(10):
        submitted(log, n)
        clock.advance(5.0)
    # First segment still on disk: everything is there, any start is fine.
    assert len(read_sim_events(log_files(path), since=start - 1000)) == 10
    for n in range(10, 50):
        submitted(log, n)
        clock.advance(5.0)
    kept_from = read_header(path.with_name("sx_events.log.prev"))
    assert kept_from is not None
    recent = read_sim_events(log_files(path), since=start + 150.0)
    assert len(recent) == 20 and recent[0].t == pytest.approx(start + 150.0)
    with pytest.raises(LogCoverageError, match="--log-retention-s"):
        read_sim_events(log_files(path), since=start + 50.0)


def test_a_restart_numbers_on_and_keeps_the_last_segment(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "sx_events.log"
    first = DecisionLog(path, clock, config_hash="h", retention_s=100.0)
    submitted(first, 1)
    first.close()
    again = DecisionLog(path, clock, config_hash="h", retention_s=100.0)
    submitted(again, 2)
    again.close()
    previous = read_log(path.with_name("sx_events.log.prev"))
    assert [r.get("order_id") for r in previous] == [None, "o1"]
    assert read_log(path)[0]["segment"] == 1


def test_retention_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="retention_s"):
        DecisionLog(tmp_path / "x.log", FakeClock(), config_hash="h", retention_s=0)
