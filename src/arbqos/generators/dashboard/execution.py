"""Execution quality over the QoS window (the numbers that pause) and the venue APIs.

Panels plot the recording rules over `exec.qos_window_s`, the window the alerts and the
in-process guard use, with the configured thresholds drawn as dashed lines.
"""

from __future__ import annotations

from typing import Any

from arbqos.config import ArbqosConfig
from arbqos.generators import recording as rec
from arbqos.generators.dashboard.exprs import RATE, VENUE, v
from arbqos.generators.dashboard.panels import Pos, Query, Threshold, row, timeseries_panel
from arbqos.generators.promql import bucket, count, counter, duration, increase_by, number


def _api_errors_by_class(window: str) -> str:
    """Share of an endpoint's calls that failed with each error class, only classes seen.

    Endpoints without calls in the window have no denominator series, so no NaN; `> 0` drops
    the error classes that did not occur (every class is pre-initialised at zero).
    """
    errors = counter("arb_venue_request_errors_total") + f"{{{VENUE}}}"
    calls = count("arb_venue_request_duration_seconds") + f"{{{VENUE}}}"
    return (
        f"{increase_by('venue, endpoint, error', errors, window)}\n"
        "/ on (venue, endpoint) group_left\n"
        f"sum by (venue, endpoint) (increase({calls}[{window}]) > 0)\n"
        "> 0"
    )


def _quality(cfg: ArbqosConfig, y: int) -> list[Any]:
    ex, w = cfg.exec, duration(cfg.exec.qos_window_s)
    threshold_s = ex.p95_accept_time_ms_max / 1000
    armed = f"with at least {ex.min_orders_in_window} legs"
    return [
        timeseries_panel(
            19,
            "Accept time p50 / p95 by venue and phase",
            Pos(0, y, 12, 8),
            "s",
            [
                Query(v(rec.ACCEPT_PHASE_P95), "p95 {{venue}} {{phase}}"),
                Query(v(rec.ACCEPT_PHASE_P50), "p50 {{venue}} {{phase}}"),
            ],
            description=(
                f"Submit to accepted over the last {w} (histogram_quantile, approximate). "
                f"Dashed line: exec.p95_accept_time_ms_max = {ex.p95_accept_time_ms_max} ms."
            ),
            threshold=Threshold(threshold_s),
        ),
        timeseries_panel(
            20,
            f"Accepts slower than {number(threshold_s)} s (exact, alert input)",
            Pos(12, y, 12, 8),
            "percentunit",
            [Query(v(rec.ACCEPT_SLOW_RATIO), "{{venue}}")],
            description=(
                f"Share of accepts in the last {w} above the threshold bucket. Above 5 % "
                f"(dashed) {armed}, ArbAcceptTimeP95High pauses trading."
            ),
            threshold=Threshold(0.05),
            bounds=(0, None),
        ),
        timeseries_panel(
            21,
            "Fill ratio (filled / requested stake)",
            Pos(0, y + 8, 8, 8),
            "percentunit",
            [Query(v(rec.FILL_RATIO), "{{venue}}")],
            description=(
                f"Over the last {w}. Below exec.fill_ratio_min = {number(ex.fill_ratio_min)} "
                f"(dashed) {armed}, ArbFillRatioLow pauses."
            ),
            threshold=Threshold(ex.fill_ratio_min, bad_below=True),
            bounds=(0, 1),
        ),
        timeseries_panel(
            22,
            "Partial fills and order errors (share of results)",
            Pos(8, y + 8, 8, 8),
            "percentunit",
            [
                Query(v(rec.PARTIAL_RATIO), "partial {{venue}}"),
                Query(v(rec.ERROR_RATIO), "error {{venue}}"),
            ],
            description=f"Share of terminal order results over the last {w}.",
            bounds=(0, None),
        ),
        timeseries_panel(
            23,
            "Stake requested, filled and resolved (USD in the window)",
            Pos(16, y + 8, 8, 8),
            "currencyUSD",
            [
                Query(v(rec.STAKE_REQUESTED_WINDOW), "requested {{venue}}"),
                Query(v(rec.STAKE_FILLED_WINDOW), "filled {{venue}}"),
                Query(v(rec.STAKE_RESOLVED_WINDOW), "resolved {{venue}}"),
            ],
            description=(
                f"USD over the last {w}. The fill ratio is filled / resolved: legs still in "
                "flight (requested, not resolved) never count as unfilled."
            ),
            bounds=(0, None),
        ),
        timeseries_panel(
            24,
            "Quote to fill time p95",
            Pos(0, y + 16, 8, 8),
            "s",
            [Query(v(rec.QUOTE_TO_FILL_P95), "p95 {{venue}}")],
            description=f"From observing the quote to the fill being accepted, last {w}.",
        ),
        timeseries_panel(
            25,
            "Slippage quote to fill (basis points, positive = worse)",
            Pos(8, y + 16, 8, 8),
            "suffix:bp",
            [
                Query(v(rec.SLIPPAGE_P95), "p95 {{venue}}"),
                Query(v(rec.SLIPPAGE_P50), "p50 {{venue}}"),
            ],
            description=f"Filled vs quoted implied probability, last {w}.",
        ),
        timeseries_panel(
            26,
            "Legs submitted and results in the window",
            Pos(16, y + 16, 8, 8),
            "short",
            [
                Query(v(rec.ORDERS_WINDOW), "submitted {{venue}}"),
                Query(v(rec.RESULTS_BY_RESULT_WINDOW), "{{result}} {{venue}}"),
            ],
            description=(
                f"Counts over the last {w}. QoS alerts are armed from "
                f"exec.min_orders_in_window = {ex.min_orders_in_window} submitted legs (dashed)."
            ),
            threshold=Threshold(ex.min_orders_in_window, bad_below=True),
        ),
    ]


