"""The connection guard: header deadline, cap with eviction of the oldest idle connection."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
import uvicorn
from fastapi import FastAPI

from arbqos.services.connections import ConnectionGuard, connection_cap, guarded_protocol
from arbqos_harness.process import free_port


def test_cap_stays_below_the_descriptor_limit() -> None:
    assert connection_cap(512, 1024) == 512
    assert connection_cap(4096, 1024) < 1024 - 64
    assert connection_cap(512, 100) == 8


@pytest.fixture
async def served() -> tuple[ConnectionGuard, int]:
    app = FastAPI()

    @app.get("/ok")
    async def ok() -> dict[str, bool]:
        return {"ok": True}

    guard = ConnectionGuard(max_connections=8, header_timeout_s=0.3)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, http=guarded_protocol(guard)
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    yield guard, port
    server.should_exit = True
    await task


async def request(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return data


async def test_half_requests_are_closed_after_the_header_timeout(
    served: tuple[ConnectionGuard, int],
) -> None:
    guard, port = served
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /ok HTTP/1.1\r\nHost: x\r\n")  # never finished
    started = time.monotonic()
    assert await asyncio.wait_for(reader.read(), 5) == b""  # the server hung up
    assert time.monotonic() - started >= 0.25
    assert guard.closed_idle == 1


async def test_a_slow_drip_does_not_extend_the_deadline(
    served: tuple[ConnectionGuard, int],
) -> None:
    guard, port = served
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for byte in b"GET /ok HTTP/1.1\r\n":
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(0.05)
        if reader.at_eof():
            break
    assert await asyncio.wait_for(reader.read(), 5) == b""
    assert guard.closed_idle == 1


async def test_at_the_cap_the_oldest_idle_connection_makes_room(
    served: tuple[ConnectionGuard, int],
) -> None:
    guard, port = served
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
    try:
        answer = await request(port)
        assert b"200 OK" in answer
        assert guard.closed_over_cap >= 12
        assert len(guard.open) <= guard.max_connections
    finally:
        for conn in idle:
            conn.close()
