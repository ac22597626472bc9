"""A loopback stand-in for the orchestrator's `POST /v1/pause` that records arrival times."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support.wait import eventually


@dataclass
class Arrival:
    at: float
    """time.monotonic() when the request line was read."""
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class PauseServer:
    """Answers each request with the next scripted status (then 200); records every arrival."""

    statuses: list[int] = field(default_factory=list)
    arrivals: list[Arrival] = field(default_factory=list)
    url: str = ""
    event: threading.Event = field(default_factory=threading.Event)

    def wait_for(self, count: int, timeout_s: float = 5.0) -> list[Arrival]:
        """The arrivals once there are `count` (or all there are after `timeout_s`)."""
        with contextlib.suppress(AssertionError):
            eventually(lambda: len(self.arrivals) >= count, timeout_s, 0.005)
        return self.arrivals


@pytest.fixture
def pause_server() -> Iterator[PauseServer]:
    """Serve `POST /v1/pause` on a free loopback port for the duration of one test."""
    state = PauseServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            at = time.monotonic()
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            state.arrivals.append(Arrival(at, self.path, dict(self.headers), body))
            status = state.statuses.pop(0) if state.statuses else 200
            payload = json.dumps({"state": "paused", "changed": True}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            state.event.set()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
