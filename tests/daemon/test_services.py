"""The three real service commands in the scaffold: SIGTERM exits 0, bad tokens and hosts exit 2.

Every endpoint of the config is a closed loopback port, so nothing leaves this machine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from arbqos_harness.process import ManagedProcess, free_port
from tests.conftest import REPO_ROOT
from tests.daemon.test_lifecycle import START_FIELDS, STOP_FIELDS
from tests.services.conftest import ADMIN_TOKEN, PAUSE_TOKEN

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]

ARBQOS = str(REPO_ROOT / ".venv" / "bin" / "arbqos")
COMMANDS = ("orchestrator", "heartbeat", "balance-watcher")
BAD_TOKEN = "not a token"
"""A token file content the reader refuses (spaces); it must never be echoed."""


@pytest.fixture
def config_dir(tmp_path: Path, write_config: Callable[..., Path]) -> Path:
    """Every endpoint on a closed loopback port; logs and state under tmp_path; 1 s cycles."""
    dead = f"http://127.0.0.1:{free_port()}"
    chains = {
        name: {"chain_id": chain_id, "rpc_urls": [dead]}
        for name, chain_id in (("sx_rollup", 4162), ("arbitrum", 42161), ("polygon", 137))
    }
    return write_config(
        {
            "endpoints": {
                "chains": chains,
                "sx_api_url": dead,
                "azuro_api_url": dead,
                "azuro_subgraph_url": dead,
                "orchestrator_url": dead,
            },
            "heartbeat": {
                "interval_s": 1.0,
                "probe_timeout_s": 0.3,
                "retry_interval_s": 0.3,
                "metrics_port": free_port(),
                "log_path": str(tmp_path / "heartbeat.log"),
            },
            "balance_watcher": {
                "poll_interval_s": 1.0,
                "read_timeout_s": 0.3,
                "metrics_port": free_port(),
                "log_path": str(tmp_path / "balance_watcher.log"),
            },
            "orchestrator": {
                "port": free_port(),
                "state_dir": str(tmp_path / "state"),
                "alert_events_log": str(tmp_path / "alert_events.log"),
            },
        }
    )


def _env(**extra: str) -> dict[str, str]:
    """This environment without any ARBQOS variable, plus `extra`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ARBQOS")}
    return {**clean, **extra}


def _tokens(command: str) -> dict[str, str]:
    if command == "orchestrator":
        return {"ARBQOS_ADMIN_TOKEN": ADMIN_TOKEN, "ARBQOS_PAUSE_TOKEN": PAUSE_TOKEN}
    return {"ARBQOS_PAUSE_TOKEN": PAUSE_TOKEN}


def _run(command: str, config_dir: Path, *args: str, env: dict[str, str]) -> Any:
    argv = [ARBQOS, command, "--config-dir", str(config_dir), *args]
    return subprocess.run(
        argv, env=env, cwd=config_dir.parent, capture_output=True, text=True, timeout=30
    )


def _logged(proc: ManagedProcess, message: str, timeout_s: float = 20) -> dict[str, Any]:
    """Wait for the JSON log line whose `msg` is `message` in the process output."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for line in proc.log_path.read_text().splitlines():
            if line.startswith("{") and (record := json.loads(line))["msg"] == message:
                return dict(record)
        assert proc.alive(), proc.tail()
        time.sleep(0.05)
    raise AssertionError(f"no {message!r} line within {timeout_s} s:\n{proc.tail()}")


@pytest.mark.parametrize("command", COMMANDS)
def test_sighup_then_sigterm_exits_0_with_the_same_start_and_stop_fields(
    command: str, config_dir: Path, tmp_path: Path
) -> None:
    label = command.replace("-", " ")
    argv = [ARBQOS, command, "--config-dir", str(config_dir)]
    proc = ManagedProcess(
        command,
        argv,
        tmp_path / "out",
        env=_env(**_tokens(command)),
        cwd=tmp_path,
        inherit_env=False,
    )
    with proc:
        started = _logged(proc, f"{label} started")
        os.kill(proc.pid, signal.SIGHUP)
        if command == "heartbeat":
            _logged(proc, "SIGHUP: reloading the configuration")
        else:
            _logged(proc, f"SIGHUP ignored: restart the {label} to apply a new configuration")
        assert proc.alive()
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.proc is not None
        assert proc.proc.wait(timeout=20) == 0, proc.tail()
    stopped = _logged(proc, f"{label} stopped")
    assert set(started) >= START_FIELDS and set(stopped) >= STOP_FIELDS
    assert started["service"] == stopped["service"] == command.replace("-", "_")
    assert started["pid"] == stopped["pid"] == proc.pid
    assert started["metrics_url"].startswith("http://127.0.0.1:")
    assert (stopped["exit_code"], stopped["signal"]) == (0, "SIGTERM")


@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_token_file_exits_2_naming_the_variable_never_the_value(
    command: str, config_dir: Path, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(BAD_TOKEN + "\n")
    variable = "ARBQOS_ADMIN_TOKEN_FILE" if command == "orchestrator" else "ARBQOS_PAUSE_TOKEN_FILE"
    tokens = {k: v for k, v in _tokens(command).items() if k != variable.removesuffix("_FILE")}
    result = _run(command, config_dir, env=_env(**tokens, **{variable: str(token_file)}))
    assert result.returncode == 2, result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith(f"arbqos {command}: the ") and f"from {variable} contains" in last
    assert BAD_TOKEN not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("command", "section"), [("heartbeat", "heartbeat"), ("balance-watcher", "balance_watcher")]
)
def test_metrics_off_loopback_exits_2_without_the_allowance(
    command: str, section: str, config_dir: Path
) -> None:
    wildcard = ("--set", f"{section}.host=0.0.0.0")
    result = _run(command, config_dir, *wildcard, env=_env(**_tokens(command)))
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"arbqos {command}: {section}.host = '0.0.0.0': refusing to expose metrics on "
        "non-loopback host '0.0.0.0': set ARBQOS_ALLOW_NON_LOOPBACK_METRICS=1 on a trusted "
        "network, or bind 127.0.0.1"
    )
    typo = _env(**_tokens(command), ARBQOS_ALLOW_NON_LOOPBACK_METRICS="yes")
    result = _run(command, config_dir, *wildcard, env=typo)
    assert result.returncode == 2, result.stderr
    assert "ARBQOS_ALLOW_NON_LOOPBACK_METRICS='yes': expected 1" in result.stderr
