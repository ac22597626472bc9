"""`arbqos demo` as a real process: SIGTERM stops every child; bad flags exit 2 before starting."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from arbqos.config import load_config
from arbqos_harness.demo.children import Children, child_env, group_alive, pid_alive
from arbqos_harness.demo.evidence import run_evidence
from arbqos_harness.demo.rundir import Ports, RunDir
from arbqos_harness.demo.session import run_session
from tests.conftest import REPO_ROOT
from tests.support.cli import arbqos_argv
from tests.support.env import child_environ

CONFIG = REPO_ROOT / "config"


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_sigterm_stops_every_process_and_exits_0(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        arbqos_argv("demo", "--config-dir", str(CONFIG), "--duration-s", "300"),
        cwd=tmp_path,
        env=child_environ(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if line.startswith("arbqos demo running") or not line:
            break
    assert lines[-1].startswith("arbqos demo running"), "".join(lines)
    (run_dir,) = (tmp_path / ".run").iterdir()
    pids = json.loads((run_dir / "pids.json").read_text())
    assert set(pids) == {
        "sim-sx", "sim-azuro", "orchestrator", "heartbeat", "balance-watcher",
        "alertmanager", "prometheus", "engine",
        "anvil-sx_rollup", "anvil-arbitrum", "anvil-polygon",
    }  # fmt: skip
    assert all(pid_alive(p) for p in pids.values())
    while time.monotonic() < deadline:  # the first summary line, printed in a pipe
        line = proc.stdout.readline()
        lines.append(line)
        if " state=" in line or not line:
            break
    proc.send_signal(signal.SIGTERM)
    rest, _ = proc.communicate(timeout=40)
    output = "".join(lines) + rest
    assert proc.returncode == 0, output
    assert "none left running" in output and "stopped by SIGTERM" in output
    assert not [p for p in pids.values() if pid_alive(p) or group_alive(p)]
    for name in ("orchestrator", "heartbeat", "engine", "prometheus"):
        assert (run_dir / "logs" / f"{name}.log").is_file()
    assert (run_dir / "secrets" / "admin_token").stat().st_mode & 0o777 == 0o600
    assert " state=" in output  # the summary line printed in a pipe


def test_unknown_scenario_and_bad_duration_exit_2_before_starting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    loaded = load_config(CONFIG, {}, ())
    assert run_session(loaded, config_dir=CONFIG, scenario="meteor", duration_s=None) == 2
    assert "--scenario 'meteor' is unknown; choose one of slow-accept" in capsys.readouterr().err
    assert run_session(loaded, config_dir=CONFIG, scenario=None, duration_s=0) == 2
    assert "--duration-s 0: give a positive number" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert run_evidence(loaded, config_dir=CONFIG, out=blocker) == 2
    assert f"--out {blocker} is a file" in capsys.readouterr().err
    assert not (tmp_path / ".run").exists()


def test_run_dir_layout_tokens_and_ports(tmp_path: Path) -> None:
    now = datetime(2026, 11, 26, 13, 50, 58, tzinfo=UTC)
    first, second = RunDir.create(tmp_path, now), RunDir.create(tmp_path, now)
    assert (first.root.name, second.root.name) == (
        "demo-20261126T135058Z",
        "demo-20261126T135058Z-1",
    )
    tokens = first.write_tokens()
    assert tokens.admin != tokens.pause and len(tokens.admin) >= 32
    for path, value in ((tokens.admin_file, tokens.admin), (tokens.pause_file, tokens.pause)):
        assert path.read_text() == value + "\n" and path.stat().st_mode & 0o777 == 0o600
    assert first.secrets_dir.stat().st_mode & 0o777 == 0o700
    ports = Ports.allocate()
    values = list(vars(ports).values())
    assert len(set(values)) == len(values) == 8


def test_children_get_no_arbqos_settings_or_tokens_from_the_caller() -> None:
    env = {
        "PATH": "/usr/bin",
        "ARBQOS__ENDPOINTS__SX_API_URL": "https://api.sx.bet",
        "ARBQOS_ADMIN_TOKEN": "secret",
        "ARBQOS_PAUSE_TOKEN_FILE": "/etc/arbqos/pause_token",
        "ARBQOS_ALLOW_NON_LOOPBACK_METRICS": "1",
    }
    assert child_env(env, {"ARBQOS_PAUSE_TOKEN_FILE": "/run/p"}) == {
        "PATH": "/usr/bin",
        "ARBQOS_PAUSE_TOKEN_FILE": "/run/p",
    }


@pytest.mark.slow
def test_a_child_sees_only_the_arbqos_variables_it_was_given_also_after_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARBQOS__ENDPOINTS__SX_API_URL", "https://api.sx.bet")
    monkeypatch.setenv("ARBQOS_PAUSE_TOKEN", "from-the-caller")
    kids = Children(tmp_path, child_env(os.environ, {}))
    show = "import os; print(sorted(k for k in os.environ if k.startswith('ARBQOS')))"
    proc = kids.start("probe", [sys.executable, "-c", show], {"ARBQOS_PAUSE_TOKEN_FILE": "/p"})
    assert proc.proc is not None and proc.proc.wait(10) == 0
    kids.restart("probe").proc.wait(10)  # type: ignore[union-attr]
    assert proc.log_path.read_text().splitlines() == ["['ARBQOS_PAUSE_TOKEN_FILE']"] * 2
    (ended,) = kids.crashed()  # a child that should run and exits, even with 0, is reported
    assert (ended.name, ended.exit_code) == ("probe", 0)
