"""Create prometheus_client metric objects from `MetricSpec`s on an explicit registry."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from arbqos.metrics.definitions import METRICS, MetricSpec

Metric = Counter | Gauge | Histogram


def create_metric(
    registry: CollectorRegistry,
    name: str,
    *,
    buckets: Sequence[float] | None = None,
) -> Metric:
    """Register the contract metric `name` on `registry` and return it.

    Counters are registered without their `_total` suffix, as prometheus_client appends it.
    """
    spec: MetricSpec = METRICS[name]
    if spec.type == "counter":
        return Counter(spec.name.removesuffix("_total"), spec.help, spec.labels, registry=registry)
    if spec.type == "gauge":
        return Gauge(spec.name, spec.help, spec.labels, registry=registry)
    if buckets is None:
        raise ValueError(f"histogram {name} needs explicit buckets")
    return Histogram(spec.name, spec.help, spec.labels, buckets=tuple(buckets), registry=registry)


def create_metrics(
    registry: CollectorRegistry,
    names: Iterable[str],
    buckets: dict[str, Sequence[float]] | None = None,
) -> dict[str, Metric]:
    """Register several contract metrics; histograms take their buckets from `buckets`."""
    chosen = buckets or {}
    return {name: create_metric(registry, name, buckets=chosen.get(name)) for name in names}


def counter(registry: CollectorRegistry, name: str) -> Counter:
    """Register the contract counter `name` (with its `_total`) and return it, typed."""
    metric = create_metric(registry, name)
    if not isinstance(metric, Counter):
        raise TypeError(f"{name} is a {METRICS[name].type}, not a counter")
    return metric


def gauge(registry: CollectorRegistry, name: str) -> Gauge:
    """Register the contract gauge `name` and return it, typed."""
    metric = create_metric(registry, name)
    if not isinstance(metric, Gauge):
        raise TypeError(f"{name} is a {METRICS[name].type}, not a gauge")
    return metric


def histogram(registry: CollectorRegistry, name: str, buckets: Sequence[float]) -> Histogram:
    """Register the contract histogram `name` with `buckets` and return it, typed."""
    metric = create_metric(registry, name, buckets=buckets)
    if not isinstance(metric, Histogram):
        raise TypeError(f"{name} is a {METRICS[name].type}, not a histogram")
    return metric
