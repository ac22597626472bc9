"""`arbqos heartbeat-audit`: gaps and duplicate ticks in heartbeat logs, rotated files together.

Output, one line per gap above the limit, then the summary:

    gap 2026-11-26T10:00:30.012Z 2026-11-26T10:02:00.004Z 89.992
    ticks=2880 gaps=0 duplicates=0 max_gap_s=30.010 coverage_pct=100.00 span_s=86370.005

Definitions (all on the `ts` of `tick` lines, i.e. when each tick completed and was logged):

* `ticks`: tick lines read (duplicates included); lines of other events are ignored.
* `gap`: the time between two consecutive ticks after sorting every file's ticks by `ts`;
  reported when above the limit (default 1.5 x `heartbeat.interval_s`). A tick completes at
  most `probe_timeout_s` plus a small margin after its slot, so with the defaults (30 s, 10 s)
  a healthy log never exceeds 40 s between ticks; keep `probe_timeout_s` below half the
  interval for the default limit to hold.
* `duplicates`: tick lines whose `tick` number, or whose `ts`, was already seen.
* `max_gap_s`: the largest gap; `span_s`: last `ts` minus first `ts`.
* `coverage_pct`: distinct ticks as a percentage of the ticks the span should hold,
  `100 * min(1, (ticks - duplicates) / (round(span_s / interval_s) + 1))`; 100.00 means no
  slot of the span went without a tick.

Malformed lines (not JSON, no valid `ts`, a tick without an integer `tick`) are reported on
stderr and counted, never fatal. Exit status: 0 when no gap exceeds the limit, 1 when one does
or when the logs hold no tick at all, 2 when a file cannot be read.
"""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from arbqos.clock import parse_ts


@dataclass(frozen=True)
class TickLine:
    """One `tick` line of a heartbeat log."""

    ts: datetime
    ts_text: str
    tick: int
    origin: str
    """`file:line` it came from."""


@dataclass(frozen=True)
class Gap:
    """Two consecutive ticks further apart than the limit."""

    from_ts: str
    to_ts: str
    seconds: float


@dataclass(frozen=True)
class AuditResult:
    """Everything the audit found."""

    ticks: int
    gaps: list[Gap]
    duplicates: int
    max_gap_s: float
    coverage_pct: float
    span_s: float
    limit_s: float
    malformed: list[str]

    def lines(self) -> list[str]:
        """Return the report printed on stdout."""
        out = [f"gap {g.from_ts} {g.to_ts} {g.seconds:.3f}" for g in self.gaps]
        out.append(
            f"ticks={self.ticks} gaps={len(self.gaps)} duplicates={self.duplicates} "
            f"max_gap_s={self.max_gap_s:.3f} coverage_pct={self.coverage_pct:.2f} "
            f"span_s={self.span_s:.3f}"
        )
        return out


def parse_lines(lines: Iterable[str], source: str) -> tuple[list[TickLine], list[str]]:
    """Parse one log's lines; return its ticks and a message per malformed line."""
    ticks: list[TickLine] = []
    malformed: list[str] = []
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        where = f"{source}:{number}"
        problem, tick = _parse_line(text, where)
        if problem:
            malformed.append(f"malformed {where}: {problem}")
        elif tick is not None:
            ticks.append(tick)
    return ticks, malformed


def _parse_line(text: str, where: str) -> tuple[str, TickLine | None]:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        return f"not JSON ({err.msg}, column {err.colno})", None
    if not isinstance(record, dict):
        return "not a JSON object", None
    ts_text = record.get("ts")
    if not isinstance(ts_text, str):
        return "no ts field", None
    try:
        ts = parse_ts(ts_text)
    except ValueError:
        return f"ts {ts_text[:40]!r} is not an ISO 8601 UTC time", None
    event = record.get("event")
    if not isinstance(event, str):
        return "no event field", None
    if event != "tick":
        return "", None
    tick = record.get("tick")
    if not isinstance(tick, int) or isinstance(tick, bool):
        return f"tick line without an integer tick number ({str(tick)[:20]})", None
    return "", TickLine(ts=ts, ts_text=ts_text, tick=tick, origin=where)


def audit_ticks(
    ticks: Sequence[TickLine], *, limit_s: float, interval_s: float, malformed: Sequence[str] = ()
) -> AuditResult:
    """Sort ticks by `ts` and measure gaps, duplicates, coverage and span."""
    ordered = sorted(ticks, key=lambda t: t.ts)
    seen_ticks: set[int] = set()
    seen_ts: set[datetime] = set()
    duplicates = 0
    for line in ordered:
        if line.tick in seen_ticks or line.ts in seen_ts:
            duplicates += 1
        seen_ticks.add(line.tick)
        seen_ts.add(line.ts)
    gaps: list[Gap] = []
    max_gap = 0.0
    for before, after in itertools.pairwise(ordered):
        seconds = (after.ts - before.ts).total_seconds()
        max_gap = max(max_gap, seconds)
        if seconds > limit_s:
            gaps.append(Gap(before.ts_text, after.ts_text, seconds))
    span = (ordered[-1].ts - ordered[0].ts).total_seconds() if ordered else 0.0
    coverage = 0.0
    if ordered:
        expected = round(span / interval_s) + 1
        coverage = 100.0 * min(1.0, (len(ordered) - duplicates) / expected)
    return AuditResult(
        ticks=len(ordered),
        gaps=gaps,
        duplicates=duplicates,
        max_gap_s=max_gap,
        coverage_pct=coverage,
        span_s=span,
        limit_s=limit_s,
        malformed=list(malformed),
    )


def audit_files(paths: Sequence[Path], *, limit_s: float, interval_s: float) -> AuditResult:
    """Read every file (raises OSError when one cannot be read) and audit them together."""
    ticks: list[TickLine] = []
    malformed: list[str] = []
    for path in paths:
        with path.open(encoding="utf-8", errors="replace") as handle:
            found, bad = parse_lines(handle, str(path))
        ticks += found
        malformed += bad
    return audit_ticks(ticks, limit_s=limit_s, interval_s=interval_s, malformed=malformed)


def run_audit(
    paths: list[Path],
    *,
    max_gap_s: float | None,
    interval_s: float,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Audit `paths` and print the report; return the exit status (0, 1 or 2)."""
    out = out or sys.stdout
    err = err or sys.stderr
    if max_gap_s is not None and not max_gap_s > 0:
        err.write(f"heartbeat-audit: --max-gap-s {max_gap_s}: give a positive number of seconds\n")
        return 2
    limit = max_gap_s if max_gap_s is not None else 1.5 * interval_s
    try:
        result = audit_files(paths, limit_s=limit, interval_s=interval_s)
    except OSError as error:
        err.write(f"heartbeat-audit: cannot read {error.filename}: {error.strerror}\n")
        return 2
    for message in result.malformed:
        err.write(f"heartbeat-audit: {message}\n")
    if result.malformed:
        err.write(f"heartbeat-audit: {len(result.malformed)} malformed line(s) skipped\n")
    for line in result.lines():
        out.write(line + "\n")
    if result.ticks == 0:
        err.write("heartbeat-audit: no tick lines found\n")
        return 1
    return 1 if result.gaps else 0
