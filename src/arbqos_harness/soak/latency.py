"""Venue request and accept-time p95 per window, from the run's Prometheus, and their drift.

The figures are the engine's own view (`arb_venue_request_duration_seconds` per venue and
endpoint, `arb_accept_time_seconds` per venue), which is what the guard, the alerts and the
dashboard judge; the simulators' decision logs hold the drawn betting delays but not the
time a request waited to be served. Prometheus estimates a p95 from histogram buckets, by
linear interpolation within the bucket that holds it; a p95 below `DRIFT_FLOOR_S` is judged as
that floor, because below it the buckets (10, 25, 50, 100 ms) are as wide as the values and a
busy machine moves a fast request's p95 by a bucket fraction: noise, not a trend. A request
that grows from 20 ms to 50 ms still counts +30 %.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DRIFT_FLOOR_S = 0.1
"""A p95 under 100 ms counts as 100 ms when drift is judged."""
MIN_COUNT = 50
"""A series with fewer observations in a window is not judged in it."""

REQUEST_P95 = (
    "histogram_quantile(0.95, sum by (le, venue, endpoint) "
    "(increase(arb_venue_request_duration_seconds_bucket[{w}s])))"
)
REQUEST_COUNT = (
    "sum by (venue, endpoint) (increase(arb_venue_request_duration_seconds_count[{w}s]))"
)
ACCEPT_P95 = (
    "histogram_quantile(0.95, sum by (le, venue) (increase(arb_accept_time_seconds_bucket[{w}s])))"
)
ACCEPT_COUNT = "sum by (venue) (increase(arb_accept_time_seconds_count[{w}s]))"

Query = Callable[[str, float], list[dict[str, Any]]]
"""Evaluate an instant PromQL query at a unix time; returns the result vector."""


@dataclass(frozen=True)
class LatencyPoint:
    """The p95 of one series over one window."""

    window_end: float
    """Unix seconds."""
    series: str
    """`request sx orders_fill` or `accept azuro`."""
    p95_s: float | None
    count: float


def window_points(query: Query, window_end: float, window_s: float) -> list[LatencyPoint]:
    """Every series' p95 and count over the window ending at `window_end`."""
    w = f"{window_s:g}"
    points = []
    for kind, p95_expr, count_expr, labels in (
        ("request", REQUEST_P95, REQUEST_COUNT, ("venue", "endpoint")),
        ("accept", ACCEPT_P95, ACCEPT_COUNT, ("venue",)),
    ):
        counts = {
            _name(kind, row["metric"], labels): float(row["value"][1])
            for row in query(count_expr.format(w=w), window_end)
        }
        for row in query(p95_expr.format(w=w), window_end):
            name = _name(kind, row["metric"], labels)
            value = float(row["value"][1])
            p95 = value if math.isfinite(value) else None
            points.append(LatencyPoint(window_end, name, p95, counts.get(name, 0.0)))
    return sorted(points, key=lambda p: p.series)


def _name(kind: str, metric: dict[str, str], labels: tuple[str, ...]) -> str:
    return " ".join([kind, *(metric.get(label, "?") for label in labels)])


@dataclass(frozen=True)
class Drift:
    """How one series moved from the first window after the warm-up to the last one."""

    series: str
    first_p95_s: float
    last_p95_s: float
    pct: float
    """(last - first) / max(first, floor), in percent."""


def drifts(points: list[LatencyPoint]) -> list[Drift]:
    """Drift of every series judged in both its first and its last window, worst first."""
    by_series: dict[str, list[LatencyPoint]] = {}
    for point in sorted(points, key=lambda p: p.window_end):
        if point.p95_s is not None and point.count >= MIN_COUNT:
            by_series.setdefault(point.series, []).append(point)
    found = []
    for series, judged in by_series.items():
        if len(judged) < 2:
            continue
        first, last = judged[0].p95_s, judged[-1].p95_s
        assert first is not None and last is not None
        pct = 100.0 * (last - first) / max(first, DRIFT_FLOOR_S)
        found.append(Drift(series, first, last, pct))
    return sorted(found, key=lambda d: d.pct, reverse=True)
