"""Loopback fakes for heartbeat tests: an HTTP/1.1 server in a thread, a JSON-RPC chain, venues.

Every fake can misbehave on demand (`mode`): `hang` (read the request, never answer), `drip`
(answer one byte at a time, slowly), `500`, `garbage` (200 with a body that is not JSON),
`close` (drop the connection), `huge` (a 50 MB JSON answer with its Content-Length) and
`huge_stream` (the same without a length, delimited by closing the connection). They speak
the documented shapes in tests/testdata/samples.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import encode

from arbqos.chain.abi import LATEST_ROUND_DATA
from tests.conftest import SAMPLES

MODES = ("ok", "hang", "drip", "500", "garbage", "close", "huge", "huge_stream")
HUGE_BYTES = 50 * 1024 * 1024
_CHUNK = b"0" * (256 * 1024)
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 500: "Error"}


@dataclass
class Request:
    """One request as the server read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass
class Reply:
    """How to answer: a status and body, or a misbehaviour (`hang`, `drip`, `close`)."""

    status: int = 200
    body: Any = b""
    mode: str = "ok"
    drip_interval_s: float = 0.05
    delay_s: float = 0.0
    huge_bytes: int = 0
    """With mode `huge`/`huge_stream`: size of the JSON answer streamed in 256 KiB chunks."""

    def payload(self) -> bytes:
        """The body as bytes (dicts and lists become JSON)."""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


def misbehaviour(mode: str, drip_interval_s: float = 0.05) -> Reply | None:
    """The reply of a misbehaving fake, or None when it behaves (`ok`)."""
    if mode == "ok":
        return None
    if mode == "500":
        return Reply(500, {"error": "internal"})
    if mode == "garbage":
        return Reply(200, b"<html>\x00\xff not json")
    if mode in ("hang", "drip", "close"):
        body = {"jsonrpc": "2.0", "id": 1, "result": "0x1"}
        return Reply(200, body, mode=mode, drip_interval_s=drip_interval_s)
    if mode in ("huge", "huge_stream"):
        return Reply(200, mode=mode, huge_bytes=HUGE_BYTES)
    raise ValueError(f"unknown fake mode {mode!r}; one of {MODES}")


