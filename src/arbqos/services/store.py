"""SQLite persistence of the pause state, alert instances and the append-only journal."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from arbqos.clock import format_ts, parse_ts
from arbqos.services.state import Actor, Reason, State

SCHEMA_VERSION = 1
DB_NAME = "orchestrator.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reasons (
    source TEXT NOT NULL, name TEXT NOT NULL, since TEXT NOT NULL, detail TEXT NOT NULL,
    active INTEGER NOT NULL, inactive_since TEXT, PRIMARY KEY (source, name));
CREATE TABLE IF NOT EXISTS alert_instances (
    fingerprint TEXT PRIMARY KEY, starts_at TEXT NOT NULL, ends_at TEXT, status TEXT NOT NULL,
    reason TEXT NOT NULL, overridden INTEGER NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL, kind TEXT NOT NULL,
    action TEXT NOT NULL, who TEXT NOT NULL, client TEXT NOT NULL, source TEXT, reason TEXT,
    detail TEXT NOT NULL, state_before TEXT NOT NULL, state_after TEXT NOT NULL,
    changed INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS journal_kind ON journal (kind, id);
"""


@dataclass(frozen=True)
class AlertInstance:
    """The last notification seen for one alert fingerprint."""

    fingerprint: str
    starts_at: datetime
    status: str
    reason: str
    overridden: bool = False
    """A forced resume cleared the pause of this firing occurrence; its repeats are ignored."""
    ends_at: datetime | None = None
    """When a resolved occurrence ended."""

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> AlertInstance:
        """Build from `SELECT fingerprint, starts_at, status, reason, overridden, ends_at`."""
        ends_at = datetime.fromisoformat(row[5]) if row[5] else None
        return cls(row[0], datetime.fromisoformat(row[1]), row[2], row[3], bool(row[4]), ends_at)


_INSTANCE_COLUMNS = "fingerprint, starts_at, status, reason, overridden, ends_at"
_JOURNAL_COLUMNS = (
    "id",
    "ts",
    "kind",
    "action",
    "who",
    "client",
    "source",
    "reason",
    "detail",
    "state_before",
    "state_after",
    "changed",
    "data",
)
"""The columns `journal()` reads, in the order of the keys of each row it returns."""


@dataclass(frozen=True)
class JournalEntry:
    """One journal row: a request (`kind="request"`), a state change or a reason change."""

    ts: datetime
    kind: str
    action: str
    actor: Actor
    state_before: State
    state_after: State
    changed: bool
    source: str | None = None
    reason: str | None = None
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PersistedState:
    """What a restart finds."""

    state: State
    since: datetime | None
    reasons: list[Reason]
    suppressed: set[tuple[str, str]]


