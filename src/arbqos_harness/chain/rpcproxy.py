"""A loopback JSON-RPC proxy in front of a local chain, with knobs that make it misbehave.

Public RPCs fail a fraction of a percent of requests, answer slowly, hang, or go away; the
heartbeat must ride out the first kinds and pause on the last. `RpcProxy` forwards every
request to its upstream node unless a knob says otherwise:

- `error_rate` (0-1): that share of requests fails, as `error_kind` says: `http_502` (a 502
  answer), `reset` (the connection is closed with a TCP reset) or `rpc_error` (a JSON-RPC
  error object, HTTP 200); `error_pattern` `random` draws each request independently (runs of
  failures happen), `even` fails exactly one request in every 1/error_rate (2 %: the 25th,
  75th, 125th... request), so a short run always sees the rate;
- `latency_s`: added before forwarding;
- `stall`: requests are read and never answered (until the knob is turned off);
- `down`: every connection is reset at once.

Knobs change at runtime, in process (`set_knobs`) or over HTTP: `POST /proxy/knobs` with a
JSON object, `GET /proxy/knobs` for the knobs and counters. The proxy runs its own event
loop in a daemon thread, so the demo and tests can drive it from synchronous code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import struct
import threading
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import httpx

from arbqos.net import LOOPBACK

ErrorKind = Literal["http_502", "reset", "rpc_error"]
ErrorPattern = Literal["random", "even"]
KNOBS_PATH = "/proxy/knobs"
MAX_REQUEST_BYTES = 1 << 20


@dataclass(frozen=True)
class ProxyKnobs:
    """How the proxy misbehaves right now (the defaults: not at all)."""

    error_rate: float = 0.0
    error_kind: ErrorKind = "http_502"
    error_pattern: ErrorPattern = "random"
    latency_s: float = 0.0
    stall: bool = False
    down: bool = False

    def changed(self, values: dict[str, Any]) -> ProxyKnobs:
        """A copy with `values` applied; raises ValueError naming a bad key or value."""
        unknown = sorted(set(values) - set(asdict(self)))
        if unknown:
            raise ValueError(f"unknown knob(s) {unknown}; known: {sorted(asdict(self))}")
        knobs = replace(self, **values)
        if not 0.0 <= float(knobs.error_rate) <= 1.0:
            raise ValueError(f"error_rate {knobs.error_rate!r}: expected 0 to 1")
        if float(knobs.latency_s) < 0:
            raise ValueError(f"latency_s {knobs.latency_s!r}: expected >= 0")
        if knobs.error_pattern not in ("random", "even"):
            raise ValueError(f"error_pattern {knobs.error_pattern!r}: expected random or even")
        if knobs.error_kind not in ("http_502", "reset", "rpc_error"):
            raise ValueError(
                f"error_kind {knobs.error_kind!r}: expected http_502, reset or rpc_error"
            )
        return knobs


@dataclass
class ProxyStats:
    """What the proxy did since it started."""

    requests: int = 0
    forwarded: int = 0
    injected_errors: int = 0
    stalled: int = 0
    refused: int = 0
    upstream_errors: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


class RpcProxy:
    """A misbehaving JSON-RPC proxy on loopback.

    >>> proxy = RpcProxy(chains.rpc_url("sx_rollup")).start()
    >>> proxy.set_knobs(error_rate=0.02)          # 2 % of requests fail
    >>> heartbeat_config_points_at(proxy.url)
    >>> proxy.stop()
    """

    def __init__(
        self, upstream: str, *, port: int = 0, seed: int = 0, timeout_s: float = 10.0
    ) -> None:
        self.upstream = upstream
        self.knobs = ProxyKnobs()
        self.stats = ProxyStats()
        self._port = port
        self._random = random.Random(seed)  # noqa: S311 - fault injection, not security
        self._timeout_s = timeout_s
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._http: httpx.AsyncClient | None = None
        self._unstall = asyncio.Event()
        self._error_credit = 0.5
        """`even` pattern: a request fails when this passes 1 (starting half way)."""
        self.port = 0

    @property
    def url(self) -> str:
        """The proxied RPC URL."""
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> RpcProxy:
        """Listen on loopback and start forwarding."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        """Stop listening and close every connection."""
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def set_knobs(self, **values: Any) -> ProxyKnobs:
        """Change knobs (e.g. `stall=True`); stalled requests are released when stall ends."""
        knobs = self.knobs.changed(values)
        self.knobs = knobs
        if not knobs.stall:
            self._loop.call_soon_threadsafe(self._unstall.set)
        return knobs

    def reset(self) -> None:
        """Back to forwarding everything."""
        self.set_knobs(**asdict(ProxyKnobs()))

    async def _start(self) -> None:
        self._http = httpx.AsyncClient(timeout=self._timeout_s)
        self._server = await asyncio.start_server(self._handle, LOOPBACK, self._port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _stop(self) -> None:
        self._unstall.set()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
        if self._http is not None:
            await self._http.aclose()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            if not writer.is_closing():
                writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        knobs = self.knobs
        if knobs.down:
            self.stats.refused += 1
            _reset(writer)
            return
        method, path, body = await _read_request(reader)
        if path.startswith(KNOBS_PATH):
            await self._control(method, body, writer)
            return
        self.stats.requests += 1
        if knobs.stall:
            self.stats.stalled += 1
            self._unstall.clear()
            await self._unstall.wait()
            writer.transport.abort()
            return
        if knobs.latency_s:
            await asyncio.sleep(knobs.latency_s)
        if knobs.error_rate and self._fails(knobs):
            self.stats.injected_errors += 1
            self.stats.by_kind[knobs.error_kind] = self.stats.by_kind.get(knobs.error_kind, 0) + 1
            await self._inject(knobs.error_kind, body, writer)
            return
        await self._forward(body, writer)

    def _fails(self, knobs: ProxyKnobs) -> bool:
        """Whether this request fails under `error_rate` and `error_pattern`."""
        if knobs.error_pattern == "random":
            return self._random.random() < knobs.error_rate
        self._error_credit += knobs.error_rate
        if self._error_credit < 1.0:
            return False
        self._error_credit -= 1.0
        return True

    async def _forward(self, body: bytes, writer: asyncio.StreamWriter) -> None:
        assert self._http is not None
        try:
            answer = await self._http.post(
                self.upstream, content=body, headers={"Content-Type": "application/json"}
            )
        except httpx.HTTPError:
            self.stats.upstream_errors += 1
            _reset(writer)
            return
        self.stats.forwarded += 1
        await _respond(writer, answer.status_code, answer.content)

    async def _inject(self, kind: ErrorKind, body: bytes, writer: asyncio.StreamWriter) -> None:
        if kind == "reset":
            _reset(writer)
        elif kind == "rpc_error":
            ident = _request_id(body)
            error = {"code": -32603, "message": "injected by the arbqos RPC proxy"}
            payload = json.dumps({"jsonrpc": "2.0", "id": ident, "error": error}).encode()
            await _respond(writer, 200, payload)
        else:
            await _respond(writer, 502, b'{"error":"bad gateway (injected)"}')

    async def _control(self, method: str, body: bytes, writer: asyncio.StreamWriter) -> None:
        if method == "POST":
            try:
                values = json.loads(body or b"{}")
                if not isinstance(values, dict):
                    raise ValueError("expected a JSON object of knobs")
                self.set_knobs(**values)
            except (ValueError, TypeError) as err:
                await _respond(writer, 400, json.dumps({"error": str(err)}).encode())
                return
        state = {"knobs": asdict(self.knobs), "stats": asdict(self.stats)}
        await _respond(writer, 200, json.dumps(state).encode())


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, bytes]:
    """Read one HTTP/1.1 request: (method, path, body)."""
    head = await reader.readuntil(b"\r\n\r\n")
    if len(head) > MAX_REQUEST_BYTES:
        raise ValueError("request head too large")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = lines[0].split(" ", 2)
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length > MAX_REQUEST_BYTES:
        raise ValueError("request body too large")
    body = await reader.readexactly(length) if length else b""
    return method, path, body


async def _respond(writer: asyncio.StreamWriter, status: int, body: bytes) -> None:
    reason = {200: "OK", 400: "Bad Request", 502: "Bad Gateway"}.get(status, "Status")
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    writer.write(head.encode("latin-1") + body)
    await writer.drain()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0), as a crashed or firewalled node does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _request_id(body: bytes) -> Any:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data.get("id") if isinstance(data, dict) else None
