"""The real `arbqos orchestrator` process: kill -9 and restart keep the pause; bind/token checks."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from arbqos.clock import format_ts
from arbqos_harness.process import ManagedProcess, find_tool, free_port, wait_for_http
from tests.conftest import REPO_ROOT
from tests.services.conftest import ADMIN, ADMIN_TOKEN, PAUSE, PAUSE_TOKEN, am_alert, am_payload
from tests.support.cli import run_arbqos, start_arbqos
from tests.support.wait import eventually

CONFIG_DIR = str(REPO_ROOT / "config")
TOKEN_ENV = {"ARBQOS_ADMIN_TOKEN": ADMIN_TOKEN, "ARBQOS_PAUSE_TOKEN": PAUSE_TOKEN}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


def _start(tmp_path: Path, port: int, name: str) -> ManagedProcess:
    args = ["orchestrator", "--config-dir", CONFIG_DIR, "--port", str(port)]
    args += ["--state-dir", str(tmp_path / "state")]
    ready = f"http://127.0.0.1:{port}/healthz"
    return start_arbqos(name, *args, workdir=tmp_path, env=TOKEN_ENV, ready_url=ready)


@pytest.fixture(scope="module")
def orchestrator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ManagedProcess, str]]:
    """One real orchestrator shared by the tests that leave it running; cwd is its log dir."""
    workdir = tmp_path_factory.mktemp("orchestrator")
    port = free_port()
    proc = _start(workdir, port, "orchestrator")
    yield proc, f"http://127.0.0.1:{port}"
    proc.stop()


def test_kill_9_and_restart_keeps_pause_reasons_and_journal(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    first = _start(tmp_path, port, "orchestrator-1")
    try:
        with httpx.Client(base_url=base, timeout=5) as http:
            paused = http.post(
                "/v1/pause", json={"reason": "maintenance", "detail": "d"}, headers=ADMIN
            )
            assert paused.json() == {"state": "paused", "changed": True, "persisted": True}
            hook = http.post(
                "/v1/alertmanager", json=am_payload([am_alert(venue="sx")]), headers=PAUSE
            )
            assert hook.json()["results"][0]["action"] == "paused"
            before = http.get("/v1/status").json()
            journal = http.get("/v1/journal").json()["entries"]
            metrics = http.get("/metrics").text
    finally:
        first.kill()  # SIGKILL: no shutdown hook runs
    assert first.proc is not None and first.proc.returncode == -9
    assert 'arb_config_info{config_hash="' in metrics and 'service="orchestrator"' in metrics
    assert "arb_orchestrator_paused 1.0" in metrics

    second = _start(tmp_path, port, "orchestrator-2")
    try:
        with httpx.Client(base_url=base, timeout=5) as http:
            after = http.get("/v1/status").json()
            assert after["state"] == "paused"
            assert after["reasons"] == before["reasons"]
            assert {(r["source"], r["name"]) for r in after["reasons"]} == {
                ("manual", "maintenance"),
                ("alert", 'ArbFillRatioLow{venue="sx"}'),
            }
            assert after["since"] == before["since"]
            assert http.get("/v1/journal").json()["entries"] == journal
            assert "arb_orchestrator_paused 1.0" in http.get("/metrics").text
            assert http.post("/v1/resume", headers=ADMIN).status_code == 409
    finally:
        second.stop()
    events = (tmp_path / "monitoring" / "alert_events.log").read_text().splitlines()
    assert len(events) == 1 and '"action":"paused"' in events[0]


def _answer(sock: socket.socket) -> bytes:
    """Read one HTTP answer (headers and its Content-Length of body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def test_body_cap_over_a_real_socket(orchestrator: tuple[ManagedProcess, str]) -> None:
    proc, base = orchestrator
    port = int(base.rsplit(":", 1)[1])
    head = (
        "POST /v1/pause HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {PAUSE_TOKEN}\r\n"
    )
    body = b'{"reason":"x","detail":"' + b"d" * 200_000 + b'"}'
    chunked = b"".join(
        f"{len(body[i : i + 8192]):x}\r\n".encode() + body[i : i + 8192] + b"\r\n"
        for i in range(0, len(body), 8192)
    )
    # No Content-Length at all (chunked): cut off once the bytes read pass the cap.
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall((head + "Transfer-Encoding: chunked\r\n\r\n").encode())
        with contextlib.suppress(OSError):  # the server may close once it answered
            sock.sendall(chunked + b"0\r\n\r\n")
        answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"body_too_large" in answer
    # A declared length above the cap is refused before any body byte is sent.
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall((head + "Content-Length: 10000000\r\n\r\n").encode())
        answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    with httpx.Client(base_url=base, timeout=5) as http:
        assert http.get("/v1/status").json()["state"] == "running"
    assert proc.alive()


def _run(tmp_path: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    argv = ["orchestrator", "--config-dir", CONFIG_DIR, "--state-dir", str(tmp_path), *args]
    return run_arbqos(*argv, env=env, timeout_s=30)


def test_refuses_a_public_bind_without_a_pause_token(tmp_path: Path) -> None:
    port = str(free_port())
    env = {"ARBQOS_ADMIN_TOKEN": ADMIN_TOKEN}
    result = _run(tmp_path, "--host", "0.0.0.0", "--port", port, env=env)
    assert result.returncode == 2
    assert "refusing to bind 0.0.0.0" in result.stderr
    assert "ARBQOS_PAUSE_TOKEN" in result.stderr
    assert ADMIN_TOKEN not in result.stderr


def test_busy_port_is_a_clear_error(
    tmp_path: Path, orchestrator: tuple[ManagedProcess, str]
) -> None:
    _, base = orchestrator
    port = base.rsplit(":", 1)[1]
    result = _run(tmp_path / "other", "--port", port, env=TOKEN_ENV)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_real_alertmanager_pauses_and_resolves(
    tmp_path: Path, orchestrator: tuple[ManagedProcess, str]
) -> None:
    _, base = orchestrator
    token_file = tmp_path / "pause_token"
    token_file.write_text(PAUSE_TOKEN + "\n")
    config = {
        "route": {
            "receiver": "orchestrator",
            "group_by": ["alertname", "venue"],
            "group_wait": "0s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [
            {
                "name": "orchestrator",
                "webhook_configs": [
                    {
                        "url": f"{base}/v1/alertmanager",
                        "send_resolved": True,
                        "http_config": {
                            "authorization": {"type": "Bearer", "credentials_file": str(token_file)}
                        },
                    }
                ],
            }
        ],
    }
    (tmp_path / "alertmanager.yml").write_text(json.dumps(config))
    am_port = free_port()
    argv = [
        find_tool("prometheus-alertmanager"),
        f"--config.file={tmp_path / 'alertmanager.yml'}",
        f"--storage.path={tmp_path / 'am-data'}",
        f"--web.listen-address=127.0.0.1:{am_port}",
        "--cluster.listen-address=",
    ]
    alert = {
        "labels": {
            "alertname": "ArbFillRatioLow",
            "venue": "sx",
            "severity": "critical",
            "action": "pause",
            "instance": "127.0.0.1:9101",
        },
        "annotations": {"summary": "fill ratio 0.41 < 0.85"},
        "startsAt": format_ts(datetime.now(UTC) - timedelta(seconds=1)),
    }
    with ManagedProcess("alertmanager", argv, tmp_path / "logs") as am:
        am_url = f"http://127.0.0.1:{am_port}"
        wait_for_http(f"{am_url}/-/ready", timeout_s=20)
        with httpx.Client(timeout=5) as http:
            assert http.post(f"{am_url}/api/v2/alerts", json=[alert]).status_code == 200
            reasons = _wait_for(http, base, lambda s: s["state"] == "paused")
            assert [(r["source"], r["name"]) for r in reasons] == [
                ("alert", 'ArbFillRatioLow{venue="sx"}')
            ]
            ended = {**alert, "endsAt": format_ts(datetime.now(UTC))}
            assert http.post(f"{am_url}/api/v2/alerts", json=[ended]).status_code == 200
            _wait_for(http, base, lambda s: not s["reasons"][0]["active"])
            assert http.post(f"{base}/v1/resume", headers=ADMIN).json()["state"] == "running"
        assert am.alive(), am.tail()
    workdir = Path(orchestrator[0].log_path).parents[1]
    events = [
        json.loads(line)
        for line in (workdir / "monitoring" / "alert_events.log").read_text().splitlines()
    ]
    assert [e["action"] for e in events][:1] == ["paused"]
    assert "reason_resolved" in [e["action"] for e in events]
    assert len({e["fingerprint"] for e in events}) == 1


def _wait_for(
    http: httpx.Client, base: str, done: Callable[[dict[str, Any]], bool], timeout_s: float = 15
) -> list[dict[str, Any]]:
    """Poll /v1/status until `done(status)`; return its reasons."""

    def status() -> dict[str, Any]:
        answer: dict[str, Any] = http.get(f"{base}/v1/status").json()
        assert done(answer), answer
        return answer

    reasons: list[dict[str, Any]] = eventually(status, timeout_s, 0.05, what="status")["reasons"]
    return reasons
