"""The exporter serves an explicit registry on loopback only; the ASGI app mounts anywhere."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import CollectorRegistry

from arbqos.instrument import ExecutionTracker, make_metrics_app, start_exporter
from arbqos.net import is_loopback


def test_loopback_exporter_serves_the_registry(
    registry: CollectorRegistry, tracker: ExecutionTracker
) -> None:
    tracker.submit("sx", "live", 12.0, 0.5)
    exporter = start_exporter(registry, port=0)
    try:
        assert exporter.host == "127.0.0.1" and exporter.port > 0
        body = httpx.get(exporter.url, timeout=5).text
        assert 'arb_orders_submitted_total{venue="sx"} 1.0' in body
        assert 'arb_orders_submitted_total{venue="azuro"} 0.0' in body
        assert "python_gc" not in body  # the global registry is not exposed
    finally:
        exporter.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(exporter.url, timeout=2)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.org"])
def test_non_loopback_host_is_refused(registry: CollectorRegistry, host: str) -> None:
    with pytest.raises(ValueError, match="refusing to expose metrics on non-loopback host"):
        start_exporter(registry, host=host, port=0)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.3.2.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("host", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


async def test_asgi_app(registry: CollectorRegistry, tracker: ExecutionTracker) -> None:
    tracker.voided("azuro")
    transport = httpx.ASGITransport(app=make_metrics_app(registry))
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'arb_bets_voided_total{venue="azuro"} 1.0' in response.text
