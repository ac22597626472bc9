"""SQLite persistence of the pause state, alert instances and the append-only journal.

Durability: `journal_mode=DELETE` with `synchronous=FULL`, so a committed transaction is in the
one database file before the orchestrator answers: a kill -9, a power cut or a copy of that
single file can never lose an acknowledged pause (with WAL, a restore without its `-wal` file
could). Every failure of the database or the disk surfaces as `StateStoreError`, which the
pause state machine turns into a fail-closed pause (see `arbqos.services.control`).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from arbqos.clock import format_ts, parse_ts
from arbqos.errors import ArbqosError, ExitCode
from arbqos.services.state import Actor, Reason, State

SCHEMA_VERSION = 2
DB_NAME = "orchestrator.sqlite3"
T = TypeVar("T")


class StateStoreError(ArbqosError):
    """The database or the disk under it failed (full, read-only, deleted, corrupt)."""


class StateUnreadable(ArbqosError):
    """A row of the database holds a value arbqos cannot read; the message names it."""

    exit_code = ExitCode.BAD_INPUT


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reasons (
    source TEXT NOT NULL, name TEXT NOT NULL, since TEXT NOT NULL, detail TEXT NOT NULL,
    active INTEGER NOT NULL, inactive_since TEXT, escalated INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (source, name));
CREATE TABLE IF NOT EXISTS alert_instances (
    fingerprint TEXT PRIMARY KEY, starts_at TEXT NOT NULL, ends_at TEXT, status TEXT NOT NULL,
    reason TEXT NOT NULL, overridden INTEGER NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL, kind TEXT NOT NULL,
    action TEXT NOT NULL, who TEXT NOT NULL, client TEXT NOT NULL, source TEXT, reason TEXT,
    detail TEXT NOT NULL, state_before TEXT NOT NULL, state_after TEXT NOT NULL,
    changed INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS journal_kind ON journal (kind, id);
CREATE INDEX IF NOT EXISTS journal_ts ON journal (ts);
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

    A transaction is on disk when `transaction()` exits. Each commit that changed the pause
    state bumps `generation`; `on_commit(generation)` then runs (the state dir records it). A
    database file deleted or replaced under the running process is detected after the next
    commit (its inode changed) and reported as `StateStoreError`; `reopen()` recreates it.
    """

    def __init__(self, state_dir: Path, *, instance: str = "") -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / DB_NAME
        self.instance = instance
        self.on_commit: Callable[[int], None] | None = None
        self._changed = False
        self._suppressed_cache: str | None = None
        self._identity: tuple[int, int] | None = None
        self._conn = self._connect()

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=DELETE")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=5000")
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                conn.close()
                raise StateUnreadable(
                    f"{self.path} has schema version {version}, newer than this arbqos "
                    f"understands ({SCHEMA_VERSION}); run the arbqos version that wrote it"
                )
            conn.executescript(_SCHEMA)
            _migrate(conn, version)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            if self.instance:
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('instance', ?)", (self.instance,))
        except sqlite3.Error as err:
            raise StateStoreError(f"{self.path}: {err}") from err
        self._identity = _identity(self.path)
        return conn

    def close(self) -> None:
        """Close the database."""
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()

    def reopen(self) -> None:
        """Open the database file again (recreating it if it was deleted), then switch to it.

        On failure the previous connection stays in use (it may still read a deleted file).
        """
        old, identity = self._conn, self._identity
        try:
            self._conn = self._connect()
        except StateStoreError:
            self._conn, self._identity = old, identity
            raise
        self._suppressed_cache = None
        with contextlib.suppress(sqlite3.Error):
            old.close()

    @property
    def generation(self) -> int:
        """How many state-changing commits this database holds."""
        return int(self._meta("generation") or 0)

    @property
    def stored_instance(self) -> str:
        """The state dir identity recorded in the database (empty before it was recorded)."""
        return self._meta("instance") or ""

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes; commit (durably) on exit, roll back on an exception.

        Raises:
            StateStoreError: the database or the disk failed; nothing of the block was kept.
        """
        self._changed = False
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as err:
            raise StateStoreError(f"{self.path}: cannot begin a transaction: {err}") from err
        try:
            yield
            if self._changed:
                self._put_meta("generation", str(self.generation + 1))
            self._conn.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
            self._suppressed_cache = None
            if isinstance(exc, sqlite3.Error | OSError):
                raise StateStoreError(f"{self.path}: {exc}") from exc
            raise
        if _identity(self.path) != self._identity:
            raise StateStoreError(
                f"{self.path} was deleted or replaced while the orchestrator ran; the state "
                "is kept in memory and written again"
            )
        if self._changed and self.on_commit is not None:
            try:
                self.on_commit(self.generation)
            except OSError as err:
                raise StateStoreError(f"cannot record the state generation: {err}") from err

    def integrity_problem(self) -> str | None:
        """Run SQLite's quick check; return what is wrong, or None."""
        try:
            rows = self._conn.execute("PRAGMA quick_check").fetchall()
        except sqlite3.Error as err:
            return str(err)
        problems = [str(row[0]) for row in rows if row[0] != "ok"]
        return "; ".join(problems[:3]) or None

    def load(self) -> PersistedState:
        """Read the persisted state (running with no reasons on a fresh database).

        Raises:
            StateUnreadable: a row holds a value that cannot be read (names table, row, value).
        """
        meta = dict(self._select("SELECT key, value FROM meta", ()))
        reasons = [
            Reason(
                source=row[0],
                name=row[1],
                since=_read("reasons", row[:2], "since", row[2], parse_ts),
                detail=row[3],
                active=bool(row[4]),
                inactive_since=_read("reasons", row[:2], "inactive_since", row[5], _opt_ts),
                escalated=bool(row[6]),
            )
            for row in self._select(
                "SELECT source, name, since, detail, active, inactive_since, escalated "
                "FROM reasons",
                (),
            )
        ]
        self._suppressed_cache = meta.get("suppressed")
        suppressed = _read("meta", ("suppressed",), "value", meta.get("suppressed", "[]"), _pairs)
        since = _read("meta", ("since",), "value", meta.get("since"), _opt_ts)
        state = _read("meta", ("state",), "value", meta.get("state", "running"), State)
        return PersistedState(state, since, reasons, suppressed)

    def rewrite(self, state: PersistedState, rows: list[JournalEntry]) -> None:
        """Replace the whole pause state with `state` and append `rows`, in one transaction."""
        with self.transaction():
            self._conn.execute("DELETE FROM reasons")
            for reason in state.reasons:
                self.put_reason(reason)
            self.put_state(state.state, state.since)
            self._suppressed_cache = None
            self.put_suppressed(state.suppressed)
            for row in rows:
                self.append(row)
            self._changed = True

    def put_state(self, state: State, since: datetime | None) -> None:
        """Record the state and when it began."""
        self._put_meta("state", state.value)
        if since is not None:
            self._put_meta("since", format_ts(since))
        self._changed = True

    def put_suppressed(self, keys: set[tuple[str, str]]) -> None:
        """Record the reasons a forced resume suppressed until their signal recovers."""
        text = json.dumps(sorted(keys))
        if text != self._suppressed_cache:
            self._put_meta("suppressed", text)
            self._suppressed_cache = text
            self._changed = True

    def put_reason(self, reason: Reason) -> None:
        """Insert or replace one reason."""
        self._conn.execute(
            "INSERT OR REPLACE INTO reasons VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                reason.source,
                reason.name,
                format_ts(reason.since),
                reason.detail,
                int(reason.active),
                format_ts(reason.inactive_since) if reason.inactive_since else None,
                int(reason.escalated),
            ),
        )
        self._changed = True

    def delete_reason(self, key: tuple[str, str]) -> None:
        """Remove one reason."""
        self._conn.execute("DELETE FROM reasons WHERE source = ? AND name = ?", key)
        self._changed = True

    def get_instance(self, fingerprint: str) -> AlertInstance | None:
        """Return the last notification seen for `fingerprint`."""
        rows = self._select(
            f"SELECT {_INSTANCE_COLUMNS} FROM alert_instances WHERE fingerprint = ?",  # noqa: S608
            (fingerprint,),
        )
        return AlertInstance.from_row(rows[0]) if rows else None

    def firing_instances(self, reason: str) -> list[AlertInstance]:
        """Return the firing, not overridden alert instances that pause for `reason`."""
        rows = self._select(
            f"SELECT {_INSTANCE_COLUMNS} FROM alert_instances "  # noqa: S608
            "WHERE reason = ? AND status = 'firing' AND overridden = 0",
            (reason,),
        )
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
        rows = self._select(query + " ORDER BY id DESC LIMIT ?", args)
        out = []
        for row in rows:
            item = dict(zip(_JOURNAL_COLUMNS, row, strict=True))
            item["changed"] = bool(item["changed"])
            item["data"] = json.loads(item["data"])
            out.append(item)
        return out

    def request_times(self, action: str, since: datetime) -> list[datetime]:
        """When requests of `action` were journaled, at or after `since`, oldest first."""
        rows = self._select(
            "SELECT ts FROM journal WHERE action = ? AND kind = 'request' AND ts >= ? ORDER BY id",
            (action, format_ts(since)),
        )
        return [parse_ts(row[0]) for row in rows]

    def prune_journal(self, before: datetime) -> int:
        """Delete journal rows older than `before`; return how many."""
        cursor = self._conn.execute("DELETE FROM journal WHERE ts < ?", (format_ts(before),))
        return cursor.rowcount

    def _put_meta(self, key: str, value: str) -> None:
        self._conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def _meta(self, key: str) -> str | None:
        rows = self._select("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def _select(self, query: str, args: tuple[Any, ...]) -> list[Any]:
        """Run a read; a database failure is a StateStoreError."""
        try:
            return self._conn.execute(query, args).fetchall()
        except sqlite3.Error as err:
            raise StateStoreError(f"{self.path}: cannot read: {err}") from err


_LEGACY_NAMES = {
    ("heartbeat", "ArbSequencerDown"): 'ArbSequencerDown{chain="arbitrum"}',
    ("heartbeat", "ArbRpcDown"): 'ArbRpcDown{chain="sx_rollup"}',
}
"""Heartbeat reason names before they carried their chain."""


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    """Bring a database of an older schema version up to date (inside `_connect`)."""
    if 0 < version < 2:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(reasons)")}
        if "escalated" not in columns:
            conn.execute("ALTER TABLE reasons ADD COLUMN escalated INTEGER NOT NULL DEFAULT 0")
        for (source, old), new in _LEGACY_NAMES.items():
            conn.execute(
                "UPDATE OR IGNORE reasons SET name = ? WHERE source = ? AND name = ?",
                (new, source, old),
            )


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at `path`, None when it is gone."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)


def _opt_ts(value: str | None) -> datetime | None:
    return parse_ts(value) if value else None


def _pairs(text: str) -> set[tuple[str, str]]:
    return {(str(source), str(name)) for source, name in json.loads(text)}


def _read(
    table: str, key: tuple[Any, ...], column: str, value: Any, parse: Callable[[Any], T]
) -> T:
    """Parse one stored value, or raise StateUnreadable naming where it is and what it holds."""
    try:
        return parse(value)
    except (ValueError, TypeError) as err:
        where = "/".join(str(part) for part in key)
        raise StateUnreadable(
            f"orchestrator state: {table}[{where}].{column} = {value!r} cannot be read ({err}); "
            "move the database aside to start paused with the state marked lost, or restore a "
            "good copy"
        ) from err


def prune_horizon(now: datetime) -> datetime:
    """Resolved alert instances older than this are forgotten (a week covers any redelivery)."""
    return now - timedelta(days=7)
