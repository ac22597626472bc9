"""Append-only JSON-lines event logs (heartbeat, balance watcher, alerts) with UTC rotation."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO

from arbqos.clock import Clock, format_ts
from arbqos.log import json_line

_ROTATED = re.compile(r"\.(\d{4}-\d{2}-\d{2})$")
RESERVED_FIELDS = frozenset({"ts", "event", "config_hash"})


class EventLog:
    """Write one JSON object per line, flushed at once, rotated at UTC midnight.

    The live file is `path`; at the first write of a new UTC day the previous day's file is
    renamed to `path.YYYY-MM-DD` and rotated files older than `retention_days` days are
    removed. A restart on the same day appends to the live file; a restart on a later day
    first rotates it under the day of its records.

    >>> log = EventLog(Path("monitoring/heartbeat.log"), clock, config_hash="ab...")
    >>> log.write("tick", {"tick": 1, "targets": {...}})
    {'ts': '2026-11-26T13:50:58.123Z', 'event': 'tick', 'config_hash': 'ab...', 'tick': 1, ...}
    """

    def __init__(
        self,
        path: Path,
        clock: Clock,
        *,
        config_hash: str,
        retention_days: int = 3,
        fsync: bool = False,
    ) -> None:
        if retention_days < 2:
            raise ValueError(f"retention_days={retention_days}: keep at least 2 days (48 h)")
        self.path = path
        self._clock = clock
        self.config_hash = config_hash
        self._retention_days = retention_days
        self._fsync = fsync
        self._file: TextIO | None = None
        self._day: date | None = None

    def write(self, event: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Append one line `{"ts", "event", "config_hash", **fields}` and flush it; return it.

        Raises:
            ValueError: `fields` tries to set `ts`, `event` or `config_hash`.
        """
        clash = RESERVED_FIELDS.intersection(fields)
        if clash:
            raise ValueError(f"fields {sorted(clash)} are set by EventLog itself; rename them")
        now = self._clock.now_utc()
        handle = self._handle_for(now.date())
        record: dict[str, Any] = {"ts": format_ts(now), "event": event}
        record["config_hash"] = self.config_hash
        record.update(fields)
        handle.write(json_line(record) + "\n")
        handle.flush()
        if self._fsync:
            os.fsync(handle.fileno())
        return record

    def close(self) -> None:
        """Close the live file."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def rotated_files(self) -> list[Path]:
        """Return the rotated files of this log, oldest first."""
        if not self.path.parent.exists():
            return []
        found = [
            p
            for p in self.path.parent.iterdir()
            if p.name.startswith(self.path.name + ".") and _ROTATED.search(p.name)
        ]
        return sorted(found)

    def _handle_for(self, today: date) -> TextIO:
        """Return the live file for `today`, rotating and pruning when the UTC day changed."""
        if self._day is not None and today < self._day:
            today = self._day  # the wall clock stepped back: stay on the current file
        if self._file is not None and self._day == today:
            return self._file
        self.close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._rotate_live(today)
        self._prune(today)
        handle = self.path.open("a", encoding="utf-8")
        if _ends_without_newline(self.path):
            handle.write("\n")  # a crash left half a line: never glue a record onto it
        self._file, self._day = handle, today
        return handle

    def _rotate_live(self, today: date) -> None:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        last_day = self._day or _file_day(self.path)
        if last_day is None or last_day >= today:
            return
        target = self.path.with_name(f"{self.path.name}.{last_day.isoformat()}")
        if not target.exists():
            self.path.rename(target)
            return
        with target.open("a", encoding="utf-8") as out:
            out.write(self.path.read_text(encoding="utf-8"))
        self.path.unlink()

    def _prune(self, today: date) -> None:
        oldest_kept = today - timedelta(days=self._retention_days)
        for rotated in self.rotated_files():
            match = _ROTATED.search(rotated.name)
            if match and date.fromisoformat(match.group(1)) < oldest_kept:
                rotated.unlink(missing_ok=True)


def _file_day(path: Path) -> date | None:
    """Return the UTC day of the first readable record of an existing log file, if any."""
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                day = _line_day(line)
                if day is not None:
                    return day
    except (OSError, UnicodeDecodeError):
        return None
    return None


def _line_day(line: str) -> date | None:
    try:
        record = json.loads(line)
        return date.fromisoformat(str(record["ts"])[:10])
    except (ValueError, KeyError, TypeError):
        return None


def _ends_without_newline(path: Path) -> bool:
    size = path.stat().st_size
    if size == 0:
        return False
    with path.open("rb") as handle:
        handle.seek(size - 1)
        return handle.read(1) != b"\n"
