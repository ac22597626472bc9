"""ASGI middleware: cap request bodies while reading them and insist on JSON bodies."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from email.message import Message as MimeMessage

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def error_response(
    status: int, error: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """Return the API's error body."""
    return JSONResponse(
        {"error": error, "message": message, "errors": []}, status_code=status, headers=headers
    )


class BodyLimit:
    """Read at most `max_body_bytes` of a request body, then hand the whole body to the app.

    The limit is enforced on the bytes actually received, so a missing or lying
    `Content-Length` does not get past it; a declared length above the limit is refused
    before anything is read. A non-empty body must be JSON (415 otherwise).
    """

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        timeout_s: float = 10.0,
        larger: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.timeout_s = timeout_s
        self.larger = dict(larger or {})
        """Paths that take bigger bodies (the Alertmanager webhook: refusing loses a pause)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Buffer and check the body of POST/PUT/PATCH requests."""
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.max_body_bytes)
        headers = {k.lower(): v for k, v in scope["headers"]}
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await error_response(400, "bad_content_length", "Content-Length is not a number")(
                    scope, receive, send
                )
                return
            if length > limit:
                await self._too_large(limit, scope, receive, send)
                return
        body = bytearray()
        more = True
        try:
            async with asyncio.timeout(self.timeout_s):
                while more:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    body += message.get("body", b"")
                    if len(body) > limit:
                        await self._too_large(limit, scope, receive, send)
                        return
                    more = bool(message.get("more_body", False))
        except TimeoutError:
            await error_response(
                408,
                "body_timeout",
                f"the request body did not arrive within {self.timeout_s:g} s "
                "(orchestrator.body_timeout_s); send it at once",
            )(scope, receive, send)
            return
        if body and not _is_json(headers.get(b"content-type", b"")):
            await error_response(
                415,
                "unsupported_media_type",
                "the body must be JSON: send Content-Type: application/json",
            )(scope, receive, send)
            return
        await self.app(scope, _replay(bytes(body), receive), send)

    async def _too_large(self, limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(
            413,
            "body_too_large",
            f"request body exceeds {limit} bytes (orchestrator.max_body_bytes); "
            "send a smaller body",
        )(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """Return a `receive` that yields the buffered body once, then defers to the server."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _is_json(content_type: bytes) -> bool:
    parsed = MimeMessage()
    parsed["content-type"] = content_type.decode("latin-1")
    subtype = parsed.get_content_subtype()
    return parsed.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )
