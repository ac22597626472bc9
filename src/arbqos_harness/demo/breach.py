"""Exact QoS breach moments computed from the venue simulators' own decision logs.

The evidence measures pause latency from the breach: the first moment the exact window
statistic, computed from what the simulators decided (not from what the engine or
Prometheus saw), crosses its threshold. The definitions are the guard's
(`arbqos.guard.rules`): window `(T - qos_window_s, T]`; fill ratio = filled / requested
stake of the results in the window; p95 accept time above the threshold when more than 5 %
of the accepts are slower; neither rule holds below `min_orders_in_window` submitted legs.
A submission counts at its log time, a result at its `decided_ts`. Between events the
statistics only change when an event leaves the window, so evaluating at every event time
and every event time + window finds the first crossing exactly.

The simulators keep only the last minutes of their decision logs on disk
(`arbqos_harness.sim.decisionlog`); `read_sim_events(paths, since=...)` refuses with
`LogCoverageError` when what is kept starts after `since`, so a breach time is exact or not
given at all.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from arbqos.clock import format_ts, parse_ts
from arbqos.config import ExecConfig
from arbqos.guard import p95_nearest_rank
from arbqos.vocab import AlertName
from arbqos_harness.sim.decisionlog import PREVIOUS_SUFFIX, parse_header

MICRO = 1_000_000
"""Stakes are compared in integer micro-USD, like the guard (USDC and USDT have 6 decimals)."""


def to_micro(usd: float) -> int:
    """USD to integer micro-USD."""
    return round(usd * MICRO)


@dataclass(frozen=True)
class SimEvent:
    """A submission or a terminal result as the simulator logged it (unix seconds)."""

    t: float
    venue: str
    kind: Literal["submit", "result"]
    requested_micro: int = 0
    filled_micro: int = 0
    accept_s: float | None = None


@dataclass(frozen=True)
class Breach:
    """The first moment one rule held for one venue."""

    rule: str
    venue: str
    at: float
    """Unix seconds."""
    value: float
    """Fill ratio, or p95 accept time in seconds, at that moment."""
    submitted: int
    results: int


class LogCoverageError(RuntimeError):
    """The decision logs on disk no longer reach back to the moment asked for."""


def read_sim_events(paths: Iterable[Path], since: float | None = None) -> list[SimEvent]:
    """Parse `order_submitted` and `order_result` lines of simulator logs (others skipped).

    With `since` (unix seconds) only events from then on are returned, and LogCoverageError
    is raised when a log was trimmed after `since`: its oldest file on disk is a segment
    other than the first and begins after `since`.
    """
    events: list[SimEvent] = []
    for path in paths:
        with path.open(encoding="utf-8", errors="replace") as handle:
            first = handle.readline()
            if since is not None and _is_oldest(path):
                _check_coverage(path, first, since)
            for line in itertools.chain([first], handle):
                event = _parse(line)
                if event is not None and (since is None or event.t >= since):
                    events.append(event)
    events.sort(key=lambda e: e.t)
    return events


def _is_oldest(path: Path) -> bool:
    """True for the oldest segment of a decision log: `.prev`, or the live file without one."""
    if path.name.endswith(PREVIOUS_SUFFIX):
        return True
    return not path.with_name(path.name + PREVIOUS_SUFFIX).exists()


def _check_coverage(path: Path, first_line: str, since: float) -> None:
    header = parse_header(first_line)
    if header is None or not header.get("segment"):
        return  # the log's first segment (or not a decision log): nothing was dropped
    try:
        kept_from = parse_ts(str(header["ts"])).timestamp()
    except (KeyError, ValueError):
        return
    if kept_from > since:
        raise LogCoverageError(
            f"{path}: the decision log on disk starts at {header['ts']}, after "
            f"{format_ts(datetime.fromtimestamp(since, UTC))} where the window to judge "
            "starts (older segments were dropped); give the simulators a longer "
            "--log-retention-s"
        )


def log_files(live: Path) -> list[Path]:
    """A live JSON-lines log and its older files, oldest first: the segment before it
    (`<name>.prev`, decision logs) or its rotated days (`<name>.YYYY-MM-DD`, event logs)."""
    if not live.parent.exists():
        return []
    rotated = sorted(live.parent.glob(live.name + ".????-??-??"))
    previous = live.with_name(live.name + PREVIOUS_SUFFIX)
    older = [*rotated, *([previous] if previous.exists() else [])]
    return [*older, *([live] if live.exists() else [])]


def _parse(line: str) -> SimEvent | None:
    try:
        record = json.loads(line)
        kind = record.get("event")
        venue = str(record["venue"])
        if kind == "order_submitted":
            return SimEvent(parse_ts(record["ts"]).timestamp(), venue, "submit")
        if kind != "order_result":
            return None
        accept = record.get("accept_s")
        return SimEvent(
            parse_ts(record["decided_ts"]).timestamp(),
            venue,
            "result",
            requested_micro=to_micro(float(record["requested_usd"])),
            filled_micro=to_micro(float(record.get("filled_usd") or 0.0)),
            accept_s=float(accept) if accept is not None else None,
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


class _Window:
    """Running sums of one venue's window, the guard's way."""

    def __init__(self, threshold_s: float) -> None:
        self.threshold_s = threshold_s
        self.submits = 0
        self.results: deque[SimEvent] = deque()
        self.requested = 0
        self.filled = 0
        self.accepts = 0
        self.slow = 0

    def add(self, event: SimEvent, sign: int) -> None:
        if event.kind == "submit":
            self.submits += sign
            return
        if sign > 0:
            self.results.append(event)
        else:
            self.results.popleft()
        self.requested += sign * event.requested_micro
        self.filled += sign * event.filled_micro
        if event.accept_s is not None:
            self.accepts += sign
            if event.accept_s > self.threshold_s:
                self.slow += sign


def first_breaches(
    events: Iterable[SimEvent], exec_config: ExecConfig, *, after: float, until: float
) -> list[Breach]:
    """First moment in [after, until] each rule held, per venue, earliest first."""
    window_s = float(exec_config.qos_window_s)
    threshold_s = exec_config.p95_accept_time_ms_max / 1000
    by_venue: dict[str, list[SimEvent]] = {}
    for event in sorted(events, key=lambda e: e.t):
        by_venue.setdefault(event.venue, []).append(event)
    found: list[Breach] = []
    for venue, evs in by_venue.items():
        moments = {after, *(e.t for e in evs), *(e.t + window_s for e in evs)}
        window = _Window(threshold_s)
        head = tail = 0
        seen: set[str] = set()
        for moment in sorted(m for m in moments if after <= m <= until):
            while head < len(evs) and evs[head].t <= moment:
                window.add(evs[head], +1)
                head += 1
            while tail < head and evs[tail].t <= moment - window_s:
                window.add(evs[tail], -1)
                tail += 1
            for breach in _rules(window, exec_config, venue, moment):
                if breach.rule not in seen:
                    seen.add(breach.rule)
                    found.append(breach)
            if len(seen) == 2:
                break
    return sorted(found, key=lambda b: b.at)


def _rules(w: _Window, cfg: ExecConfig, venue: str, at: float) -> list[Breach]:
    if w.submits < cfg.min_orders_in_window:
        return []
    hits = []
    n = len(w.results)
    if w.requested > 0 and w.filled / w.requested < cfg.fill_ratio_min:
        hits.append(
            Breach(AlertName.FILL_RATIO_LOW, venue, at, w.filled / w.requested, w.submits, n)
        )
    if w.accepts > 0 and w.slow * 20 > w.accepts:
        accepts = [e.accept_s for e in w.results if e.accept_s is not None]
        p95 = p95_nearest_rank(accepts) or 0.0
        hits.append(Breach(AlertName.ACCEPT_P95_HIGH, venue, at, p95, w.submits, n))
    return hits
