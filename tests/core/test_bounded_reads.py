"""Bounded reads: announced or streamed answers past the limit fail without being read whole."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from arbqos.chain.bounded import (
    BoundedResponse,
    ResponseTooLarge,
    UnsupportedEncoding,
    fetch_bounded,
)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
LIMIT = 64 * 1024


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Start raw loopback HTTP servers whose handler writes the bytes on the wire."""
    started: list[asyncio.Server] = []

    async def start(handler: Handler) -> str:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        started.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    yield start
    for server in started:
        server.close()


def answer(body: bytes, *, headers: str = "", length: bool = True, sent: list[int]) -> Handler:
    """A handler answering `body` (with or without Content-Length), counting the bytes it sent."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        framing = f"Content-Length: {len(body)}\r\n" if length else "Connection: close\r\n"
        writer.write(f"HTTP/1.1 200 OK\r\n{framing}{headers}\r\n".encode())
        try:
            for start in range(0, len(body), 16 * 1024):
                writer.write(body[start : start + 16 * 1024])
                await writer.drain()
                sent[0] += min(16 * 1024, len(body) - start)
        except ConnectionError:
            pass
        finally:
            writer.close()

    return handle


async def _fetch(url: str, limit: int = LIMIT) -> BoundedResponse:
    async with httpx.AsyncClient() as http:
        return await fetch_bounded(http, "GET", url, max_bytes=limit, timeout_s=5)


async def test_small_answer_is_read_whole(serve: Callable[[Handler], Awaitable[str]]) -> None:
    sent = [0]
    url = await serve(answer(b'{"ok": true}', sent=sent))
    response = await _fetch(url)
    assert response.status_code == 200 and response.json() == {"ok": True}


async def test_an_answer_of_exactly_the_limit_is_accepted(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    sent = [0]
    url = await serve(answer(b"x" * LIMIT, length=False, sent=sent))
    assert len((await _fetch(url)).content) == LIMIT


async def test_announced_length_above_the_limit_fails_before_the_body_is_read(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    sent = [0]
    url = await serve(answer(b"0" * (8 * 1024 * 1024), sent=sent))
    with pytest.raises(ResponseTooLarge) as caught:
        await _fetch(url)
    assert str(caught.value) == (
        f"answer too large: announced {8 * 1024 * 1024} bytes, limit {LIMIT} bytes "
        "(endpoints.response_max_bytes)"
    )
    await asyncio.sleep(0.05)
    assert sent[0] < 8 * 1024 * 1024  # the client hung up instead of draining the answer


async def test_unannounced_body_is_cut_just_past_the_limit(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    sent = [0]
    url = await serve(answer(b"0" * (8 * 1024 * 1024), length=False, sent=sent))
    with pytest.raises(ResponseTooLarge) as caught:
        await _fetch(url)
    assert caught.value.limit == LIMIT and LIMIT < caught.value.size <= LIMIT + 64 * 1024
    assert "read past" in str(caught.value)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_compression_bomb_is_cut_at_the_limit_after_decoding(
    serve: Callable[[Handler], Awaitable[str]], encoding: str
) -> None:
    plain = b"0" * (32 * 1024 * 1024)
    packed = gzip.compress(plain) if encoding == "gzip" else zlib.compress(plain)
    assert len(packed) < LIMIT  # small on the wire, 32 MiB once decoded
    sent = [0]
    url = await serve(answer(packed, headers=f"Content-Encoding: {encoding}\r\n", sent=sent))
    with pytest.raises(ResponseTooLarge) as caught:
        await _fetch(url)
    assert caught.value.size == LIMIT + 1


async def test_compressed_answer_within_the_limit_is_decoded(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    sent = [0]
    url = await serve(
        answer(gzip.compress(b'{"a": 1}'), headers="Content-Encoding: gzip\r\n", sent=sent)
    )
    assert (await _fetch(url)).json() == {"a": 1}


async def test_unknown_encoding_is_refused(serve: Callable[[Handler], Awaitable[str]]) -> None:
    sent = [0]
    url = await serve(answer(b"xx", headers="Content-Encoding: br\r\n", sent=sent))
    with pytest.raises(UnsupportedEncoding, match="'br'"):
        await _fetch(url)


async def test_identity_encoding_is_asked_for(serve: Callable[[Handler], Awaitable[str]]) -> None:
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        writer.close()

    await _fetch(await serve(handle))
    assert b"accept-encoding: identity" in seen[0].lower()


def _buffered_bytes(error: BaseException) -> int:
    """Bytes held by bytearrays in the frames of `error`'s traceback (kept until gc runs)."""
    held, tb = 0, error.__traceback__
    while tb is not None:
        held += sum(len(v) for v in tb.tb_frame.f_locals.values() if isinstance(v, bytearray))
        tb = tb.tb_next
    return held


async def test_a_failed_read_leaves_no_buffer_in_its_traceback(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    sent = [0]
    url = await serve(answer(b"0" * (8 * 1024 * 1024), length=False, sent=sent))
    with pytest.raises(ResponseTooLarge) as too_large:
        await _fetch(url)
    assert _buffered_bytes(too_large.value) == 0

    async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"0" * 50_000)
        await writer.drain()
        await asyncio.sleep(10)

    task = asyncio.ensure_future(_fetch(await serve(drip)))
    await asyncio.sleep(0.3)  # the first 50 kB are in the buffer
    task.cancel()
    with pytest.raises(asyncio.CancelledError) as cancelled:
        await task
    assert _buffered_bytes(cancelled.value) == 0
