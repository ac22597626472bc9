"""ManagedProcess starts a real child, finds it ready, and stops it by PID."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from arbqos_harness.process import (
    ManagedProcess,
    find_tool,
    free_port,
    wait_for_http,
    wait_for_port,
)


@pytest.mark.slow
def test_start_wait_and_stop_by_pid(tmp_path: Path) -> None:
    port = free_port()
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    proc = ManagedProcess("http", argv, tmp_path, cwd=tmp_path).start()
    try:
        wait_for_port("127.0.0.1", port, timeout_s=10)
        wait_for_http(f"http://127.0.0.1:{port}/", timeout_s=10)
        pid = proc.pid
        assert proc.alive()
    finally:
        proc.stop(timeout_s=5)
    assert not proc.alive()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_wait_for_port_times_out_on_a_closed_port() -> None:
    with pytest.raises(TimeoutError, match="nothing listening"):
        wait_for_port("127.0.0.1", free_port(), timeout_s=0.3)


def test_find_tool_names_the_fix_when_missing() -> None:
    with pytest.raises(FileNotFoundError, match="make setup"):
        find_tool("arbqos-no-such-tool")
    assert find_tool("anvil").endswith("anvil")


@pytest.mark.slow
def test_inherit_env_false_gives_exactly_the_given_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARBQOS_SHOULD_NOT_LEAK", "1")
    show = "import os; print(sorted(os.environ))"
    env = {"PATH": os.environ.get("PATH", ""), "ONLY": "this"}
    proc = ManagedProcess("env", [sys.executable, "-c", show], tmp_path, env=env, inherit_env=False)
    proc.start()
    assert proc.proc is not None and proc.proc.wait(10) == 0
    proc.stop()
    names = proc.log_path.read_text().strip()
    assert "ARBQOS_SHOULD_NOT_LEAK" not in names and "'ONLY'" in names
