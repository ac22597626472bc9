"""The `arbqos` command as a child process: a one-shot run, or a service started and stopped."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from arbqos_harness.process import ManagedProcess, wait_for_http
from tests.support.env import child_environ

ARBQOS = str(Path(sys.executable).with_name("arbqos"))
"""The console script installed beside the interpreter that runs the tests."""


def arbqos_argv(*args: str) -> list[str]:
    """argv of `arbqos ARGS...` (the installed script, else `python -m arbqos`)."""
    if Path(ARBQOS).exists():
        return [ARBQOS, *args]
    return [sys.executable, "-m", "arbqos", *args]


def run_arbqos(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout_s: float = 60.0,
) -> subprocess.CompletedProcess[str]:
    """Run `arbqos ARGS...` to its end; its environment has no ARBQOS* but those in `env`."""
    return subprocess.run(
        arbqos_argv(*args),
        env=child_environ(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def start_arbqos(
    name: str,
    *args: str,
    workdir: Path,
    env: Mapping[str, str] | None = None,
    ready_url: str | None = None,
    timeout_s: float = 20.0,
) -> ManagedProcess:
    """Start `arbqos ARGS...` in `workdir` (log in workdir/logs/NAME.log), ready when
    `ready_url` answers 200; the caller stops it. Fails with the log's tail if it never is."""
    proc = ManagedProcess(
        name,
        arbqos_argv(*args),
        workdir / "logs",
        env=child_environ(env),
        cwd=workdir,
        inherit_env=False,
    ).start()
    if ready_url is not None:
        try:
            wait_for_http(ready_url, timeout_s=timeout_s)
        except TimeoutError as err:
            proc.stop()
            raise AssertionError(f"{name}: {err}\n{proc.tail()}") from None
    return proc


@contextlib.contextmanager
def arbqos_service(
    name: str,
    *args: str,
    workdir: Path,
    env: Mapping[str, str] | None = None,
    ready_url: str | None = None,
    timeout_s: float = 20.0,
) -> Iterator[ManagedProcess]:
    """`start_arbqos()` as a context manager: the service is stopped (TERM, then KILL) after."""
    proc = start_arbqos(
        name, *args, workdir=workdir, env=env, ready_url=ready_url, timeout_s=timeout_s
    )
    try:
        yield proc
    finally:
        proc.stop()
