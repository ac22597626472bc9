"""The real orchestrator process fails closed: full disk, deleted database, shared state dir."""

from __future__ import annotations

import contextlib
import errno
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from arbqos.clock import format_ts
from arbqos.sdk import OrchestratorClient
from arbqos.services.store import DB_NAME
from arbqos_harness.process import ManagedProcess, free_port
from tests.services.conftest import ADMIN, PAUSE
from tests.services.test_process import CONFIG_DIR, TOKEN_ENV, _start
from tests.support.cli import ARBQOS

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]


def eventually_status(url: str, expected: int, timeout_s: float = 10.0) -> httpx.Response:
    """GET `url` until it answers `expected` (the last answer is returned either way)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            response = httpx.get(url, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        else:
            if response.status_code == expected or time.monotonic() > deadline:
                return response
        time.sleep(0.1)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs mounted at tmp_path/state (needs root; the seam test covers the rest)."""
    mount = tmp_path / "state"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); see test_fail_closed.py")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(directory: Path) -> Path:
    """Write a file until the filesystem is full; return it."""
    filler = directory / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb") as handle, contextlib.suppress(OSError):
        while True:
            handle.write(chunk)
            handle.flush()
    with contextlib.suppress(OSError), filler.open("ab") as handle:
        while True:
            handle.write(b"\0")
            handle.flush()
    return filler


