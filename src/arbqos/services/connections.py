"""Bounded connections for the control API: idle sockets can never starve `/v1/status`.

uvicorn keeps a connection that never completes its request headers open forever, so a few
thousand stalled half-requests exhaust the process's file descriptors and every real call
(the engine's status poll, the guard's pause) times out. `GuardedH11Protocol` adds two rules:

- a connection must complete its request headers within `header_timeout_s` (again after every
  response on a kept-alive connection), or it is closed;
- at most `max_connections` are open; a new one beyond that closes the oldest connection that
  is still waiting for its headers (never a request being served), or itself if none is.

`raise_fd_limit()` lifts the soft descriptor limit to the hard one and `connection_cap()` keeps
the cap below it, so the guard acts before the kernel refuses `accept()`.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections import OrderedDict
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

logger = logging.getLogger(__name__)

RESERVED_FDS = 64
"""Descriptors kept free for the database, logs and outgoing connections."""
ACCEPT_BURST = 64
"""Connections accepted per event-loop turn (uvicorn's `backlog`): the guard runs between
bursts, so descriptors in use stay within the cap plus one burst."""


class ConnectionGuard:
    """Shared state of one server: connections still waiting for their request headers."""

    def __init__(self, max_connections: int, header_timeout_s: float) -> None:
        self.max_connections = max_connections
        self.header_timeout_s = header_timeout_s
        self.waiting: OrderedDict[GuardedH11Protocol, tuple[asyncio.TimerHandle, bool]] = (
            OrderedDict()
        )
        """Connections without a request in progress: (timer, timer is the header deadline)."""
        self.open: set[GuardedH11Protocol] = set()
        """Admitted connections not yet closed (uvicorn's own set lags behind an abort)."""
        self.closed_idle = 0
        """Connections closed for not completing their headers in time."""
        self.closed_over_cap = 0
        """Connections closed to stay under `max_connections`."""

    def wait_for_headers(self, conn: GuardedH11Protocol) -> None:
        """Start the header deadline of `conn`, unless it already runs (never extended)."""
        current = self.waiting.get(conn)
        if current is not None and current[1]:
            return
        self.serving(conn)
        timer = conn.loop.call_later(self.header_timeout_s, self._timed_out, conn)
        self.waiting[conn] = (timer, True)

    def idle(self, conn: GuardedH11Protocol, timeout_s: float) -> None:
        """`conn` answered and is kept alive: evictable, closed after `timeout_s` unused."""
        self.serving(conn)
        self.waiting[conn] = (conn.loop.call_later(timeout_s, self._timed_out, conn), False)

    def serving(self, conn: GuardedH11Protocol) -> None:
        """`conn` has a request in progress (or is gone): no deadline, not evictable."""
        current = self.waiting.pop(conn, None)
        if current is not None:
            current[0].cancel()

    def admit(self, conn: GuardedH11Protocol) -> bool:
        """Make room for `conn`; False when it must be closed itself."""
        while len(self.open) >= self.max_connections:
            oldest = next(iter(self.waiting), None)
            if oldest is None:
                self.closed_over_cap += 1
                logger.warning(
                    "connection refused: %d requests in progress (orchestrator.max_connections)",
                    len(self.open),
                )
                return False
            self.close(oldest)
            self.closed_over_cap += 1
            logger.warning("oldest idle connection closed to admit a new one (at the cap)")
        self.open.add(conn)
        return True

    def close(self, conn: GuardedH11Protocol) -> None:
        """Abort `conn` and stop counting it."""
        self.forget(conn)
        conn.transport.abort()

    def forget(self, conn: GuardedH11Protocol) -> None:
        """`conn` is gone."""
        self.serving(conn)
        self.open.discard(conn)

    def _timed_out(self, conn: GuardedH11Protocol) -> None:
        self.waiting.pop(conn, None)
        self.closed_idle += 1
        logger.warning(
            "connection closed: no complete request headers within %g s",
            self.header_timeout_s,
        )
        self.close(conn)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the header deadline and the connection cap of `guard`."""

    guard: ConnectionGuard

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Admit the connection (or close it at the cap) and start its header deadline."""
        super().connection_made(transport)
        if not self.guard.admit(self):
            transport.abort()
            return
        self.guard.wait_for_headers(self)

    def data_received(self, data: bytes) -> None:
        """Process the bytes; stop or restart the header deadline accordingly."""
        super().data_received(data)
        self._track()

    def on_response_complete(self) -> None:
        """A response went out: a kept-alive connection is idle (evictable, keep-alive timeout)."""
        super().on_response_complete()
        if not self.transport.is_closing() and not self._busy():
            self.guard.idle(self, max(self.timeout_keep_alive, 0.1))

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the connection."""
        self.guard.forget(self)
        super().connection_lost(exc)

    def _busy(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _track(self) -> None:
        if self._busy():
            self.guard.serving(self)
        elif not self.transport.is_closing():
            self.guard.wait_for_headers(self)  # bytes of a next request: its deadline runs


def guarded_protocol(guard: ConnectionGuard) -> type[GuardedH11Protocol]:
    """A protocol class bound to `guard` (pass it as `uvicorn.Config(http=...)`)."""
    attrs: dict[str, Any] = {"guard": guard, "__doc__": GuardedH11Protocol.__doc__}
    return type("BoundGuardedH11Protocol", (GuardedH11Protocol,), attrs)


def raise_fd_limit() -> tuple[int, int]:
    """Lift the soft open-files limit to the hard limit; return (soft, hard) afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as err:
            logger.warning("cannot raise the open-files limit to %d: %s", hard, err)
    return soft, hard


def connection_cap(configured: int, soft_limit: int) -> int:
    """The connection cap: the configured one, kept below the descriptor limit with room for
    one accept burst and `RESERVED_FDS`."""
    return max(min(configured, soft_limit - RESERVED_FDS - 2 * ACCEPT_BURST), 8)