class LoopbackServer:
    """An HTTP/1.1 server on 127.0.0.1 with its own event loop in a thread.

    >>> with LoopbackServer(chain.handle) as server:
    ...     server.url  # http://127.0.0.1:<port>
    """

    def __init__(self, handler: Callable[[Request], Reply], port: int = 0) -> None:
        self.handler = handler
        self.port = port
        self.requests: list[Request] = []
        self.holding = 0
        """Requests read and held unanswered right now (`hang`)."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.Task[Any]] = set()

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LoopbackServer:
        """Listen and serve in the background."""
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        future.result(timeout=5)
        return self

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        """Close the listener and every open connection, then end the thread."""

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._conns):
                task.cancel()
            await asyncio.sleep(0)

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=5)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
        self._loop.close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._conns.discard(task)
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        line = await reader.readline()
        if not line.strip():
            return False
        method, path, _ = line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
            key, _, value = header.decode("latin-1").partition(":")
            headers[key.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        request = Request(method, path, headers, body)
        self.requests.append(request)
        reply = self.handler(request)
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.mode == "hang":
            self.holding += 1
            try:
                await asyncio.Event().wait()
            finally:
                self.holding -= 1
        if reply.mode == "close":
            return False
        if reply.mode in ("huge", "huge_stream"):
            await _write_huge(writer, reply.huge_bytes, announce=reply.mode == "huge")
            return False
        payload = reply.payload()
        head = (
            f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        ).encode()
        if reply.mode == "drip":
            writer.write(head)
            for index in range(len(payload)):
                await writer.drain()
                await asyncio.sleep(reply.drip_interval_s)
                writer.write(payload[index : index + 1])
        else:
            writer.write(head + payload)
        await writer.drain()
        return True


async def _write_huge(writer: asyncio.StreamWriter, size: int, *, announce: bool) -> None:
    """Stream a valid JSON-RPC answer of `size` bytes whose result is one long hex string."""
    head, tail = b'{"jsonrpc":"2.0","id":1,"result":"0x', b'"}'
    length = f"Content-Length: {size}\r\n" if announce else "Connection: close\r\n"
    writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{length}\r\n".encode())
    writer.write(head)
    left = size - len(head) - len(tail)
    while left > 0:
        piece = _CHUNK[: min(left, len(_CHUNK))]
        writer.write(piece)
        left -= len(piece)
        await writer.drain()
    writer.write(tail)
    await writer.drain()


@dataclass
class FeedState:
    """A Chainlink-style sequencer uptime feed (answer 0 up, 1 down)."""

    address: str = "0x000000000000000000000000000000000000feed"
    answer: int = 0
    started_at: int = 1_700_000_000
    round_id: int = (1 << 64) | 42
    updated_at: int | None = None
    """Last refresh of the round (default: 3 s after `started_at`)."""

    def encoded(self) -> str:
        """`latestRoundData()` return data as hex."""
        updated = self.started_at + 3 if self.updated_at is None else self.updated_at
        words = [self.round_id, self.answer, self.started_at, updated, self.round_id]
        return "0x" + encode(["uint80", "int256", "uint256", "uint256", "uint80"], words).hex()


@dataclass
class FakeChain:
    """A JSON-RPC node: chain id, a head block that can move or stall, gas price, a feed."""

    chain_id: int
    head: int = 1000
    head_age_s: float = 1.0
    gas_price_wei: int = 30_000_000_000
    feed: FeedState | None = None
    mode: str = "ok"
    drip_interval_s: float = 0.05
    """Seconds between two bytes in `drip` mode."""
    rpc_error: str | None = None
    """When set, every call answers a JSON-RPC error with this message."""
    calls: list[str] = field(default_factory=list)

    def handle(self, request: Request) -> Reply:
        """Answer one JSON-RPC request."""
        bad = misbehaviour(self.mode, self.drip_interval_s)
        if bad is not None:
            return bad
        call = request.json()
        method = call["method"]
        self.calls.append(method)
        if self.rpc_error is not None:
            return self._error(call, -32000, self.rpc_error)
        if method == "eth_chainId":
            return self._result(call, hex(self.chain_id))
        if method == "eth_blockNumber":
            return self._result(call, hex(self.head))
        if method == "eth_getBlockByNumber":
            stamp = int(time.time() - self.head_age_s)
            return self._result(call, {"number": hex(self.head), "timestamp": hex(stamp)})
        if method == "eth_gasPrice":
            return self._result(call, hex(self.gas_price_wei))
        if method == "eth_call":
            target = call["params"][0]
            is_feed = self.feed is not None and target["to"].lower() == self.feed.address.lower()
            if is_feed and target["data"] == "0x" + LATEST_ROUND_DATA.hex():
                assert self.feed is not None
                return self._result(call, self.feed.encoded())
            return self._error(call, 3, "execution reverted")
        return self._error(call, -32601, f"method {method} not found")

    @staticmethod
    def _result(call: dict[str, Any], result: Any) -> Reply:
        return Reply(200, {"jsonrpc": "2.0", "id": call["id"], "result": result})

    @staticmethod
    def _error(call: dict[str, Any], code: int, message: str) -> Reply:
        return Reply(
            200, {"jsonrpc": "2.0", "id": call["id"], "error": {"code": code, "message": message}}
        )


def sx_metadata() -> dict[str, Any]:
    """The documented `GET /metadata` example (verbatim sample)."""
    data: dict[str, Any] = json.loads((SAMPLES / "sx" / "metadata.json").read_text())
    return data


def subgraph_meta() -> dict[str, Any]:
    """The constructed `_meta` answer of graph-node (sample)."""
    data: dict[str, Any] = json.loads(
        (SAMPLES / "azuro" / "subgraph_meta_response.json").read_text()
    )
    return data


@dataclass
class FakeVenues:
    """SX Bet `/metadata`, Azuro `bet/orders/{id}` and an Azuro subgraph on one server."""

    mode: str = "ok"
    drip_interval_s: float = 0.05
    """Seconds between two bytes in `drip` mode."""
    metadata: dict[str, Any] = field(default_factory=sx_metadata)
    meta: dict[str, Any] = field(default_factory=subgraph_meta)
    meta_age_s: float | None = 5.0
    """Subgraph block timestamp = now - this; None answers `timestamp: null`."""
    old_graph_node: bool = False
    """Reject queries that ask for `block.timestamp`, as graph-node builds before it did."""
    order_status: int = 404

    def handle(self, request: Request) -> Reply:
        """Route one request."""
        bad = misbehaviour(self.mode, self.drip_interval_s)
        if bad is not None:
            return bad
        if request.method == "GET" and request.path == "/sx/metadata":
            return Reply(200, self.metadata)
        if request.method == "GET" and request.path.startswith("/azuro/bet/orders/"):
            return Reply(
                self.order_status,
                {"message": "not found"} if self.order_status == 404 else {"id": "x"},
            )
        if request.method == "POST" and request.path == "/subgraph":
            return self._subgraph(request)
        return Reply(404, {"error": f"no route {request.method} {request.path}"})

    def _subgraph(self, request: Request) -> Reply:
        query = request.json()["query"]
        if self.old_graph_node and "timestamp" in query:
            message = "Type `_Block_` has no field `timestamp`"
            return Reply(200, {"errors": [{"message": message}]})
        answer = json.loads(json.dumps(self.meta))
        block = answer["data"]["_meta"]["block"]
        if self.old_graph_node:
            block.pop("timestamp", None)
        elif self.meta_age_s is None:
            block["timestamp"] = None
        else:
            block["timestamp"] = int(time.time() - self.meta_age_s)
        return Reply(200, answer)


class FakeOrchestrator:
    """Records `POST /v1/heartbeat` reports; answers 401 without the expected bearer token."""

    def __init__(self, token: str = "pause-token") -> None:
        self.token = token
        self.reports: list[dict[str, Any]] = []
        self.auth: list[str] = []

    def handle(self, request: Request) -> Reply:
        """Accept a report."""
        if request.method != "POST" or request.path != "/v1/heartbeat":
            return Reply(404, {"detail": "not found"})
        self.auth.append(request.headers.get("authorization", ""))
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(401, {"detail": "pause token required"})
        self.reports.append(request.json())
        return Reply(200, {"state": "running", "changed": False, "down": []})
