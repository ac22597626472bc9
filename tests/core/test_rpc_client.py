"""JsonRpcClient: read-only allow-list, failover in order, error classes, no URL in errors."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from arbqos.chain.rpc import READ_ONLY_METHODS, JsonRpcClient, RpcFailure
from arbqos.errors import ForbiddenRpcMethod
from tests.support.servers import HangingServer
from tests.support.wait import returns_within

Responder = Callable[[dict[str, object]], tuple[int, bytes, float]]


class RecordingServer:
    """A loopback HTTP server that answers JSON-RPC with a responder and records requests."""

    def __init__(self, responder: Responder) -> None:
        self.requests: list[dict[str, object]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                status, payload, delay = responder(body)
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/key1234567890abcdefXYZ"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def ok(result: object, delay: float = 0.0) -> Responder:
    return lambda body: (
        200,
        json.dumps({"jsonrpc": "2.0", "id": body["id"], "result": result}).encode(),
        delay,
    )


@pytest.fixture
def servers() -> Iterator[Callable[[Responder], RecordingServer]]:
    started: list[RecordingServer] = []

    def start(responder: Responder) -> RecordingServer:
        server = RecordingServer(responder)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.mark.parametrize(
    "method",
    [
        "eth_sendTransaction",
        "eth_sendRawTransaction",
        "eth_sign",
        "eth_signTransaction",
        "eth_signTypedData_v4",
        "personal_sign",
        "personal_unlockAccount",
        "personal_sendTransaction",
        "anvil_setBalance",
        "evm_mine",
    ],
)
async def test_write_methods_are_refused_before_any_request(
    servers: Callable[[Responder], RecordingServer], method: str
) -> None:
    server = servers(ok("0x1"))
    async with httpx.AsyncClient() as http:
        rpc = JsonRpcClient([server.url], chain="polygon", http=http)
        with pytest.raises(ForbiddenRpcMethod, match="read-only allow-list"):
            await rpc.call(method, [])
    assert server.requests == []
    assert method not in READ_ONLY_METHODS


async def test_fails_over_in_order_and_remembers_the_endpoint(
    servers: Callable[[Responder], RecordingServer],
) -> None:
    broken = servers(lambda body: (500, b"oops", 0.0))
    good = servers(ok("0x89"))
    async with httpx.AsyncClient() as http:
        rpc = JsonRpcClient([broken.url, good.url], chain="polygon", http=http)
        assert await rpc.chain_id() == 137
    assert rpc.last_endpoint == 1
    assert len(broken.requests) == 1 and len(good.requests) == 1


async def test_timeout_moves_on_within_the_per_endpoint_budget(
    servers: Callable[[Responder], RecordingServer], hanging_server: HangingServer
) -> None:
    good = servers(ok("0x1042"))
    urls = [hanging_server.url, good.url]
    async with httpx.AsyncClient() as http:
        rpc = JsonRpcClient(urls, chain="sx_rollup", http=http, timeout_s=0.2)
        assert await returns_within(rpc.chain_id(), 10, "chain_id()") == 4162
    assert hanging_server.held == 1 and len(good.requests) == 1  # answered by the second


async def test_a_dripping_endpoint_cannot_outlive_the_deadline() -> None:
    import asyncio

    sent: list[int] = []

    async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(4096)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(1000):  # each byte well within the read timeout, the body in 100 s
            writer.write(b"{")
            sent.append(1)
            await writer.drain()
            await asyncio.sleep(0.1)
        writer.close()

    server = await asyncio.start_server(drip, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, httpx.AsyncClient() as http:
        rpc = JsonRpcClient([f"http://127.0.0.1:{port}"], chain="polygon", http=http, timeout_s=0.3)
        with pytest.raises(RpcFailure) as caught:
            await returns_within(rpc.chain_id(), 10, "chain_id()")
        assert 1 < len(sent) < 1000  # cut while the body was still dripping
    assert caught.value.kind == "timeout"


async def test_rpc_error_is_an_answer_and_does_not_fail_over(
    servers: Callable[[Responder], RecordingServer],
) -> None:
    def sequencer_down(body: dict[str, object]) -> tuple[int, bytes, float]:
        error = {"code": -32000, "message": "sequencer temporarily not available"}
        return 200, json.dumps({"jsonrpc": "2.0", "id": body["id"], "error": error}).encode(), 0.0

    first = servers(sequencer_down)
    second = servers(ok("0x1"))
    async with httpx.AsyncClient() as http:
        rpc = JsonRpcClient([first.url, second.url], chain="arbitrum", http=http)
        with pytest.raises(RpcFailure) as caught:
            await rpc.block_number()
    assert caught.value.kind == "rpc_error"
    assert "sequencer temporarily not available" in str(caught.value)
    assert second.requests == []


@pytest.mark.parametrize(
    ("responder", "kind"),
    [
        (lambda body: (200, b"<html>not json", 0.0), "bad_json"),
        (lambda body: (200, b"[1, 2]", 0.0), "bad_json"),
        (lambda body: (200, b'{"jsonrpc": "2.0", "id": 1}', 0.0), "bad_json"),
        (lambda body: (429, b"{}", 0.0), "http_429"),
        (lambda body: (503, b"{}", 0.0), "http_5xx"),
        (ok("not-hex"), "bad_json"),
    ],
)
async def test_lying_endpoints_raise_a_classified_failure_without_the_url(
    servers: Callable[[Responder], RecordingServer], responder: Responder, kind: str
) -> None:
    server = servers(responder)
    async with httpx.AsyncClient() as http:
        rpc = JsonRpcClient([server.url], chain="polygon", http=http)
        with pytest.raises(RpcFailure) as caught:
            await rpc.block_number()
    assert caught.value.kind == kind
    assert "key1234567890" not in str(caught.value)
    assert "127.0.0.1" not in str(caught.value)


async def test_closed_port_is_a_connect_failure() -> None:
    from arbqos_harness.process import free_port

    async with httpx.AsyncClient() as http:
        rpc = JsonRpcClient([f"http://127.0.0.1:{free_port()}"], chain="polygon", http=http)
        with pytest.raises(RpcFailure) as caught:
            await rpc.gas_price_wei()
    assert caught.value.kind == "connect"


async def test_latest_block_and_eth_call_decode(
    servers: Callable[[Responder], RecordingServer],
) -> None:
    def answer(body: dict[str, object]) -> tuple[int, bytes, float]:
        if body["method"] == "eth_getBlockByNumber":
            result: object = {"number": "0x10", "timestamp": "0x6553f100"}
        else:
            result = "0x" + "00" * 31 + "2a"
        return 200, json.dumps({"jsonrpc": "2.0", "id": body["id"], "result": result}).encode(), 0.0

    server = servers(answer)
    async with httpx.AsyncClient() as http:
        rpc = JsonRpcClient([server.url], chain="polygon", http=http)
        assert await rpc.latest_block() == (16, 0x6553F100)
        raw = await rpc.eth_call("0x" + "11" * 20, b"\x31\x3c\xe5\x67")
    assert int.from_bytes(raw, "big") == 42
    call = server.requests[-1]
    assert call["params"] == [{"to": "0x" + "11" * 20, "data": "0x313ce567"}, "latest"]


def test_needs_at_least_one_url() -> None:
    with pytest.raises(ValueError, match="at least one RPC URL"):
        JsonRpcClient([], chain="polygon", http=httpx.AsyncClient())


async def test_an_answer_above_the_size_limit_fails_over_to_the_next_endpoint(
    servers: Callable[[Responder], RecordingServer],
) -> None:
    huge = b'{"jsonrpc": "2.0", "id": 1, "result": "0x' + b"0" * (2 * 1024 * 1024) + b'"}'
    flooding = servers(lambda body: (200, huge, 0.0))
    good = servers(ok("0x89"))
    async with httpx.AsyncClient() as http:
        rpc = JsonRpcClient(
            [flooding.url, good.url], chain="polygon", http=http, max_response_bytes=1024 * 1024
        )
        assert await rpc.chain_id() == 137
        alone = JsonRpcClient([flooding.url], chain="polygon", http=http)
        with pytest.raises(RpcFailure) as caught:
            await alone.chain_id()
    assert rpc.last_endpoint == 1
    assert caught.value.kind == "too_large"
    assert f"announced {len(huge)} bytes, limit 1048576 bytes" in str(caught.value)
    assert "127.0.0.1" not in str(caught.value)
