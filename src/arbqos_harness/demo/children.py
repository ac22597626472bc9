"""Child processes of the demo: start, wait until ready, notice crashes, stop every one."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from arbqos_harness.process import ManagedProcess

TAIL_LINES = 12


@dataclass(frozen=True)
class Crash:
    """A child that exited while it should run: its name, exit code and last output lines."""

    name: str
    exit_code: int | None
    tail: str
    log_path: Path

    def report(self) -> str:
        """A multi-line message for the terminal."""
        code = self.exit_code
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        lines = [f"{self.name} stopped unexpectedly ({how}); last lines of {self.log_path}:"]
        lines += [f"  | {line}" for line in self.tail.splitlines()] or ["  | (no output)"]
        return "\n".join(lines)


def child_env(env: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """The environment of a child: `env` without any `ARBQOS*` variable, plus `extra`.

    The demo writes its effective config to the run directory and hands each child its own
    token files, so `ARBQOS__*` layers (which could point a child at real endpoints), the
    caller's tokens and other arbqos switches are left out.
    """
    kept = {k: v for k, v in env.items() if not k.startswith("ARBQOS")}
    return {**kept, **extra}


class Children:
    """Named child processes in start order; crashes are reported unless a stop was planned.

    >>> kids = Children(run.logs_dir, env)
    >>> kids.start("orchestrator", [python, "-m", "arbqos", "orchestrator", ...])
    >>> kids.crashed()        # [] while everything runs
    >>> kids.stop_all()
    """

    def __init__(self, log_dir: Path, env: Mapping[str, str], cwd: Path | None = None) -> None:
        self._log_dir = log_dir
        self._env = dict(env)
        self._cwd = cwd
        self._procs: dict[str, ManagedProcess] = {}
        self._planned_down: set[str] = set()
        self._specs: dict[str, tuple[list[str], dict[str, str]]] = {}
        self.pids_seen: dict[str, list[int]] = {}
        """Every PID each child ever had (restarts included), for leftover checks."""

    @property
    def names(self) -> list[str]:
        """Children in start order."""
        return list(self._procs)

    def get(self, name: str) -> ManagedProcess:
        """The process called `name`."""
        try:
            return self._procs[name]
        except KeyError:
            raise KeyError(f"no child named {name!r}; children: {self.names}") from None

    def start(
        self, name: str, argv: Sequence[str], extra_env: Mapping[str, str] | None = None
    ) -> ManagedProcess:
        """Start a child (its output goes to `<log_dir>/<name>.log`)."""
        extra = dict(extra_env or {})
        self._specs[name] = (list(argv), extra)
        env = {**self._env, **extra}
        proc = ManagedProcess(
            name, argv, self._log_dir, env=env, cwd=self._cwd, inherit_env=False
        ).start()
        self._procs[name] = proc
        self._planned_down.discard(name)
        self.pids_seen.setdefault(name, []).append(proc.pid)
        return proc

    def adopt(self, proc: ManagedProcess) -> None:
        """Supervise a process started elsewhere (e.g. by PrometheusStack)."""
        self._procs[proc.name] = proc
        self.pids_seen.setdefault(proc.name, []).append(proc.pid)

    def kill(self, name: str) -> None:
        """SIGKILL a child on purpose (a fault scenario); it is not reported as a crash."""
        self._planned_down.add(name)
        self.get(name).kill()

    def restart(self, name: str) -> ManagedProcess:
        """Stop a child if it runs and start it again with the same command."""
        old = self.get(name)
        self._planned_down.add(name)
        old.stop()
        argv, extra = self._specs[name]
        return self.start(name, argv, extra)

    def stop(self, name: str) -> None:
        """Stop a child on purpose (a fault scenario); it is not reported as a crash."""
        self._planned_down.add(name)
        self.get(name).stop()

    def start_again(self, name: str) -> ManagedProcess:
        """Start a child stopped by `stop` (or adopted) with its own command again."""
        proc = self.get(name)
        if proc.alive():
            return proc
        proc.start()
        self._planned_down.discard(name)
        self.pids_seen.setdefault(name, []).append(proc.pid)
        return proc

    def freeze(self, name: str) -> None:
        """SIGSTOP a child's process group: alive, sockets open, answering nothing."""
        os.killpg(self.get(name).pid, signal.SIGSTOP)

    def thaw(self, name: str) -> None:
        """SIGCONT a child frozen by `freeze`."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.get(name).pid, signal.SIGCONT)

    def crashed(self) -> list[Crash]:
        """Children that exited although no stop was planned."""
        found = []
        for name, proc in self._procs.items():
            if name in self._planned_down or proc.proc is None or proc.alive():
                continue
            found.append(Crash(name, proc.proc.returncode, proc.tail(TAIL_LINES), proc.log_path))
        return found

    def stop_all(self, timeout_s: float = 5.0) -> dict[str, int | None]:
        """Stop every child, last started first; return the exit codes."""
        codes: dict[str, int | None] = {}
        for name in reversed(self.names):
            self._planned_down.add(name)
            if self._procs[name].alive():
                self.thaw(name)  # a frozen child would hold SIGTERM until the SIGKILL
            codes[name] = self._procs[name].stop(timeout_s)
        return codes


def pid_alive(pid: int) -> bool:
    """True when a process (or an unreaped zombie of ours) with `pid` exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state == "Z":
            return False
    return True


def group_alive(pgid: int) -> bool:
    """True while any process of the process group `pgid` exists."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def kill_leftovers(pids: Sequence[int], grace_s: float = 3.0) -> list[int]:
    """Give the groups of `pids` `grace_s` to exit, SIGKILL what is left; return those PIDs.

    A stopped leader may leave its group exiting for a moment (the npm `anvil` wrapper
    starts the real binary in the same group), so only what outlives the grace is killed.
    """
    deadline = time.monotonic() + grace_s
    alive = [p for p in pids if pid_alive(p) or group_alive(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if pid_alive(p) or group_alive(p)]
    for pid in alive:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    return alive
