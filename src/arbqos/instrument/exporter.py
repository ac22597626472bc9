"""Serve an explicit registry's `/metrics`: a loopback HTTP server or an ASGI app to mount."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, make_asgi_app, start_http_server

from arbqos.net import is_loopback

logger = logging.getLogger(__name__)


class Exporter:
    """A running `/metrics` HTTP server; `close()` stops it."""

    def __init__(self, server: Any, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self.host: str = server.server_address[0]
        self.port: int = int(server.server_address[1])

    @property
    def url(self) -> str:
        """The scrape URL."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5.0)


def start_exporter(
    registry: CollectorRegistry,
    *,
    port: int,
    host: str = "127.0.0.1",
    allow_non_loopback: bool = False,
) -> Exporter:
    """Serve `registry` on `http://host:port/metrics` from a daemon thread (port 0 = any free).

    Raises:
        ValueError: `host` is not a loopback address and `allow_non_loopback` is False.
    """
    if not allow_non_loopback and not is_loopback(host):
        raise ValueError(
            f"refusing to expose metrics on non-loopback host {host!r}: bind 127.0.0.1 and let "
            "Prometheus scrape locally, or pass allow_non_loopback=True on a trusted network"
        )
    server, thread = start_http_server(port, addr=host, registry=registry)
    exporter = Exporter(server, thread)
    logger.info("metrics exporter listening on %s", exporter.url, extra={"port": exporter.port})
    return exporter


def make_metrics_app(registry: CollectorRegistry) -> Callable[..., Any]:
    """An ASGI app serving `registry` in the Prometheus text format (mount it at `/metrics`)."""
    app: Callable[..., Any] = make_asgi_app(registry=registry)
    return app
