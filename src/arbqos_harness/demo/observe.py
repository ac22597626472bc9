"""Watch the running stack after a fault: pause reasons, Prometheus alerts, balance events."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from arbqos.clock import parse_ts
from arbqos.wire import ReasonOut, StatusResponse
from arbqos_harness.demo.promstack import PromClient
from arbqos_harness.demo.summary import alert_label

SINCE_SLACK_S = 0.005
"""Reason timestamps have millisecond resolution: accept a `since` this much before `after`."""


@dataclass(frozen=True)
class PauseSeen:
    """A pause reason activated after the injection."""

    source: str
    name: str
    since: float
    """Unix seconds the orchestrator activated it (its `since`)."""
    detail: str

    def to_json(self) -> dict[str, Any]:
        """Plain JSON."""
        return {
            "source": self.source,
            "name": self.name,
            "since": self.since,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class AlertSeen:
    """A Prometheus alert firing after the injection."""

    alertname: str
    label: str
    active_at: float | None
    """Unix seconds Prometheus first saw the condition (`activeAt`)."""
    seen_at: float

    def to_json(self) -> dict[str, Any]:
        """Plain JSON."""
        return {
            "alertname": self.alertname,
            "alert": self.label,
            "active_at": self.active_at,
            "seen_firing_at": self.seen_at,
        }


class Watched(Protocol):
    """What the observer reads (a running `DemoStack`)."""

    @property
    def prom(self) -> PromClient:
        """Client of the run's Prometheus."""
        ...

    def status(self) -> StatusResponse:
        """The orchestrator's status (through the SDK)."""
        ...


@dataclass
class Observer:
    """First sightings of pause reasons and firing alerts after `after` (unix seconds).

    >>> seen = Observer(stack, after=time.time()); seen.poll(time.time())
    """

    stack: Watched
    after: float
    pauses: dict[tuple[str, str], PauseSeen] = field(default_factory=dict)
    alerts: dict[str, AlertSeen] = field(default_factory=dict)
    paused_polls: int = 0
    polls: int = 0
    errors: list[str] = field(default_factory=list)

    def poll(self, now: float) -> None:
        """Read the orchestrator's status and Prometheus alerts once; failures are remembered."""
        self.polls += 1
        try:
            status = self.stack.status()
        except Exception as err:  # keep watching through a restart or a slow answer
            self.errors.append(f"orchestrator: {type(err).__name__}")
            status = None
        if status is not None:
            if status.paused:
                self.paused_polls += 1
            for reason in status.reasons:
                self._reason(reason)
        try:
            firing = self.stack.prom.firing_alerts()
        except Exception as err:  # same
            self.errors.append(f"prometheus: {type(err).__name__}")
            firing = []
        for alert in firing:
            label = alert_label(alert["labels"])
            if label in self.alerts:
                continue
            active = alert.get("activeAt")
            active_at = parse_ts(active).timestamp() if isinstance(active, str) else None
            if active_at is not None and active_at < self.after - SINCE_SLACK_S:
                continue
            self.alerts[label] = AlertSeen(alert["labels"]["alertname"], label, active_at, now)

    def _reason(self, reason: ReasonOut) -> None:
        key = (reason.source, reason.name)
        if key in self.pauses:
            return
        try:
            since = parse_ts(reason.since).timestamp()
        except ValueError:
            return
        if since >= self.after - SINCE_SLACK_S:
            self.pauses[key] = PauseSeen(key[0], key[1], since, reason.detail)

    def first_pause(self, source: str) -> PauseSeen | None:
        """The earliest reason of `source` seen so far."""
        found = [p for p in self.pauses.values() if p.source == source]
        return min(found, key=lambda p: p.since) if found else None

    def first_alert(self, alertname: str) -> AlertSeen | None:
        """The earliest firing alert called `alertname`."""
        found = [a for a in self.alerts.values() if a.alertname == alertname]
        return min(found, key=lambda a: a.seen_at) if found else None


def balance_events(log: Path, event: str, after: float) -> list[dict[str, Any]]:
    """Records of `event` (e.g. `low`) in a balance watcher log, logged after `after`."""
    found = []
    for record in _records(log):
        try:
            if record.get("event") == event and parse_ts(record["ts"]).timestamp() >= after:
                found.append(record)
        except (ValueError, KeyError, TypeError):
            continue
    return found


def _records(log: Path, last: int | None = None) -> list[dict[str, Any]]:
    """The JSON lines of a service log, or its `last` lines only (unreadable lines skipped)."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()[-(last or 0) :]
    except OSError:
        return []
    found = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            found.append(record)
    return found


def probe_attempts(log: Path, target: str, after: float) -> list[tuple[float, bool]]:
    """(unix time, ok) of every heartbeat attempt at `target` logged after `after`."""
    found = []
    for record in _records(log):
        try:
            at = parse_ts(record["ts"]).timestamp()
        except (KeyError, TypeError, ValueError):
            continue
        if at < after:
            continue
        if record.get("event") == "tick":
            result = (record.get("targets") or {}).get(target)
        elif record.get("event") == "retry" and record.get("target") == target:
            result = record
        else:
            continue
        if isinstance(result, dict) and "ok" in result:
            found.append((at, bool(result["ok"])))
    return found


def longest_failing_run(attempts: list[tuple[float, bool]]) -> int:
    """The most consecutive failed attempts."""
    longest = run = 0
    for _, ok in attempts:
        run = 0 if ok else run + 1
        longest = max(longest, run)
    return longest


def next_tick_at(log: Path, interval_s: float, now: float) -> float | None:
    """Unix time of the heartbeat's next scheduled tick after `now` (None before its first)."""
    scheduled = [r.get("scheduled_ts") for r in _records(log, last=50) if r.get("event") == "tick"]
    if not scheduled or not isinstance(scheduled[-1], str):
        return None
    at = parse_ts(scheduled[-1]).timestamp()
    while at <= now:
        at += interval_s
    return at