def _venue_api(cfg: ArbqosConfig, y: int) -> list[Any]:
    w = duration(cfg.exec.qos_window_s)
    requests = "arb_venue_request_duration_seconds"
    return [
        row(27, "Venue APIs", y),
        timeseries_panel(
            28,
            "Venue API error ratio by endpoint",
            Pos(0, y + 1, 8, 8),
            "percentunit",
            [Query(v(rec.API_ERROR_RATIO), "{{venue}} {{endpoint}}")],
            description=f"Failed / all calls of each endpoint over the last {w}.",
            bounds=(0, None),
        ),
        timeseries_panel(
            29,
            "Venue API errors by class (share of calls)",
            Pos(8, y + 1, 8, 8),
            "percentunit",
            [Query(_api_errors_by_class(w), "{{venue}} {{endpoint}} {{error}}")],
            description=(
                f"Failed calls of each error class / all calls of the endpoint over the last {w}; "
                "only classes that occurred. An endpoint's classes add up to its error ratio."
            ),
            bounds=(0, None),
        ),
        timeseries_panel(
            30,
            "Venue API latency p95 by endpoint",
            Pos(16, y + 1, 8, 8),
            "s",
            [
                Query(
                    "histogram_quantile(0.95, sum by (venue, endpoint, le) "
                    f"(rate({bucket(requests)}{{{VENUE}}}[{RATE}])))",
                    "{{venue}} {{endpoint}}",
                )
            ],
            description="Venue API and RPC call latency, p95 per endpoint.",
        ),
    ]


def execution_panels(cfg: ArbqosConfig, y: int) -> list[Any]:
    """The execution row at `y` (ids 18-26) and the venue API row below it (ids 27-30)."""
    w = duration(cfg.exec.qos_window_s)
    return [
        row(18, f"Execution quality over the QoS window ({w}): what pauses", y),
        *_quality(cfg, y + 1),
        *_venue_api(cfg, y + 25),
    ]
