"""Fail closed: a store that cannot write, a lost or stale state file, skewed alert clocks."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from arbqos.services.statedir import MARKER_NAME, StateDirLock, StateDirLocked
from arbqos.services.store import DB_NAME, StateStore, StateStoreError, StateUnreadable
from tests.services.conftest import Orchestrator, am_alert


class FailingDisk:
    """Make one store's writes fail, as a full disk does, until `heal()`."""

    def __init__(self, store: StateStore, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = True
        real_transaction = store.transaction
        real_reopen = store.reopen

        @contextmanager
        def transaction() -> Iterator[None]:
            if self.full:
                raise StateStoreError(f"{store.path}: database or disk is full")
            with real_transaction():
                yield

        def reopen() -> None:
            if self.full:
                raise StateStoreError(f"{store.path}: unable to open database file")
            real_reopen()

        monkeypatch.setattr(store, "transaction", transaction)
        monkeypatch.setattr(store, "reopen", reopen)

    def heal(self) -> None:
        """Free the disk."""
        self.full = False


def reason_keys(status: dict[str, object]) -> list[tuple[str, str, bool]]:
    """(source, name, active) of every reason in a status body."""
    reasons = status["reasons"]
    assert isinstance(reasons, list)
    return [(r["source"], r["name"], r["active"]) for r in reasons]


async def test_a_pause_that_cannot_be_stored_still_pauses(
    orch: Orchestrator, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = FailingDisk(orch.service.control.store, monkeypatch)
    response = await orch.pause("ArbFillRatioLow", source="guard")
    assert response.status_code == 200
    assert response.json() == {"state": "paused", "changed": True, "persisted": False}
    status = await orch.status()
    assert status["state"] == "paused"
    assert reason_keys(status) == [
        ("guard", "ArbFillRatioLow", True),
        ("system", "StateNotPersisted", True),
    ]
    health = await orch.client.get("/healthz")
    assert health.status_code == 503
    assert "not written to disk" in health.json()["problems"][0]
    assert orch.metric("arb_orchestrator_state_persisted") == 0

    resume = await orch.resume(force=True)
    assert resume.status_code == 503, "a resume that cannot be stored must not happen"
    assert resume.json()["error"] == "state_not_persisted"
    assert (await orch.status())["state"] == "paused"

    assert orch.service.control.flush() is False  # still full: retried next second
    disk.heal()
    assert orch.service.control.flush() is True
    assert (await orch.client.get("/healthz")).status_code == 200
    assert orch.metric("arb_orchestrator_state_persisted") == 1
    assert reason_keys(await orch.status()) == [
        ("guard", "ArbFillRatioLow", True),
        ("system", "StateNotPersisted", False),
    ]
    await orch.restart()
    assert reason_keys(await orch.status()) == [
        ("guard", "ArbFillRatioLow", True),
        ("system", "StateNotPersisted", False),
    ]
    actions = [e["action"] for e in await orch.journal(limit=50)]
    assert "state_persisted" in actions
    assert "reason_activated" in actions


async def test_store_failure_alone_pauses_and_drops_what_would_resume(
    orch: Orchestrator, monkeypatch: pytest.MonkeyPatch
) -> None:
    await orch.alerts(am_alert(venue="sx"))
    disk = FailingDisk(orch.service.control.store, monkeypatch)
    resolved = await orch.alerts(am_alert(venue="sx", status="resolved"), status="resolved")
    assert resolved.status_code == 503, "Alertmanager must retry what could not be stored"
    keys = reason_keys(await orch.status())
    assert ("alert", 'ArbFillRatioLow{venue="sx"}', True) in keys, "resolve not applied"
    assert ("system", "StateNotPersisted", True) in keys
    heartbeat = await orch.heartbeat()
    assert heartbeat.status_code == 503
    disk.heal()
    orch.service.tick()
    again = await orch.alerts(am_alert(venue="sx", status="resolved"), status="resolved")
    assert again.status_code == 200
    assert again.json()["results"][0]["action"] == "reason_resolved"


async def test_deadman_pauses_even_when_the_store_fails(
    orch: Orchestrator, monkeypatch: pytest.MonkeyPatch
) -> None:
    FailingDisk(orch.service.control.store, monkeypatch)
    orch.clock.advance(orch.service.heartbeat_monitor.window_s + 1)
    assert orch.service.check_deadman() is True
    keys = reason_keys(await orch.status())
    assert ("deadman", "ArbHeartbeatStale", True) in keys
    assert (await orch.status())["state"] == "paused"


async def test_deleted_database_is_written_again_from_memory(orch: Orchestrator) -> None:
    db = orch.state_dir / DB_NAME
    db.unlink()
    response = await orch.pause("maintenance")
    assert response.json()["state"] == "paused"
    assert response.json()["persisted"] is False, "the deletion is noticed on the next commit"
    assert orch.service.control.flush() is True
    assert db.exists()
    await orch.restart()
    keys = reason_keys(await orch.status())
    assert ("manual", "maintenance", True) in keys


async def test_empty_database_in_an_initialised_dir_starts_paused(orch: Orchestrator) -> None:
    await orch.pause("maintenance")
    await orch.resume()
    await orch.close()
    (orch.state_dir / DB_NAME).write_bytes(b"")
    await orch.restart()
    status = await orch.status()
    assert status["state"] == "paused"
    [lost] = status["reasons"]
    assert (lost["source"], lost["name"], lost["active"]) == ("system", "StateLost", True)
    assert "empty (0 bytes)" in lost["detail"]
    assert list(orch.state_dir.glob(f"{DB_NAME}.empty-*"))
    # Only an admin clears it, and it survives another restart until then.
    await orch.restart()
    assert (await orch.status())["state"] == "paused"
    assert (await orch.resume()).status_code == 200
    await orch.restart()
    assert (await orch.status())["state"] == "running"


async def test_missing_database_in_an_initialised_dir_starts_paused(orch: Orchestrator) -> None:
    await orch.close()
    (orch.state_dir / DB_NAME).unlink()
    await orch.restart()
    [lost] = (await orch.status())["reasons"]
    assert lost["name"] == "StateLost"
    assert "missing" in lost["detail"]


async def test_an_older_copy_of_the_database_starts_paused(orch: Orchestrator) -> None:
    await orch.close()
    backup = orch.root / "backup.sqlite3"
    shutil.copy(orch.state_dir / DB_NAME, backup)
    await orch.restart()
    await orch.pause("maintenance")  # acknowledged after the backup was taken
    await orch.close()
    shutil.copy(backup, orch.state_dir / DB_NAME)  # restore the old copy
    await orch.restart()
    [lost] = (await orch.status())["reasons"]
    assert lost["name"] == "StateLost"
    assert "acknowledged changes are missing" in lost["detail"]


async def test_corrupt_database_is_kept_aside_and_starts_paused(orch: Orchestrator) -> None:
    await orch.close()
    (orch.state_dir / DB_NAME).write_bytes(b"this is not a database" * 100)
    await orch.restart()
    [lost] = (await orch.status())["reasons"]
    assert lost["name"] == "StateLost"
    assert "integrity" in lost["detail"]
    assert list(orch.state_dir.glob(f"{DB_NAME}.corrupt-*"))


async def test_fresh_state_dir_starts_running(orch: Orchestrator) -> None:
    assert (await orch.status())["state"] == "running"
    marker = json.loads((orch.state_dir / MARKER_NAME).read_text())
    assert set(marker) == {"instance", "generation"}


async def test_unreadable_value_is_a_clear_error(orch: Orchestrator) -> None:
    await orch.pause("maintenance")
    await orch.close()
    with sqlite3.connect(orch.state_dir / DB_NAME) as conn:
        conn.execute("UPDATE reasons SET since = 'yesterday'")
    with pytest.raises(StateUnreadable) as caught:
        await orch.restart()
    assert "reasons[manual/maintenance].since = 'yesterday'" in str(caught.value)
    assert caught.value.exit_code == 2


def test_second_lock_names_the_holder(tmp_path: Path) -> None:
    first = StateDirLock(tmp_path)
    try:
        with pytest.raises(StateDirLocked, match=r"in use by another orchestrator \(PID \d+\)"):
            StateDirLock(tmp_path)
    finally:
        first.release()
    StateDirLock(tmp_path).release()


async def test_resolve_from_a_clock_ahead_never_mutes_a_later_breach(
    orch: Orchestrator,
) -> None:
    """Two Prometheus replicas 10 minutes apart: the resolve carries a future endsAt."""
    now = "2026-11-26T00:00:00.000Z"
    first = am_alert(venue="sx", starts_at=now)
    await orch.alerts(first)
    ahead = dict(
        am_alert(venue="sx", status="resolved", starts_at=now), endsAt="2026-11-26T00:10:00Z"
    )
    assert (await orch.alerts(ahead, status="resolved")).json()["results"][0]["action"] == (
        "reason_resolved"
    )
    await orch.resume()
    orch.clock.advance(60)
    second = am_alert(venue="sx", starts_at="2026-11-26T00:01:00.000Z")
    answer = await orch.alerts(second)
    assert answer.json()["results"][0]["action"] == "paused"
    assert (await orch.status())["state"] == "paused"


async def test_breach_from_a_clock_behind_after_a_resolve_pauses(orch: Orchestrator) -> None:
    """The new occurrence's startsAt is earlier than the resolve (replica 10 min behind)."""
    await orch.alerts(am_alert(venue="sx", starts_at="2026-11-26T00:00:00Z"))
    resolved = am_alert(venue="sx", status="resolved", starts_at="2026-11-26T00:00:00Z")
    await orch.alerts(resolved, status="resolved")
    await orch.resume()
    behind = am_alert(venue="sx", starts_at="2026-11-25T23:51:00Z")
    assert (await orch.alerts(behind)).json()["results"][0]["action"] == "paused"


async def test_alert_event_log_failure_never_fails_a_saved_pause(
    make_orchestrator: Callable[..., Orchestrator],
) -> None:
    orch = make_orchestrator()
    try:
        blocker = orch.alert_log.parent
        shutil.rmtree(blocker, ignore_errors=True)
        blocker.write_text("a file where the log directory should be")
        response = await orch.alerts(am_alert(venue="sx"))
        assert response.status_code == 200
        assert response.json()["results"][0]["action"] == "paused"
        assert (await orch.status())["state"] == "paused"
    finally:
        await orch.close()


async def test_long_labels_and_big_groups_are_cut_never_refused(orch: Orchestrator) -> None:
    alert = am_alert(venue="sx" + "x" * 4096)
    alert["annotations"] = {"summary": "s" * 5000, **{f"a{i}": "v" for i in range(100)}}
    alert["labels"].update({f"extra{i}": "y" for i in range(100)})
    group = [alert] + [
        am_alert(
            "ArbWalletBalanceLow",
            action=None,
            fingerprint=f"f{i:04d}",
            wallet="azuro",
            note="z" * 900,
        )
        for i in range(200)
    ]
    response = await orch.alerts(*group)
    assert response.status_code == 200, response.text[:300]
    assert response.json()["results"][0]["action"] == "paused"
    [reason] = (await orch.status())["reasons"]
    assert reason["name"].startswith("ArbFillRatioLow{")
    assert "chars)" in reason["name"]