def test_full_disk_pauses_and_never_reports_running(tmp_path: Path, small_disk: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start(tmp_path, port, "orchestrator")
    try:
        filler = fill(small_disk)
        with pytest.raises(OSError) as full:
            (small_disk / "probe").write_bytes(b"x" * 8192)
        assert full.value.errno == errno.ENOSPC
        with httpx.Client(base_url=base, timeout=5) as http:
            paused = http.post(
                "/v1/pause", json={"reason": "ArbFillRatioLow", "source": "guard"}, headers=PAUSE
            )
            assert paused.status_code == 200, paused.text
            assert paused.json()["state"] == "paused"
            status = http.get("/v1/status").json()
            assert status["state"] == "paused"
            names = {r["name"] for r in status["reasons"]}
            assert {"ArbFillRatioLow", "StateNotPersisted"} <= names
            assert http.get("/healthz").status_code == 503
            assert http.post("/v1/resume", json={"force": True}, headers=ADMIN).status_code == 503
        with OrchestratorClient(base) as client:
            assert client.trading_allowed() is False
        filler.unlink()
        healthy = eventually_status(f"{base}/healthz", 200)
        assert healthy.status_code == 200, healthy.text
    finally:
        proc.kill()
    again = _start(tmp_path, port, "orchestrator-restarted")
    try:
        status = httpx.get(f"{base}/v1/status", timeout=5).json()
        assert status["state"] == "paused"
        assert "ArbFillRatioLow" in {r["name"] for r in status["reasons"]}
    finally:
        again.stop()


def test_deleted_database_is_rewritten_and_survives_kill_9(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start(tmp_path, port, "orchestrator")
    try:
        (tmp_path / "state" / DB_NAME).unlink()
        answer = httpx.post(f"{base}/v1/pause", json={"reason": "maintenance"}, headers=ADMIN)
        assert answer.json()["state"] == "paused"
        assert eventually_status(f"{base}/healthz", 200).status_code == 200
        assert (tmp_path / "state" / DB_NAME).exists()
    finally:
        proc.kill()
    again = _start(tmp_path, port, "orchestrator-restarted")
    try:
        reasons = httpx.get(f"{base}/v1/status", timeout=5).json()["reasons"]
        assert ("manual", "maintenance") in {(r["source"], r["name"]) for r in reasons}
    finally:
        again.stop()


def test_second_orchestrator_on_the_same_state_dir_refuses(tmp_path: Path) -> None:
    first = _start(tmp_path, free_port(), "orchestrator")
    try:
        argv = [ARBQOS, "orchestrator", "--config-dir", CONFIG_DIR, "--port", str(free_port())]
        argv += ["--state-dir", str(tmp_path / "state")]
        second = ManagedProcess("second", argv, tmp_path / "logs", env=TOKEN_ENV, cwd=tmp_path)
        with second:
            assert second.proc is not None
            code = second.proc.wait(timeout=30)
        assert code == 2
        assert f"PID {first.pid}" in second.tail()
    finally:
        first.stop()


def test_unreadable_value_exits_2_naming_it(tmp_path: Path) -> None:
    port = free_port()
    proc = _start(tmp_path, port, "orchestrator")
    try:
        httpx.post(f"http://127.0.0.1:{port}/v1/pause", json={"reason": "x"}, headers=ADMIN)
    finally:
        proc.stop()
    with sqlite3.connect(tmp_path / "state" / DB_NAME) as conn:
        conn.execute("UPDATE meta SET value = 'sideways' WHERE key = 'state'")
    argv = [ARBQOS, "orchestrator", "--config-dir", CONFIG_DIR, "--port", str(port)]
    argv += ["--state-dir", str(tmp_path / "state")]
    run = ManagedProcess("bad", argv, tmp_path / "logs", env=TOKEN_ENV, cwd=tmp_path)
    with run:
        assert run.proc is not None
        assert run.proc.wait(timeout=30) == 2
    assert "meta[state].value = 'sideways' cannot be read" in run.tail()
    assert "Traceback" not in run.tail()


def test_stalled_connections_never_starve_the_api(tmp_path: Path) -> None:
    """1,500 half-requests against a process limited to 1,024 descriptors."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    argv = ["prlimit", "--nofile=1024:1024", ARBQOS, "orchestrator", "--config-dir", CONFIG_DIR]
    argv += ["--port", str(port), "--state-dir", str(tmp_path / "state")]
    proc = ManagedProcess("orchestrator", argv, tmp_path / "logs", env=TOKEN_ENV, cwd=tmp_path)
    stalled: list[socket.socket] = []
    with proc:
        assert eventually_status(f"{base}/healthz", 200, timeout_s=20).status_code == 200
        for _ in range(1500):
            conn = socket.create_connection(("127.0.0.1", port), timeout=5)
            conn.sendall(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n")  # never finished
            stalled.append(conn)
        try:
            started = time.monotonic()
            status = httpx.get(f"{base}/v1/status", timeout=5)
            took = time.monotonic() - started
            assert status.status_code == 200
            assert took < 1.0, f"/v1/status took {took:.2f} s behind 1,500 stalled connections"
            paused = httpx.post(f"{base}/v1/pause", json={"reason": "x"}, headers=PAUSE, timeout=5)
            assert paused.json()["state"] == "paused"
        finally:
            for conn in stalled:
                conn.close()
        log_size = (tmp_path / "logs" / "orchestrator.log").stat().st_size
        assert log_size < 1_000_000, f"the flood wrote {log_size} bytes of log"
    assert proc.proc is not None and proc.proc.returncode in (0, -15)


def test_a_grace_in_progress_survives_kill_9(tmp_path: Path) -> None:
    """RPC down, then recovered; SIGKILL in the middle of the grace; the restarted
    orchestrator resumes on time, counted from the recovery, not from its own start."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = ["--set", "orchestrator.infra_resume_after_s=6"]

    def start(name: str) -> ManagedProcess:
        argv = [ARBQOS, "orchestrator", "--config-dir", CONFIG_DIR, "--port", str(port)]
        argv += ["--state-dir", str(tmp_path / "state"), *settings]
        proc = ManagedProcess(name, argv, tmp_path / "logs", env=TOKEN_ENV, cwd=tmp_path).start()
        assert eventually_status(f"{base}/healthz", 200, timeout_s=20).status_code == 200
        return proc

    def report(rpc_up: bool) -> None:
        body = {
            "ts": format_ts(datetime.now(UTC)),
            "tick": 1,
            "config_hash": "c" * 64,
            "interval_s": 30,
            "chains": {
                "sx_rollup": {"chain": "sx_rollup", "rpc_up": rpc_up, "sequencer_up": rpc_up}
            },
        }
        answer = httpx.post(f"{base}/v1/heartbeat", json=body, headers=PAUSE, timeout=5)
        assert answer.status_code == 200, answer.text

    first = start("orchestrator-1")
    try:
        report(rpc_up=False)
        assert httpx.get(f"{base}/v1/status").json()["state"] == "paused"
        report(rpc_up=True)
        recovered = time.monotonic()
        time.sleep(3)
    finally:
        first.kill()
    second = start("orchestrator-2")
    try:
        report(rpc_up=True)  # the heartbeat keeps reporting
        status = httpx.get(f"{base}/v1/status").json()
        assert status["state"] == "paused"
        assert status["reasons"][0]["class"] == "infra"
        deadline = time.monotonic() + 20
        while httpx.get(f"{base}/v1/status").json()["state"] != "running":
            assert time.monotonic() < deadline, "never resumed"
            time.sleep(0.2)
        resumed_after = time.monotonic() - recovered
        assert 5.5 <= resumed_after <= 6 + 3, resumed_after  # from the recovery, + restart
        journal = httpx.get(f"{base}/v1/journal", params={"kind": "request"}).json()["entries"]
        assert any(e["action"] == "auto_resume" for e in journal)
    finally:
        second.stop()
