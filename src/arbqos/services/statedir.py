"""The orchestrator's state directory: an exclusive lock and a record that it was initialised.

Two files sit next to `orchestrator.sqlite3`:

- `orchestrator.lock`: held with `flock(LOCK_EX)` for the life of the process, and holding the
  holder's PID, so a second orchestrator on the same directory refuses to start (exit 2)
  instead of reporting `running` while the first one is paused.
- `orchestrator.state`: written once when the directory is first initialised and again, with
  the database's generation, after every commit that changed the pause state. At start a
  missing or empty database, or one older than the generation recorded here, means
  acknowledged pauses were lost (file deleted, restored from an old backup, half restored):
  the orchestrator then starts paused and says what was lost.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from arbqos.errors import ArbqosError, ExitCode
from arbqos.services.store import DB_NAME, StateStore, StateStoreError

LOCK_NAME = "orchestrator.lock"
MARKER_NAME = "orchestrator.state"


class StateDirLocked(ArbqosError):
    """Another process holds the state directory."""

    exit_code = ExitCode.BAD_INPUT


class StateDirLock:
    """An exclusive, process-lifetime lock on a state directory (released by `release()`)."""

    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / LOCK_NAME
        handle: IO[str] = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise StateDirLocked(
                f"state dir {state_dir} is in use by another orchestrator (PID {holder}); stop "
                "it first, or give this one its own --state-dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle: IO[str] | None = handle

    def release(self) -> None:
        """Unlock and close (idempotent)."""
        if self._handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


@dataclass(frozen=True)
class Marker:
    """What `orchestrator.state` records: the directory's identity and the last generation."""

    instance: str
    generation: int

    @classmethod
    def new(cls) -> Marker:
        """A fresh identity for a newly initialised directory."""
        return cls(uuid.uuid4().hex, 0)


def read_marker(state_dir: Path) -> Marker | str | None:
    """The marker, None when the directory was never initialised, or a problem description."""
    path = state_dir / MARKER_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as err:
        return f"{path} cannot be read ({err.strerror or err})"
    try:
        data = json.loads(text)
        return Marker(str(data["instance"]), int(data["generation"]))
    except (ValueError, KeyError, TypeError):
        return f"{path} is not a valid state marker"


def write_marker(state_dir: Path, marker: Marker) -> None:
    """Replace the marker atomically and durably (write, fsync, rename, fsync the directory).

    Raises:
        OSError: the disk refused (full, read-only, gone); the caller treats it as a store fault.
    """
    path = state_dir / MARKER_NAME
    tmp = path.with_suffix(".tmp")
    body = json.dumps({"instance": marker.instance, "generation": marker.generation})
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(body + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    directory = os.open(state_dir, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


@dataclass
class OpenedState:
    """A locked state directory with its store, and what was lost before start, if anything."""

    store: StateStore
    lock: StateDirLock
    marker: Marker
    lost: str | None
    """Why acknowledged state may be missing (the orchestrator then starts paused), or None."""

    def record_generation(self, generation: int) -> None:
        """Write the marker with the database's new generation (the store's `on_commit`)."""
        self.marker = Marker(self.marker.instance, generation)
        write_marker(self.store.path.parent, self.marker)

    def close(self) -> None:
        """Close the database and release the lock."""
        self.store.close()
        self.lock.release()


def open_state(state_dir: Path, *, stamp: str) -> OpenedState:
    """Lock `state_dir`, open (or create) its database and judge whether state was lost.

    A fresh directory starts running. A missing, empty or corrupt database in a directory that
    was initialised, a database of another directory, or one older than the generation the
    directory recorded, is reported in `lost` (the damaged file is kept as
    `orchestrator.sqlite3.<what>-<stamp>`).

    Raises:
        StateDirLocked: another orchestrator holds the directory.
        StateUnreadable: the database was written by a newer arbqos.
        StateStoreError: the database cannot be created or opened at all.
    """
    lock = StateDirLock(state_dir)
    try:
        return _open_locked(state_dir, lock, stamp)
    except BaseException:
        lock.release()
        raise


def _open_locked(state_dir: Path, lock: StateDirLock, stamp: str) -> OpenedState:
    found = read_marker(state_dir)
    db = state_dir / DB_NAME
    problems: list[str] = []
    if isinstance(found, str):
        problems.append(found)
        found = None
    initialised = found is not None or bool(problems)
    size = db.stat().st_size if db.exists() else None
    if initialised and not size:
        problems.append(f"{db} is missing" if size is None else f"{db} is empty (0 bytes)")
        if size == 0:
            db.replace(db.with_name(f"{DB_NAME}.empty-{stamp}"))
    known = len(problems)
    store = _open_checked(db, found, problems, stamp)
    recreated = len(problems) > known or not size
    marker = found or Marker(store.stored_instance or Marker.new().instance, 0)
    if recreated:
        marker = Marker(marker.instance, store.generation)
    elif found is not None and store.stored_instance and store.stored_instance != found.instance:
        problems.append(
            f"{db} belongs to another state dir (instance {store.stored_instance}, this dir "
            f"recorded {found.instance}): it was restored from elsewhere"
        )
        marker = Marker(store.stored_instance, store.generation)
    elif found is not None and store.generation < found.generation:
        problems.append(
            f"{db} is at generation {store.generation} but the state dir recorded "
            f"{found.generation}: the last acknowledged changes are missing (an old backup, "
            "or a journal lost after a crash)"
        )
        marker = Marker(found.instance, store.generation)
    if not store.stored_instance:
        store.instance = marker.instance
        store.reopen()  # records the instance in a fresh database
    opened = OpenedState(store, lock, marker, "; ".join(problems) or None)
    write_marker(state_dir, Marker(marker.instance, store.generation))
    opened.marker = Marker(marker.instance, store.generation)
    store.on_commit = opened.record_generation
    return opened


def _open_checked(db: Path, found: Marker | None, problems: list[str], stamp: str) -> StateStore:
    """Open the database; a corrupt one is moved aside and replaced by an empty one."""
    instance = found.instance if found is not None else ""
    problem: str | None
    try:
        store = StateStore(db.parent, instance=instance)
    except StateStoreError as err:
        problem = str(err)
    else:
        problem = store.integrity_problem()
        if problem is None:
            return store
        store.close()
    kept = db.with_name(f"{DB_NAME}.corrupt-{stamp}")
    db.replace(kept)
    problems.append(f"{db} failed its integrity check ({problem}); kept as {kept.name}")
    return StateStore(db.parent, instance=instance)
