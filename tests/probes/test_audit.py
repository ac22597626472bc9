"""`arbqos heartbeat-audit`: exact output for gaps, duplicates, rotated files, malformed lines."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from arbqos.cli import main
from arbqos.probes.audit import run_audit

HASH = "ab" * 32


def _line(ts: str, tick: int, event: str = "tick") -> str:
    record = {"ts": ts, "event": event, "config_hash": HASH, "tick": tick, "targets": {}}
    return json.dumps(record, separators=(",", ":"))


def _audit(paths: list[Path], max_gap_s: float | None = None) -> tuple[int, list[str], list[str]]:
    out, err = io.StringIO(), io.StringIO()
    code = run_audit(paths, max_gap_s=max_gap_s, interval_s=30.0, out=out, err=err)
    return code, out.getvalue().splitlines(), err.getvalue().splitlines()


@pytest.fixture
def write_log(tmp_path: Path) -> Callable[[str, list[str]], Path]:
    def write(name: str, lines: list[str]) -> Path:
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n")
        return path

    return write


def test_gap_and_duplicate_exact_lines(write_log: Callable[[str, list[str]], Path]) -> None:
    log = write_log(
        "heartbeat.log",
        [
            _line("2026-11-26T00:00:00.000Z", 1),
            _line("2026-11-26T00:00:30.000Z", 2),
            _line("2026-11-26T00:01:00.000Z", 3),
            _line("2026-11-26T00:01:00.500Z", 3),  # the same tick written twice
            _line("2026-11-26T00:03:00.000Z", 7),  # ticks 4-6 missing
            _line("2026-11-26T00:03:30.000Z", 8),
        ],
    )
    code, out, err = _audit([log])
    assert code == 1
    assert out == [
        "gap 2026-11-26T00:01:00.500Z 2026-11-26T00:03:00.000Z 119.500",
        "ticks=6 gaps=1 duplicates=1 max_gap_s=119.500 coverage_pct=62.50 span_s=210.000",
    ]
    assert err == []


def test_rotated_files_are_read_together_in_ts_order(
    write_log: Callable[[str, list[str]], Path],
) -> None:
    rotated = write_log(
        "heartbeat.log.2026-11-25",
        [_line("2026-11-25T23:59:00.010Z", 10), _line("2026-11-25T23:59:30.020Z", 11)],
    )
    live = write_log(
        "heartbeat.log",
        [_line("2026-11-26T00:00:00.015Z", 12), _line("2026-11-26T00:00:30.000Z", 13)],
    )
    code, out, _ = _audit([live, rotated])
    assert code == 0
    assert out == ["ticks=4 gaps=0 duplicates=0 max_gap_s=30.010 coverage_pct=100.00 span_s=89.990"]


def test_gap_limit_defaults_to_one_and_a_half_intervals(
    write_log: Callable[[str, list[str]], Path],
) -> None:
    log = write_log(
        "heartbeat.log",
        [
            _line("2026-11-26T00:00:00.000Z", 1),
            _line("2026-11-26T00:00:45.000Z", 2),  # exactly the limit: not a gap
            _line("2026-11-26T00:01:30.001Z", 3),  # just above it
        ],
    )
    code, out, _ = _audit([log])
    assert code == 1
    assert out[0] == "gap 2026-11-26T00:00:45.000Z 2026-11-26T00:01:30.001Z 45.001"
    assert _audit([log], max_gap_s=60)[0] == 0
    assert _audit([log], max_gap_s=60)[1] == [
        "ticks=3 gaps=0 duplicates=0 max_gap_s=45.001 coverage_pct=75.00 span_s=90.001"
    ]


def test_same_ts_counts_as_duplicate(write_log: Callable[[str, list[str]], Path]) -> None:
    log = write_log(
        "heartbeat.log",
        [_line("2026-11-26T00:00:00.000Z", 1), _line("2026-11-26T00:00:00.000Z", 2)],
    )
    assert _audit([log])[1][-1].startswith("ticks=2 gaps=0 duplicates=1 ")


def test_malformed_lines_are_reported_and_counted(
    write_log: Callable[[str, list[str]], Path],
) -> None:
    log = write_log(
        "heartbeat.log",
        [
            _line("2026-11-26T00:00:00.000Z", 1),
            "not json at all",
            '["a list"]',
            '{"event":"tick","tick":2}',
            '{"ts":"yesterday","event":"tick","tick":2}',
            '{"ts":"2026-11-26T00:00:20.000Z","event":"tick","tick":"two"}',
            '{"ts":"2026-11-26T00:00:25.000Z","event":"start"}',
            "",
            _line("2026-11-26T00:00:30.000Z", 2),
            '{"ts":"2026-11-26T00:01:00.000Z","event":"ti',  # cut off by a crash
        ],
    )
    code, out, err = _audit([log])
    assert code == 0
    assert out == ["ticks=2 gaps=0 duplicates=0 max_gap_s=30.000 coverage_pct=100.00 span_s=30.000"]
    assert err[:6] == [
        f"heartbeat-audit: malformed {log}:2: not JSON (Expecting value, column 1)",
        f"heartbeat-audit: malformed {log}:3: not a JSON object",
        f"heartbeat-audit: malformed {log}:4: no ts field",
        f"heartbeat-audit: malformed {log}:5: ts 'yesterday' is not an ISO 8601 UTC time",
        f"heartbeat-audit: malformed {log}:6: tick line without an integer tick number (two)",
        f"heartbeat-audit: malformed {log}:10: not JSON (Unterminated string starting at, "
        "column 42)",
    ]
    assert err[6] == "heartbeat-audit: 6 malformed line(s) skipped"


def test_no_ticks_and_unreadable_files(
    tmp_path: Path, write_log: Callable[[str, list[str]], Path]
) -> None:
    empty = write_log("heartbeat.log", [""])
    code, out, err = _audit([empty])
    assert code == 1
    assert out == ["ticks=0 gaps=0 duplicates=0 max_gap_s=0.000 coverage_pct=0.00 span_s=0.000"]
    assert err == ["heartbeat-audit: no tick lines found"]
    code, out, err = _audit([tmp_path / "missing.log"])
    assert code == 2 and out == []
    assert err == [
        f"heartbeat-audit: cannot read {tmp_path / 'missing.log'}: No such file or directory"
    ]
    assert _audit([empty], max_gap_s=0)[0] == 2


def test_cli_heartbeat_audit(write_log: Callable[[str, list[str]], Path], tmp_path: Path) -> None:
    log = write_log(
        "heartbeat.log",
        [_line("2026-11-26T00:00:00.000Z", 1), _line("2026-11-26T00:02:00.000Z", 2)],
    )
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "heartbeat.yml").write_text("interval_s: 60\nprobe_timeout_s: 10\n")
    runner = CliRunner()
    args = ["heartbeat-audit", "--config-dir", str(config_dir), str(log)]
    result = runner.invoke(main, args)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "gap 2026-11-26T00:00:00.000Z 2026-11-26T00:02:00.000Z 120.000",
        "ticks=2 gaps=1 duplicates=0 max_gap_s=120.000 coverage_pct=66.67 span_s=120.000",
    ]
    result = runner.invoke(main, [*args, "--max-gap-s", "120"])
    assert result.exit_code == 0
