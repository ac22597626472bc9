"""Fixtures for the engine's side: the real `arbqos orchestrator`, stoppable and restartable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from arbqos_harness.process import ManagedProcess, free_port, wait_for_http
from tests.conftest import REPO_ROOT

PAUSE_TOKEN = "engine-test-pause-" + "p" * 24
ADMIN_TOKEN = "engine-test-admin-" + "a" * 24
ENV = {"ARBQOS_PAUSE_TOKEN": PAUSE_TOKEN}


class Orchestrator:
    """`arbqos orchestrator` on one loopback port and state dir; `stop()` and `start()` again."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: ManagedProcess | None = None
        self.starts = 0

    def start(self) -> Orchestrator:
        self.starts += 1
        argv = [str(REPO_ROOT / ".venv" / "bin" / "arbqos"), "orchestrator"]
        argv += ["--config-dir", str(REPO_ROOT / "config"), "--port", str(self.port)]
        argv += ["--state-dir", str(self.workdir / "state")]
        env = {"ARBQOS_PAUSE_TOKEN": PAUSE_TOKEN, "ARBQOS_ADMIN_TOKEN": ADMIN_TOKEN}
        name = f"orchestrator-{self.starts}"
        self.proc = ManagedProcess(name, argv, self.workdir / "logs", env=env, cwd=self.workdir)
        self.proc.start()
        try:
            wait_for_http(f"{self.url}/healthz", timeout_s=20)
        except TimeoutError:
            raise AssertionError(self.proc.tail()) from None
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None

    def status(self) -> dict[str, object]:
        return dict(httpx.get(f"{self.url}/v1/status", timeout=5).json())

    def resume(self) -> None:
        answer = httpx.post(
            f"{self.url}/v1/resume",
            json={"force": True, "detail": "test"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=5,
        )
        assert answer.status_code == 200, answer.text

    def overrides(self, *more: str) -> list[str]:
        """`--set` overrides pointing the engine here, with its own free metrics port."""
        return [
            f"endpoints.orchestrator_url={self.url}",
            f"alerting.engine_target=127.0.0.1:{free_port()}",
            *more,
        ]


@pytest.fixture
def orchestrator(tmp_path: Path) -> Iterator[Orchestrator]:
    """A real orchestrator with a fresh state directory, stopped after the test."""
    orch = Orchestrator(tmp_path).start()
    try:
        yield orch
    finally:
        orch.stop()
