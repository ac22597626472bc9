"""Start, wait for and stop helper programs (anvil, prometheus, alertmanager, arbqos services)."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

from arbqos.net import LOOPBACK

logger = logging.getLogger(__name__)


def free_port(host: str = LOOPBACK) -> int:
    """Return a TCP port that is free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def find_tool(name: str) -> str:
    """Locate a program: `node_modules/.bin` of the working tree or the source tree, then PATH.

    Raises:
        FileNotFoundError: naming the places searched and the command that installs it.
    """
    candidates = [
        Path.cwd() / "node_modules" / ".bin" / name,
        Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / name,
    ]
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(
        f"{name} not found in node_modules/.bin or on PATH; run `make setup` "
        "(npm ci installs anvil and solcjs, apt installs prometheus and alertmanager)"
    )


def wait_for_port(host: str, port: int, timeout_s: float = 15.0) -> None:
    """Block until something accepts TCP connections on host:port."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout_s:.0f} s")


def wait_for_http(url: str, timeout_s: float = 15.0, expect_status: int = 200) -> None:
    """Block until `GET url` answers `expect_status`."""
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1.0) as response:  # noqa: S310 - loopback
                if response.status == expect_status:
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as err:
            last = f"HTTP {err.code}"
        except (OSError, urllib.error.URLError) as err:
            last = str(err)
        time.sleep(0.05)
    raise TimeoutError(f"{url} not ready after {timeout_s:.0f} s ({last})")


class ManagedProcess:
    """A child process with its output in a log file, stopped by PID (TERM, then KILL).

    >>> with ManagedProcess("anvil", [find_tool("anvil"), "--port", "8545"], log_dir) as proc:
    ...     wait_for_port("127.0.0.1", 8545)
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_dir: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        inherit_env: bool = True,
    ) -> None:
        """`env` is added to this process's environment, or replaces it with `inherit_env=False`."""
        self.name = name
        self.argv = list(argv)
        self.log_path = log_dir / f"{name}.log"
        self._env = dict(env) if env is not None else None
        self._cwd = cwd
        self._inherit_env = inherit_env
        self._log: IO[bytes] | None = None
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ManagedProcess:
        """Start the program in its own process group."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        env = self._env
        if env is not None and self._inherit_env:
            env = {**os.environ, **env}
        self.proc = subprocess.Popen(  # noqa: S603 - argv is built by arbqos, never a shell
            self.argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=self._cwd,
            start_new_session=True,
        )
        logger.info("started %s", self.name, extra={"pid": self.proc.pid, "argv": self.argv[:3]})
        return self

    @property
    def pid(self) -> int:
        """PID of the running child."""
        if self.proc is None:
            raise RuntimeError(f"{self.name} was not started")
        return self.proc.pid

    def alive(self) -> bool:
        """True while the child runs."""
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout_s: float = 5.0) -> int | None:
        """Send SIGTERM to the child's group, SIGKILL after `timeout_s`; return the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=timeout_s)
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL the child at once (crash simulation)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def tail(self, lines: int = 20) -> str:
        """Return the last lines of the child's output, for error messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> ManagedProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
