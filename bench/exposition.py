"""Time to render `/metrics` through the exporter's ASGI app with 1,000 and 10,000 series.

Each registry holds the real execution metrics (ExecutionTracker, every child pre-created)
plus labelled gauges filling it up to the target number of series (samples in the output),
as if more endpoints and services were instrumented. The app is called in-process (no
socket), so the figure is the serialisation cost Prometheus imposes on the exporting process
at each scrape (it holds the GIL meanwhile).

Prints: RESULT exposition ms_1k=<x> ms_10k=<y>
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

from arbqos.config.schema import ArbqosConfig
from arbqos.instrument import ExecutionTracker, make_metrics_app

REPEATS = 15


def count_series(registry: CollectorRegistry) -> int:
    """Number of samples the registry exposes."""
    return sum(len(metric.samples) for metric in registry.collect())


def build_registry_execution_only() -> CollectorRegistry:
    """Only the execution metrics with their pre-created children."""
    registry = CollectorRegistry()
    ExecutionTracker(registry, ArbqosConfig())
    return registry


def build_registry(target: int) -> CollectorRegistry:
    """Execution metrics plus filler gauges, `target` series in all."""
    registry = CollectorRegistry()
    tracker = ExecutionTracker(registry, ArbqosConfig(), bank=2_000.0)
    leg = tracker.submit("sx", "live", 50.0, 0.52)
    leg.result("filled", filled_prob=0.53)
    filler = Gauge("bench_filler", "Filler series.", ["shard", "item"], registry=registry)
    for i in range(target - count_series(registry)):
        filler.labels(str(i % 10), str(i)).set(i)
    if count_series(registry) != target:
        raise SystemExit(f"built {count_series(registry)} series instead of {target}")
    return registry


async def scrape(app: Callable[..., Any]) -> bytes:
    """Call the ASGI app for GET /metrics and return the body."""
    body = bytearray()
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/metrics",
        "query_string": b"",
        "headers": [(b"accept", b"text/plain")],
    }
    await app(scope, receive, send)
    return bytes(body)


def render_ms(target: int) -> float:
    """Median milliseconds to render the registry of `target` series."""
    app = make_metrics_app(build_registry(target))
    samples = []
    body = b""
    with asyncio.Runner() as runner:
        for _ in range(REPEATS):
            started = time.perf_counter()
            body = runner.run(scrape(app))
            samples.append((time.perf_counter() - started) * 1000)
    if b"arb_orders_submitted_total" not in body:
        raise SystemExit("the exposition lacks the execution metrics")
    print(
        f"{target} series: min {min(samples):.2f} ms, median {statistics.median(samples):.2f} ms, "
        f"{len(body)} bytes"
    )
    return statistics.median(samples)


def main() -> None:
    """Measure both sizes and print the RESULT line."""
    execution = count_series(build_registry_execution_only())
    print(f"the execution metrics alone are {execution} series")
    ms_1k = render_ms(1_000)
    ms_10k = render_ms(10_000)
    print(f"RESULT exposition ms_1k={ms_1k:.2f} ms_10k={ms_10k:.2f}")


if __name__ == "__main__":
    main()
