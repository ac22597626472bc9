"""The simulators' decision log: JSON lines like `EventLog`, kept to a time window on disk.

At 10 opportunities a second a simulator writes about a gigabyte of decisions a day, and the
scenarios only read the last minutes (`arbqos_harness.demo.breach`). So the log lives in
segments: the live file `<path>` and the previous segment `<path>.prev`. When the live
segment is `retention_s` old (simulator clock) it replaces `.prev` and a new one starts, so the
two files always hold at least the last `retention_s` seconds and at most twice that.

Every segment starts with a `log_segment` line: `segment` counts from 0 and `history_from`
is the start of the oldest segment still on disk; a reader that finds a first segment with
`segment > 0` knows nothing before its `ts` is kept (`breach.read_sim_events` checks it).
A restarted simulator moves the live file it finds to `.prev` and numbers on from it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from arbqos.clock import Clock, format_ts
from arbqos.log import json_line

SEGMENT_EVENT = "log_segment"
PREVIOUS_SUFFIX = ".prev"
DECISION_LOG_RETENTION_S = 900.0
"""Default window kept on disk: the longest scenario (its QoS window before the injection plus
its 75 s watch) several times over."""


class DecisionLog:
    """Write one JSON object per line, flushed at once; keep about `retention_s` on disk.

    >>> log = DecisionLog(Path("sim/sx_events.log"), clock, config_hash="ab12", retention_s=900)
    >>> log.write("order_submitted", {"venue": "sx", "order_id": "0x..."})
    """

    def __init__(
        self,
        path: Path,
        clock: Clock,
        *,
        config_hash: str,
        retention_s: float = DECISION_LOG_RETENTION_S,
    ) -> None:
        if not retention_s > 0:
            raise ValueError(f"retention_s = {retention_s}: give a positive number of seconds")
        self.path = path
        self.previous = path.with_name(path.name + PREVIOUS_SUFFIX)
        self._clock = clock
        self.config_hash = config_hash
        self.retention_s = retention_s
        self._file: TextIO | None = None
        self._segment = -1
        """Number of the live segment (-1 before the first write)."""
        self._segment_started = 0.0

    def write(self, event: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Append one line `{"ts", "event", "config_hash", **fields}` and flush it; return it."""
        handle = self._handle()
        record: dict[str, Any] = {
            "ts": format_ts(self._clock.now_utc()),
            "event": event,
            "config_hash": self.config_hash,
        }
        record.update(fields)
        handle.write(json_line(record) + "\n")
        handle.flush()
        return record

    def close(self) -> None:
        """Close the live file."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def _handle(self) -> TextIO:
        now = self._clock.monotonic()
        if self._file is not None and now - self._segment_started < self.retention_s:
            return self._file
        self.close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            if self._segment < 0:
                self._segment = _first_segment(self.path)  # a restart continues the numbering
            os.replace(self.path, self.previous)
        started = format_ts(self._clock.now_utc())
        kept_from = _first_ts(self.previous) if self.previous.exists() else None
        self._segment += 1
        self._segment_started = now
        handle = self.path.open("w", encoding="utf-8")
        header = {
            "ts": started,
            "event": SEGMENT_EVENT,
            "config_hash": self.config_hash,
            "segment": self._segment,
            "history_from": kept_from or started,
            "retention_s": self.retention_s,
        }
        handle.write(json_line(header) + "\n")
        self._file = handle
        return handle


def read_header(path: Path) -> dict[str, Any] | None:
    """The `log_segment` line a segment starts with, or None (not a decision log segment)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return parse_header(handle.readline())
    except OSError:
        return None


def parse_header(line: str) -> dict[str, Any] | None:
    """The `log_segment` record in `line`, or None."""
    try:
        record = json.loads(line or "null")
    except ValueError:
        return None
    if isinstance(record, dict) and record.get("event") == SEGMENT_EVENT:
        return record
    return None


def _first_segment(path: Path) -> int:
    header = read_header(path)
    segment = header.get("segment") if header else None
    return segment if isinstance(segment, int) and segment >= 0 else 0


def _first_ts(path: Path) -> str | None:
    header = read_header(path)
    ts = header.get("ts") if header else None
    return ts if isinstance(ts, str) else None
