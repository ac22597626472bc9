"""A loopback notification sink: an HTTP server on 127.0.0.1 that records every request.

Apprise delivers to it with `json://127.0.0.1:<port>/<path>` (the demo's channel), and tests
point other plugins at it too. Each request is kept in memory and appended as one JSON line
to `log_path` (`monitoring/notifications.log` in the demo). Tests wait for notices with
`wait_for(n)` and make the sink misbehave with `fail_next(n)` (answer 500) or `hang()` (hold
requests without answering until `release()`).

Run alone: `python -m arbqos_harness.sink --port 8999 --log monitoring/notifications.log`.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs

from arbqos.clock import Clock, SystemClock, format_ts
from arbqos.log import json_line
from arbqos.net import LOOPBACK, is_loopback

Mode = Literal["ok", "fail", "hang"]
MAX_BODY = 1_000_000
HANG_LIMIT_S = 300.0
"""A hung request is answered after this long even without `release()`."""


@dataclass(frozen=True)
class SinkRecord:
    """One request the sink received, and how it answered (`mode`)."""

    received_at: datetime
    method: str
    path: str
    content_type: str
    body: str
    json: Any
    """The parsed JSON body, or None."""
    mode: Mode

    @property
    def text(self) -> str:
        """The notification text: apprise JSON `title` + `message`, Telegram `text`, or body."""
        data = self.json if isinstance(self.json, dict) else {}
        if "message" in data:
            title = str(data.get("title") or "")
            return f"{title}\r\n{data['message']}" if title else str(data["message"])
        if "text" in data:
            return str(data["text"])
        form = parse_qs(self.body) if "form" in self.content_type else {}
        return form["text"][0] if "text" in form else self.body

    def to_json(self) -> dict[str, Any]:
        """The JSON-lines form."""
        return {
            "ts": format_ts(self.received_at),
            "method": self.method,
            "path": self.path,
            "content_type": self.content_type,
            "mode": self.mode,
            "text": self.text,
            "json": self.json,
        }


class NotificationSink:
    """Record HTTP requests on a loopback port; a thread serves them.

    >>> with NotificationSink(log_path=tmp / "notifications.log") as sink:
    ...     channel_url = sink.apprise_url("/ops")      # json://127.0.0.1:PORT/ops
    ...     records = sink.wait_for(1, timeout_s=10)
    """

    def __init__(
        self,
        *,
        host: str = LOOPBACK,
        port: int = 0,
        log_path: Path | None = None,
        clock: Clock | None = None,
    ) -> None:
        if not is_loopback(host):
            raise ValueError(f"the notification sink binds loopback only, not {host!r}")
        self._host = host
        self._clock = clock or SystemClock()
        self._log_path = log_path
        self._records: list[SinkRecord] = []
        self._cond = threading.Condition()
        self._fail_left = 0
        self._fail_status = 500
        self._hang = False
        self._release = threading.Event()
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="notification-sink", daemon=True
        )

    @property
    def port(self) -> int:
        """The TCP port it listens on."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`."""
        return f"http://{self._host}:{self.port}"

    def apprise_url(self, path: str = "/notify") -> str:
        """An apprise URL that delivers here as JSON: `json://127.0.0.1:<port><path>`."""
        return f"json://{self._host}:{self.port}{path}"

    def start(self) -> NotificationSink:
        """Serve in a daemon thread."""
        if self._log_path is not None:
            self._log_path.parent.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release hung requests and stop serving."""
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next `count` requests with `status` (recorded with mode `fail`)."""
        with self._cond:
            self._fail_left, self._fail_status = count, status

    def hang(self) -> None:
        """Hold every request from now on without answering, until `release()`."""
        with self._cond:
            self._hang = True
            self._release.clear()

    def release(self) -> None:
        """Answer the held requests (200) and stop holding new ones."""
        with self._cond:
            self._hang = False
            self._release.set()

    @property
    def records(self) -> list[SinkRecord]:
        """Every request so far, in arrival order."""
        with self._cond:
            return list(self._records)

    def wait_for(
        self,
        count: int,
        timeout_s: float = 10.0,
        where: Callable[[SinkRecord], bool] | None = None,
    ) -> list[SinkRecord]:
        """Wait until `count` records (matching `where`) arrived; return them all.

        Raises:
            TimeoutError: naming how many arrived and their paths.
        """
        deadline = time.monotonic() + timeout_s

        def chosen() -> list[SinkRecord]:
            return [r for r in self._records if where is None or where(r)]

        with self._cond:
            while len(chosen()) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    got = [f"{r.method} {r.path} ({r.mode})" for r in self._records]
                    raise TimeoutError(
                        f"notification sink: {len(chosen())} of {count} wanted requests after "
                        f"{timeout_s:g} s; received: {got or 'nothing'}"
                    )
                self._cond.wait(left)
            return chosen()

    def _record(self, method: str, path: str, content_type: str, raw: bytes) -> tuple[Mode, int]:
        """Keep one request; return how to answer it (mode and HTTP status)."""
        body = raw.decode("utf-8", errors="replace")
        try:
            parsed: Any = json.loads(body) if body else None
        except ValueError:
            parsed = None
        with self._cond:
            mode: Mode = "hang" if self._hang else "fail" if self._fail_left else "ok"
            if mode == "fail":
                self._fail_left -= 1
            record = SinkRecord(
                self._clock.now_utc(), method, path, content_type, body, parsed, mode
            )
            self._records.append(record)
            if self._log_path is not None:
                with self._log_path.open("a", encoding="utf-8") as log:
                    log.write(json_line(record.to_json()) + "\n")
            self._cond.notify_all()
            return mode, self._fail_status if mode == "fail" else 200

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
                raw = self.rfile.read(length) if length else b""
                mode, status = sink._record(
                    self.command, self.path, self.headers.get("Content-Type", ""), raw
                )
                if mode == "hang":
                    sink._release.wait(HANG_LIMIT_S)
                reply = json.dumps({"ok": status == 200, "result": {}}).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:  # the client gave up waiting (hang mode): nothing to answer
                    self.close_connection = True

            do_GET = do_POST = do_PUT = _handle

            def log_message(self, format: str, *args: Any) -> None:
                """Keep quiet: the records are the log."""

        return Handler

    def __enter__(self) -> NotificationSink:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """Run a sink until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=LOOPBACK)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True, help="JSON-lines file of requests")
    args = parser.parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with NotificationSink(host=args.host, port=args.port, log_path=args.log):
        print(f"notification sink on http://{args.host}:{args.port}, log {args.log}", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
