"""`arbqos demo | reader` where the reader goes away: every process of the run is stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


def running_under(run_dir: Path) -> list[str]:
    """Command lines of processes that mention the run directory."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(run_dir) in cmdline and alive(int(proc.name)):
            found.append(cmdline)
    return found


@pytest.mark.parametrize("how", ["reader_exits", "sighup"])
def test_demo_stops_everything_when_its_output_goes_away(tmp_path: Path, how: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARBQOS")}
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "arbqos",
            "demo",
            "--duration-s",
            "600",
            "--config-dir",
            str(REPO_ROOT / "config"),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    assert demo.stdout is not None
    run_dir: Path | None = None
    deadline = time.monotonic() + 150
    for raw in demo.stdout:
        line = raw.decode(errors="replace")
        if line.startswith("run directory "):
            run_dir = Path(line.split(" ", 2)[2].strip())
        if line.startswith("arbqos demo running") or time.monotonic() > deadline:
            break
    assert run_dir is not None and (run_dir / "pids.json").exists(), "the stack did not start"
    pids = json.loads((run_dir / "pids.json").read_text())
    assert all(alive(pid) for pid in pids.values())
    if how == "reader_exits":
        demo.stdout.close()  # the pipe's reader goes away; the next write breaks
    else:
        demo.send_signal(signal.SIGHUP)  # the terminal closed
    code = demo.wait(timeout=90)
    left = [name for name, pid in pids.items() if alive(pid)]
    assert left == [], f"left running after the demo exited {code}: {left}"
    assert running_under(run_dir) == []
    assert code in (0, 1)