class StateStore:
    """The orchestrator's durable state in `state_dir/orchestrator.sqlite3`.

    WAL journal with `synchronous=FULL`: a transaction is on disk when `transaction()` exits,
    so an answer sent after it survives a kill -9 or a power cut.
    """

    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / DB_NAME
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.executescript(_SCHEMA)
        self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        """Close the database."""
        self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes; commit (durably) on exit, roll back on an exception."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def load(self) -> PersistedState:
        """Read the persisted state (running with no reasons on a fresh database)."""
        meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
        reasons = [
            Reason(
                source=row[0],
                name=row[1],
                since=parse_ts(row[2]),
                detail=row[3],
                active=bool(row[4]),
                inactive_since=parse_ts(row[5]) if row[5] else None,
            )
            for row in self._conn.execute(
                "SELECT source, name, since, detail, active, inactive_since FROM reasons"
            )
        ]
        suppressed = {(s, n) for s, n in json.loads(meta.get("suppressed", "[]"))}
        since = parse_ts(meta["since"]) if meta.get("since") else None
        return PersistedState(State(meta.get("state", "running")), since, reasons, suppressed)

    def put_state(self, state: State, since: datetime) -> None:
        """Record the state and when it began."""
        self._put_meta("state", state.value)
        self._put_meta("since", format_ts(since))

    def put_suppressed(self, keys: set[tuple[str, str]]) -> None:
        """Record the reasons a forced resume suppressed until their signal recovers."""
        self._put_meta("suppressed", json.dumps(sorted(keys)))

    def put_reason(self, reason: Reason) -> None:
        """Insert or replace one reason."""
        self._conn.execute(
            "INSERT OR REPLACE INTO reasons VALUES (?, ?, ?, ?, ?, ?)",
            (
                reason.source,
                reason.name,
                format_ts(reason.since),
                reason.detail,
                int(reason.active),
                format_ts(reason.inactive_since) if reason.inactive_since else None,
            ),
        )

    def delete_reason(self, key: tuple[str, str]) -> None:
        """Remove one reason."""
        self._conn.execute("DELETE FROM reasons WHERE source = ? AND name = ?", key)

    def get_instance(self, fingerprint: str) -> AlertInstance | None:
        """Return the last notification seen for `fingerprint`."""
        row = self._conn.execute(
            f"SELECT {_INSTANCE_COLUMNS} FROM alert_instances WHERE fingerprint = ?",  # noqa: S608
            (fingerprint,),
        ).fetchone()
        return AlertInstance.from_row(row) if row is not None else None

    def firing_instances(self, reason: str) -> list[AlertInstance]:
        """Return the firing, not overridden alert instances that pause for `reason`."""
        rows = self._conn.execute(
            f"SELECT {_INSTANCE_COLUMNS} FROM alert_instances "  # noqa: S608
            "WHERE reason = ? AND status = 'firing' AND overridden = 0",
            (reason,),
        ).fetchall()
        return [AlertInstance.from_row(row) for row in rows]

    def put_instance(self, instance: AlertInstance, now: datetime) -> None:
        """Record the last notification of one fingerprint."""
        self._conn.execute(
            "INSERT OR REPLACE INTO alert_instances VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                instance.fingerprint,
                instance.starts_at.isoformat(),
                instance.ends_at.isoformat() if instance.ends_at else None,
                instance.status,
                instance.reason,
                int(instance.overridden),
                format_ts(now),
            ),
        )

    def override_firing(self, reasons: set[str]) -> None:
        """Mark the firing instances behind `reasons` as overridden by a forced resume."""
        self._conn.executemany(
            "UPDATE alert_instances SET overridden = 1 WHERE reason = ? AND status = 'firing'",
            [(name,) for name in sorted(reasons)],
        )

    def prune_instances(self, before: datetime) -> int:
        """Forget resolved alert instances last updated before `before`; return how many."""
        cursor = self._conn.execute(
            "DELETE FROM alert_instances WHERE status = 'resolved' AND updated_at < ?",
            (format_ts(before),),
        )
        return cursor.rowcount

    def append(self, entry: JournalEntry) -> None:
        """Append one journal row."""
        self._conn.execute(
            "INSERT INTO journal (ts, kind, action, who, client, source, reason, detail, "
            "state_before, state_after, changed, data) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                format_ts(entry.ts),
                entry.kind,
                entry.action,
                entry.actor.scope,
                entry.actor.client,
                entry.source,
                entry.reason,
                entry.detail,
                entry.state_before.value,
                entry.state_after.value,
                int(entry.changed),
                json.dumps(entry.data, sort_keys=True, default=str),
            ),
        )

    def journal(self, limit: int, kind: str | None = None) -> list[dict[str, Any]]:
        """Return the newest `limit` journal rows (optionally of one kind), newest first."""
        query = f"SELECT {', '.join(_JOURNAL_COLUMNS)} FROM journal"  # noqa: S608
        args: tuple[Any, ...] = (limit,)
        if kind is not None:
            query += " WHERE kind = ?"
            args = (kind, limit)
        rows = self._conn.execute(query + " ORDER BY id DESC LIMIT ?", args).fetchall()
        out = []
        for row in rows:
            item = dict(zip(_JOURNAL_COLUMNS, row, strict=True))
            item["changed"] = bool(item["changed"])
            item["data"] = json.loads(item["data"])
            out.append(item)
        return out

    def _put_meta(self, key: str, value: str) -> None:
        self._conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))


def prune_horizon(now: datetime) -> datetime:
    """Resolved alert instances older than this are forgotten (a week covers any redelivery)."""
    return now - timedelta(days=7)
