"""Fixtures for the generator tests: the repo config, a rendered tree, a tool runner."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from arbqos.config import AlertingConfig, ArbqosConfig, load_config
from arbqos.generators import render_all
from tests.conftest import REPO_ROOT

ToolRunner = Callable[..., subprocess.CompletedProcess[str]]


def run_tool(argv: Sequence[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run promtool/amtool with a hard timeout; output captured as text."""
    return subprocess.run(
        list(argv), cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture(scope="session")
def repo_config() -> ArbqosConfig:
    """The committed configuration, without environment or CLI layers."""
    return load_config(REPO_ROOT / "config", {}, ()).config


def write_tree(files: dict[str, str], root: Path) -> Path:
    """Write rendered files under `root`."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def rendered_root(tmp_path_factory: pytest.TempPathFactory, repo_config: ArbqosConfig) -> Path:
    """The repo config rendered into a fresh tree whose pause token file exists."""
    root = tmp_path_factory.mktemp("rendered")
    token = root / "secrets" / "pause_token"
    token.parent.mkdir()
    token.write_text("pause-token-for-tests\n")
    alerting = repo_config.alerting.model_copy(update={"pause_token_file": str(token)})
    cfg = repo_config.model_copy(update={"alerting": alerting})
    return write_tree(render_all(cfg), root)


DIRECT_RECEIVERS = {
    "chat": {"type": "slack", "api_url_file": "secrets/slack_url"},
    "hook": {
        "type": "webhook",
        "url": "http://127.0.0.1:9/pager",
        "credentials_file": "secrets/pager_token",
        "alerts": ["ArbOrchestratorDown", "ArbAlertmanagerNotifyFailing", "ArbFillRatioLow"],
    },
    "mail": {
        "type": "email",
        "to": "ops@example.org",
        "sender": "arbqos@example.org",
        "smarthost": "127.0.0.1:25",
        "username": "arbqos",
        "password_file": "secrets/smtp_password",
    },
}


@pytest.fixture(scope="session")
def direct_root(tmp_path_factory: pytest.TempPathFactory, repo_config: ArbqosConfig) -> Path:
    """The repo config plus three direct receivers and a default webhook, rendered."""
    root = tmp_path_factory.mktemp("rendered_direct")
    secrets = root / "secrets"
    secrets.mkdir()
    receivers = {}
    for name, receiver in DIRECT_RECEIVERS.items():
        receivers[name] = {
            k: str(root / v) if k.endswith("_file") else v for k, v in receiver.items()
        }
        for key, value in receivers[name].items():
            if key.endswith("_file"):
                Path(value).write_text("secret-for-tests\n")
    data = repo_config.alerting.model_dump(mode="json")
    data.update(
        pause_token_file=str(secrets / "pause_token"),
        direct_receivers=receivers,
        default_webhook_url="http://127.0.0.1:9/default",
    )
    (secrets / "pause_token").write_text("pause-token-for-tests\n")
    cfg = repo_config.model_copy(update={"alerting": AlertingConfig.model_validate(data)})
    return write_tree(render_all(cfg), root)


class Recorder(BaseHTTPRequestHandler):
    """Records every POST (path, Authorization header, JSON body); 404 for everything else."""

    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.received.append(
            {
                "path": self.path,
                "auth": self.headers.get("Authorization"),
                "body": json.loads(body),
                "at": time.monotonic(),
                "wall": time.time(),
            }
        )
        self.send_response(200)
        self.end_headers()

    def do_GET(self) -> None:
        self.send_response(404)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def _serve() -> Iterator[tuple[int, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Handler", (Recorder,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], received
    server.shutdown()
    server.server_close()


@pytest.fixture
def webhook() -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """A loopback recorder standing in for the orchestrator webhook: (port, requests)."""
    yield from _serve()


@pytest.fixture
def direct_sink() -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """A second loopback recorder, for the receivers that bypass the orchestrator."""
    yield from _serve()
