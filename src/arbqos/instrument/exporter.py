"""Serve an explicit registry's `/metrics`: a loopback HTTP server or an ASGI app to mount."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, make_asgi_app

from arbqos.daemon.listen import MetricsServer, serve_metrics

Exporter = MetricsServer
"""A running `/metrics` HTTP server; `close()` stops it."""


def start_exporter(
    registry: CollectorRegistry,
    *,
    port: int,
    host: str = "127.0.0.1",
    allow_non_loopback: bool = False,
) -> Exporter:
    """Serve `registry` on `http://host:port/metrics` from a daemon thread (port 0 = any free).

    The same loopback rule as the arbqos services (`arbqos.daemon`); the engine allows a
    non-loopback host with `allow_non_loopback=True`.

    Raises:
        ValueError: `host` is not a loopback address and `allow_non_loopback` is False
            (an `arbqos.daemon.BindRefused`).
        OSError: the port cannot be bound.
    """
    return serve_metrics(
        registry,
        host=host,
        port=port,
        allow_non_loopback=allow_non_loopback,
        fix="pass allow_non_loopback=True on a trusted network",
    )


def make_metrics_app(registry: CollectorRegistry) -> Callable[..., Any]:
    """An ASGI app serving `registry` in the Prometheus text format (mount it at `/metrics`)."""
    app: Callable[..., Any] = make_asgi_app(registry=registry)
    return app
