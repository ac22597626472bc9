"""Listeners of arbqos processes: the one loopback rule, listening sockets, `/metrics` servers."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server

from arbqos.errors import ArbqosError, ExitCode
from arbqos.net import LOOPBACK, is_loopback

logger = logging.getLogger(__name__)

ALLOW_NON_LOOPBACK_METRICS_ENV = "ARBQOS_ALLOW_NON_LOOPBACK_METRICS"
"""Set to `1` to let every arbqos service serve `/metrics` off loopback (the one allowance)."""
METRICS_ALLOWANCE = f"set {ALLOW_NON_LOOPBACK_METRICS_ENV}=1 on a trusted network"
"""How an operator allows `/metrics` off loopback, as shown in the refusal."""


class StartupRefused(ArbqosError, ValueError):
    """A setting forbids starting; the message names the setting, its value and the fix."""

    exit_code = ExitCode.BAD_INPUT


class BindRefused(StartupRefused):
    """A listener was asked for a non-loopback address that nothing allowed."""


class ListenFailed(ArbqosError):
    """The address is allowed but cannot be bound (port in use, address not on this host)."""

    exit_code = ExitCode.FAILURE


def loopback_refusal(host: str, *, allowed: bool, refusal: str, fix: str) -> str | None:
    """The rule every arbqos listener follows: why `host` may not be bound, or None.

    A loopback address is always fine; any other only when `allowed` (the listener's own
    explicit allowance, named by `fix`). Loopback is decided by the resolved addresses
    (`arbqos.net.is_loopback`), never by the name.

    >>> loopback_refusal("0.0.0.0", allowed=False, refusal="refusing x", fix="set Y=1")
    'refusing x: set Y=1, or bind 127.0.0.1'
    """
    if allowed or is_loopback(host):
        return None
    return f"{refusal}: {fix}, or bind {LOOPBACK}"


def metrics_allowed_off_loopback(env: Mapping[str, str]) -> bool:
    """Read the allowance: `1` allows, unset, empty or `0` does not.

    Raises:
        StartupRefused: for any other value (a typo must not silently keep or lift the rule).
    """
    value = env.get(ALLOW_NON_LOOPBACK_METRICS_ENV, "").strip()
    if value in ("", "0"):
        return False
    if value == "1":
        return True
    raise StartupRefused(
        f"{ALLOW_NON_LOOPBACK_METRICS_ENV}={value!r}: expected 1 (serve /metrics off loopback) "
        "or 0 (loopback only)"
    )


def listen_socket(host: str, port: int) -> socket.socket:
    """Bind and listen, so a busy port is a clear error before anything else starts.

    The protocol is given explicitly: asyncio sets TCP_NODELAY on accepted connections only
    when the listening socket says IPPROTO_TCP, and without it every answer that is written
    in two parts waits for the peer's delayed ACK (about 40 ms).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


class MetricsServer:
    """A running `/metrics` HTTP server for one registry; `close()` stops it and frees the port.

    Use it as a context manager, or call `close()`.
    """

    def __init__(self, server: Any, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self.host: str = server.server_address[0]
        self.port: int = int(server.server_address[1])

    @property
    def url(self) -> str:
        """The scrape URL."""
        return http_url(self.host, self.port, "/metrics")

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5.0)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def serve_metrics(
    registry: CollectorRegistry,
    *,
    host: str,
    port: int,
    allow_non_loopback: bool,
    setting: str = "host",
    fix: str = METRICS_ALLOWANCE,
) -> MetricsServer:
    """Serve `registry` on `http://host:port/metrics` from a daemon thread (port 0 = any free).

    `/metrics` has no authentication, so it binds loopback only unless `allow_non_loopback`;
    `setting` and `fix` name, in the refusal, the key holding `host` and the allowance.

    Raises:
        BindRefused: `host` is not loopback and nothing allowed it.
        OSError: the port cannot be bound.
    """
    refusal = f"{setting} = {host!r}: refusing to expose metrics on non-loopback host {host!r}"
    problem = loopback_refusal(host, allowed=allow_non_loopback, refusal=refusal, fix=fix)
    if problem:
        raise BindRefused(problem)
    server, thread = start_http_server(port, addr=host, registry=registry)
    metrics = MetricsServer(server, thread)
    if not allow_non_loopback and not is_loopback(metrics.host):  # the name resolved elsewhere
        metrics.close()
        raise BindRefused(f"{refusal} (it bound {metrics.host}): {fix}, or bind {LOOPBACK}")
    logger.info("metrics exporter listening on %s", metrics.url, extra={"port": metrics.port})
    return metrics


def http_url(host: str, port: int, path: str = "") -> str:
    """`http://host:port/path`, with brackets around an IPv6 address.

    >>> http_url("::1", 9102, "/metrics")
    'http://[::1]:9102/metrics'
    """
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{path}"
