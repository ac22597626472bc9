"""A loopback HTTP server that reads every request and holds it, unanswered, until released.

For "never blocks" and "gives up in time" tests: while the server holds a request, a caller
that waits on the answer cannot return, so "the caller returned and the server still holds
the request" proves the caller did not wait, whatever the machine's load.

>>> with HangingServer() as server:
...     notifier.request_pause(...)        # must return at once
...     assert server.wait_held(1)          # the request did arrive and is still held
...     server.release()                    # now answer it (and any later one)
"""

from __future__ import annotations

import json
import socketserver
import threading
from typing import Any

from tests.support.wait import eventually

MAX_HOLD_S = 60.0
"""A held request is dropped after this long, so no thread outlives a forgotten server."""


class HangingServer:
    """HTTP/1.1 on 127.0.0.1:<free port>; each request is held until `release()`."""

    def __init__(self, status: int = 200, body: Any = None) -> None:
        self.status = status
        self.body = {} if body is None else body
        self.received: list[tuple[str, str, bytes]] = []
        """(method, path, body) of every request read."""
        self.answered = 0
        """Requests released to an answer."""
        self._held = 0
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._closing = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def held(self) -> int:
        """Requests read and not answered (yet)."""
        with self._lock:
            return self._held

    def wait_held(self, count: int, timeout_s: float = 5.0) -> int:
        """Wait until at least `count` requests are held; return how many are."""
        return eventually(lambda: self.held >= count and self.held, timeout_s, what="held")

    def release(self) -> None:
        """Answer every held request, and every later one at once."""
        self._released.set()

    def start(self) -> HangingServer:
        """Listen in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Drop held requests unanswered, close the listener, end the thread."""
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> HangingServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _hold(self, method: str, path: str, body: bytes) -> bool:
        """Record a request, hold it; True if it is to be answered."""
        with self._lock:
            self.received.append((method, path, body))
            self._held += 1
        try:
            waited = 0.0
            while not self._closing.is_set() and waited < MAX_HOLD_S:
                if self._released.wait(0.05):
                    return not self._closing.is_set()
                waited += 0.05
            return False
        finally:
            with self._lock:
                self._held -= 1


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def _handler(owner: HangingServer) -> type[socketserver.StreamRequestHandler]:
    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            request_line = self.rfile.readline(65536).decode("latin-1")
            if not request_line.strip():
                return
            method, path, _ = [*request_line.split(" ", 2), "", ""][:3]
            length = 0
            while (line := self.rfile.readline(65536)) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            body = self.rfile.read(length) if length else b""
            if not owner._hold(method, path, body):
                return
            with owner._lock:
                owner.answered += 1  # counted before the bytes leave: the caller may be faster
            payload = json.dumps(owner.body).encode()
            self.wfile.write(
                f"HTTP/1.1 {owner.status} X\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                + payload
            )

    return Handler
