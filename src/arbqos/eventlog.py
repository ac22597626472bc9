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

_ROTATED = re.compile(r"\.(\d{4}-\d{2}-\d{2})$")


class EventLog:
    """Write one JSON object per line, flushed at once, rotated at UTC midnight.

    The live file is `path`; at the first write of a new UTC day the previous day's file is
    renamed to `path.YYYY-MM-DD` and files older than `retention_days` are removed.

    >>> log = EventLog(Path("monitoring/heartbeat.log"), clock, config_hash="ab...")
    >>> log.write("tick", {"tick": 1, "targets": {...}})
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
        """Append one line `{"ts", "event", "config_hash", **fields}` and flush it; return it."""
        now = self._clock.now_utc()
        self._rotate_if_needed(now.date())
        record: dict[str, Any] = {"ts": format_ts(now), "event": event}
        record["config_hash"] = self.config_hash
        record.update(fields)
        assert self._file is not None
        self._file.write(json.dumps(record, separators=(",", ":"), default=str) + "\n")
        self._file.flush()
        if self._fsync:
            os.fsync(self._file.fileno())
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

    def _rotate_if_needed(self, today: date) -> None:
        if self._file is not None and self._day == today:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.path.exists() and self.path.stat().st_size > 0:
            last_day = self._day or _file_day(self.path)
            if last_day is not None and last_day < today:
                target = self.path.with_name(f"{self.path.name}.{last_day.isoformat()}")
                if not target.exists():
                    self.path.rename(target)
        self._prune(today)
        self._file = self.path.open("a", encoding="utf-8")
        self._day = today

    def _prune(self, today: date) -> None:
        oldest_kept = today - timedelta(days=self._retention_days)
        for rotated in self.rotated_files():
            match = _ROTATED.search(rotated.name)
            if match and date.fromisoformat(match.group(1)) < oldest_kept:
                rotated.unlink(missing_ok=True)


def _file_day(path: Path) -> date | None:
    """Return the UTC day of the first record of an existing log file, if it has one."""
    try:
        with path.open(encoding="utf-8") as handle:
            first = handle.readline()
        ts = json.loads(first).get("ts", "")
        return date.fromisoformat(str(ts)[:10])
    except (OSError, ValueError, AttributeError):
        return None
