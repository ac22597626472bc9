"""Timing and error classification of venue API and RPC calls (bounded label values only)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx

from arbqos.chain.rpc import RpcFailure

ERROR_CLASSES: tuple[str, ...] = (
    "timeout",
    "connect",
    "http_429",
    "http_5xx",
    "http_4xx",
    "rejected",
    "bad_json",
    "rpc_error",
    "cancelled",
    "other",
)
"""Every value the `error` label of `arb_venue_request_errors_total` can take."""

DEFAULT_ENDPOINTS: dict[str, tuple[str, ...]] = {
    "sx": ("orders_fill", "orders_new", "orders_cancel", "orders_get", "metadata", "trades"),
    "azuro": ("bet_order_place", "bet_order_get", "condition_batch", "subgraph"),
}
"""Endpoint labels whose series exist at zero from the start; others appear on first use."""

MAX_ENDPOINTS_PER_VENUE = 32
_ENDPOINT_RE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


class VenueRejected(Exception):
    """A venue answered but refused the request (e.g. SX `ODDS_STALE`); `code` is the venue's."""

    def __init__(self, code: str, message: str = "") -> None:
        self.code = code
        super().__init__(
            f"venue rejected the request: {code}" + (f" ({message})" if message else "")
        )


def check_endpoint(endpoint: str) -> str:
    """Return `endpoint` if it is a bounded name like `orders_fill`; raise ValueError otherwise."""
    if not _ENDPOINT_RE.match(endpoint):
        raise ValueError(
            f"endpoint label {endpoint!r} is not a short name: use lowercase letters, digits and "
            "underscores, starting with a letter (e.g. 'orders_fill'), never a URL or an id"
        )
    return endpoint


def status_error_class(status: int) -> str | None:
    """Map an HTTP status to an error class; None for success (1xx-3xx)."""
    if status == 429:
        return "http_429"
    if status >= 500:
        return "http_5xx"
    if status >= 400:
        return "http_4xx"
    return None


def classify_error(exc: BaseException) -> str:
    """Map an exception raised by a venue call to one of `ERROR_CLASSES`."""
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return "timeout"
    if isinstance(exc, httpx.HTTPStatusError):
        return status_error_class(exc.response.status_code) or "other"
    if isinstance(exc, httpx.ConnectError | ConnectionError):
        return "connect"
    if isinstance(exc, VenueRejected):
        return "rejected"
    if isinstance(exc, RpcFailure):
        return exc.kind if exc.kind in ERROR_CLASSES else "rpc_error"
    if isinstance(exc, json.JSONDecodeError):
        return "bad_json"
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    return "other"


class VenueCall:
    """Times one venue call and counts its failure; use through `ExecutionTracker.call()`.

    An exception leaving the block is classified and re-raised; `fail()` marks a call that
    returned normally but failed (e.g. an HTTP 200 with `status: failure`).

    >>> with tracker.call("sx", "orders_fill") as call:
    ...     response = client.post(url, json=body)
    ...     if response.status_code != 200:
    ...         call.fail_status(response.status_code)
    """

    __slots__ = ("_duration", "_error", "_errors", "_mono", "_start")

    def __init__(self, duration: Any, errors: dict[str, Any], mono: Callable[[], float]) -> None:
        self._duration = duration
        self._errors = errors
        self._mono = mono
        self._error: str | None = None
        self._start = 0.0

    def fail(self, error: str) -> None:
        """Count this call as failed with `error` (one of `ERROR_CLASSES`)."""
        if error not in self._errors:
            raise ValueError(f"error class {error!r} is unknown; use one of {ERROR_CLASSES}")
        self._error = error

    def fail_status(self, status: int) -> None:
        """Count this call as failed if the HTTP `status` is an error status."""
        error = status_error_class(status)
        if error is not None:
            self._error = error

    def __enter__(self) -> VenueCall:
        self._start = self._mono()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._duration.observe(self._mono() - self._start)
        error = classify_error(exc) if exc is not None else self._error
        if error is not None:
            self._errors[error].inc()

    async def __aenter__(self) -> VenueCall:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)
