"""Bounded HTTP reads: stream an answer and stop past a byte limit, so no answer can flood memory.

Every RPC call and every heartbeat probe reads through `fetch_bounded`: a `Content-Length`
above the limit fails before the body is read, and a body without one is read chunk by chunk
and dropped as soon as it passes the limit (the connection is closed, not drained). We ask for
`identity` encoding and read raw bytes; a server that compresses anyway is decoded here with a
bounded decompressor, so a small gzip bomb cannot expand past the limit either.

>>> answer = await fetch_bounded(http, "POST", url, max_bytes=1 << 20, timeout_s=2,
...                              json_body=body)
>>> answer.status_code, len(answer.content)
(200, 81)
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any

import httpx

DEFAULT_MAX_BYTES = 1024 * 1024
"""1 MiB: the default of `endpoints.response_max_bytes`."""

_DECODERS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class ResponseTooLarge(Exception):
    """An answer was larger than the limit; `size` is what was seen (at least limit + 1)."""

    def __init__(self, size: int, limit: int, *, announced: bool) -> None:
        self.size = size
        self.limit = limit
        how = "announced" if announced else "read past"
        super().__init__(
            f"answer too large: {how} {size} bytes, limit {limit} bytes "
            "(endpoints.response_max_bytes)"
        )


class UnsupportedEncoding(Exception):
    """The server sent a content encoding arbqos did not ask for and cannot bound."""


@dataclass(frozen=True)
class BoundedResponse:
    """Status, headers and the (decoded) body of an answer no larger than the limit."""

    status_code: int
    headers: httpx.Headers
    content: bytes

    def json(self) -> Any:
        """Parse the body as JSON (raises ValueError, including UnicodeDecodeError)."""
        return json.loads(self.content)


async def fetch_bounded(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    max_bytes: int,
    timeout_s: float,
    json_body: Any = None,
) -> BoundedResponse:
    """Send one request and read at most `max_bytes` of its answer.

    Raises:
        ResponseTooLarge: the answer announced or delivered more than `max_bytes`.
        UnsupportedEncoding: compressed with something other than gzip or deflate.
        httpx.HTTPError: transport failures, as `httpx` raises them.
    """
    headers = {"Accept-Encoding": "identity"}
    request = http.build_request(method, url, json=json_body, headers=headers, timeout=timeout_s)
    response = await http.send(request, stream=True)
    try:
        announced = response.headers.get("content-length", "")
        if announced.isdigit() and int(announced) > max_bytes:
            raise ResponseTooLarge(int(announced), max_bytes, announced=True)
        content = await read_bounded(response, max_bytes)
    finally:
        await response.aclose()
    return BoundedResponse(response.status_code, response.headers, content)


async def read_bounded(response: httpx.Response, max_bytes: int) -> bytes:
    """Read a streamed response's body, decoded, failing as soon as it passes `max_bytes`."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    decoder = None
    if encoding not in ("", "identity"):
        if encoding not in _DECODERS:
            raise UnsupportedEncoding(f"answer compressed with {encoding[:20]!r}, not asked for")
        decoder = zlib.decompressobj(_DECODERS[encoding])
    body = bytearray()
    try:
        async for chunk in response.aiter_raw():
            room = max_bytes + 1 - len(body)
            body += chunk[:room] if decoder is None else _inflate(decoder, chunk, room)
            if len(body) > max_bytes:
                raise ResponseTooLarge(len(body), max_bytes, announced=False)
        if decoder is not None:
            body += decoder.flush(max_bytes + 1 - len(body))
            if len(body) > max_bytes:
                raise ResponseTooLarge(len(body), max_bytes, announced=False)
    except BaseException:
        # A traceback keeps this frame, and the buffer with it, alive until the cycle collector
        # runs: without this, a flooding or timing-out endpoint piles up a megabyte per attempt.
        body.clear()
        raise
    return bytes(body)


def _inflate(decoder: Any, chunk: bytes, room: int) -> bytes:
    """Decompress `chunk` into at most `room` bytes (zlib stops there and keeps the rest)."""
    try:
        return bytes(decoder.decompress(chunk, room))
    except zlib.error as err:
        raise UnsupportedEncoding(f"answer is not valid compressed data ({err})") from err
