"""The loopback notification sink: records, JSON-lines log, fail and hang modes, waiting."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from arbqos_harness.process import free_port, wait_for_port
from arbqos_harness.sink import NotificationSink


def test_records_requests_in_memory_and_as_json_lines(tmp_path: Path) -> None:
    log = tmp_path / "monitoring" / "notifications.log"
    with NotificationSink(log_path=log) as sink:
        assert sink.apprise_url("/ops") == f"json://127.0.0.1:{sink.port}/ops"
        answer = httpx.post(f"{sink.url}/ops", json={"title": "T", "message": "M", "type": "info"})
        assert answer.status_code == 200
        httpx.post(f"{sink.url}/bot1:x/sendMessage", json={"chat_id": 1, "text": "tg"})
        httpx.post(f"{sink.url}/form", data={"text": "formed"})
        httpx.get(f"{sink.url}/ping")
        records = sink.wait_for(4)
    assert [r.text for r in records] == ["T\r\nM", "tg", "formed", ""]
    assert [(r.method, r.mode) for r in records] == [("POST", "ok")] * 3 + [("GET", "ok")]
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["path"] for line in lines] == ["/ops", "/bot1:x/sendMessage", "/form", "/ping"]
    assert lines[0]["json"]["message"] == "M" and lines[0]["ts"].endswith("Z")


def test_fail_mode_answers_the_status_then_recovers() -> None:
    with NotificationSink() as sink:
        sink.fail_next(2, status=503)
        codes = [httpx.post(sink.url, json={}).status_code for _ in range(3)]
        assert codes == [503, 503, 200]
        assert [r.mode for r in sink.records] == ["fail", "fail", "ok"]


def test_hang_mode_holds_requests_until_release() -> None:
    with NotificationSink() as sink:
        sink.hang()
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(sink.url, json={}, timeout=0.3)
        answers: list[int] = []
        caller = threading.Thread(target=lambda: answers.append(httpx.get(sink.url).status_code))
        caller.start()
        sink.wait_for(2)
        time.sleep(0.1)
        assert answers == []  # still held
        sink.release()
        caller.join(5)
        assert answers == [200]
        assert [r.mode for r in sink.records] == ["hang", "hang"]


def test_wait_for_names_what_arrived_on_timeout() -> None:
    with NotificationSink() as sink:
        httpx.get(f"{sink.url}/one")
        with pytest.raises(
            TimeoutError,
            match=r"1 of 2 wanted requests after 0.2 s; received: \['GET /one \(ok\)'\]",
        ):
            sink.wait_for(2, timeout_s=0.2)
        only_ops = sink.wait_for(0, where=lambda r: r.path == "/ops")
        assert only_ops == []


def test_refuses_a_non_loopback_address() -> None:
    with pytest.raises(ValueError, match=r"binds loopback only, not '0\.0\.0\.0'"):
        NotificationSink(host="0.0.0.0")


@pytest.mark.slow
def test_runs_as_a_process_until_sigterm(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "notifications.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "arbqos_harness.sink", "--port", str(port), "--log", str(log)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port("127.0.0.1", port)
        httpx.post(f"http://127.0.0.1:{port}/demo", json={"title": "t", "message": "m"})
    finally:
        process.terminate()
        assert process.wait(10) == 0
    assert json.loads(log.read_text())["path"] == "/demo"
