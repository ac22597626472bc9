"""Metric names, label sets and bucket layouts shared by services and generators."""

from arbqos.metrics.definitions import (
    CHAINS,
    METRICS,
    ORDER_RESULTS,
    PAUSE_SOURCES,
    PHASES,
    VENUES,
    MetricSpec,
    accept_time_buckets,
    format_le,
    stake_fraction_buckets,
)
from arbqos.metrics.registry import counter, create_metric, create_metrics, gauge, histogram

__all__ = [
    "CHAINS",
    "METRICS",
    "ORDER_RESULTS",
    "PAUSE_SOURCES",
    "PHASES",
    "VENUES",
    "MetricSpec",
    "accept_time_buckets",
    "counter",
    "create_metric",
    "create_metrics",
    "format_le",
    "gauge",
    "histogram",
    "stake_fraction_buckets",
]
