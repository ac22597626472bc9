"""The one loopback rule, the allowance variable and the `/metrics` server of every service."""

from __future__ import annotations

import socket

import httpx
import pytest
from prometheus_client import CollectorRegistry, Gauge

from arbqos.daemon import (
    ALLOW_NON_LOOPBACK_METRICS_ENV,
    BindRefused,
    StartupRefused,
    loopback_refusal,
    metrics_allowed_off_loopback,
    serve_metrics,
)
from arbqos.errors import ExitCode
from arbqos_harness.process import free_port


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.0.1", "::1", "[::1]", "localhost"])
def test_loopback_is_always_allowed(host: str) -> None:
    assert loopback_refusal(host, allowed=False, refusal="no", fix="fix it") is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "nonexistent.invalid"])
def test_anything_else_needs_the_listeners_allowance(host: str) -> None:
    assert loopback_refusal(host, allowed=True, refusal="no", fix="fix it") is None
    refused = loopback_refusal(host, allowed=False, refusal=f"refusing {host}", fix="set X=1")
    assert refused == f"refusing {host}: set X=1, or bind 127.0.0.1"


@pytest.mark.parametrize(
    ("value", "allowed"), [(None, False), ("", False), ("0", False), (" 1 ", True), ("1", True)]
)
def test_the_allowance_is_1_or_nothing(value: str | None, allowed: bool) -> None:
    env = {} if value is None else {ALLOW_NON_LOOPBACK_METRICS_ENV: value}
    assert metrics_allowed_off_loopback(env) is allowed


@pytest.mark.parametrize("value", ["yes", "true", "2", "on"])
def test_any_other_allowance_value_is_bad_input(value: str) -> None:
    with pytest.raises(StartupRefused) as refused:
        metrics_allowed_off_loopback({ALLOW_NON_LOOPBACK_METRICS_ENV: value})
    assert refused.value.exit_code == ExitCode.BAD_INPUT
    assert str(refused.value) == (
        f"{ALLOW_NON_LOOPBACK_METRICS_ENV}={value!r}: expected 1 (serve /metrics off loopback) "
        "or 0 (loopback only)"
    )


def test_serves_only_the_given_registry_and_frees_the_port(registry: CollectorRegistry) -> None:
    Gauge("arb_test_value", "A value.", registry=registry).set(7)
    with serve_metrics(registry, host="localhost", port=0, allow_non_loopback=False) as metrics:
        assert metrics.host == "127.0.0.1" and metrics.url.endswith(f":{metrics.port}/metrics")
        body = httpx.get(metrics.url, timeout=5).text
        assert "arb_test_value 7.0" in body
        assert "python_gc" not in body  # never the global registry
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the closed one may wait
        sock.bind(("127.0.0.1", metrics.port))  # nothing listens there any more


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_refuses_a_wildcard_host_before_binding(registry: CollectorRegistry, host: str) -> None:
    port = free_port()
    with pytest.raises(BindRefused) as refused:
        serve_metrics(
            registry, host=host, port=port, allow_non_loopback=False, setting="heartbeat.host"
        )
    assert refused.value.exit_code == ExitCode.BAD_INPUT
    assert str(refused.value) == (
        f"heartbeat.host = {host!r}: refusing to expose metrics on non-loopback host {host!r}: "
        f"set {ALLOW_NON_LOOPBACK_METRICS_ENV}=1 on a trusted network, or bind 127.0.0.1"
    )
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))  # a listener on the wildcard address would refuse this
