"""The execution metrics of contract §4, registered once with every label child pre-bound."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry

from arbqos.config.schema import ArbqosConfig
from arbqos.instrument.calls import (
    DEFAULT_ENDPOINTS,
    ERROR_CLASSES,
    MAX_ENDPOINTS_PER_VENUE,
    check_endpoint,
)
from arbqos.metrics.definitions import (
    ORDER_RESULTS,
    PHASES,
    QUOTE_TO_FILL_BUCKETS_S,
    REQUEST_DURATION_BUCKETS_S,
    SLIPPAGE_BPS_BUCKETS,
    VENUES,
    accept_time_buckets,
    stake_fraction_buckets,
)
from arbqos.metrics.registry import create_metric

EXECUTION_METRICS: tuple[str, ...] = (
    "arb_orders_submitted_total",
    "arb_order_results_total",
    "arb_stake_requested_usd_total",
    "arb_stake_filled_usd_total",
    "arb_stake_resolved_usd_total",
    "arb_accept_time_seconds",
    "arb_quote_to_fill_seconds",
    "arb_quote_to_fill_slippage_bps",
    "arb_bets_voided_total",
    "arb_bets_settled_total",
    "arb_stake_fraction_of_bank",
    "arb_stake_unchecked_total",
    "arb_venue_request_duration_seconds",
    "arb_venue_request_errors_total",
    "arb_engine_bank_usd",
    "arb_engine_bank_known",
)


def _unset_clock() -> float:
    raise RuntimeError("lane used without a tracker: its clock is not set")


class Lane:
    """Pre-bound metric children of one (venue, phase): what one order lifecycle touches.

    `guard` is the QoS guard's window of the venue when a guard is attached (else None) and
    `mono` the tracker's monotonic clock; the tracker sets both.
    """

    __slots__ = (
        "accept",
        "filled",
        "fraction",
        "guard",
        "mono",
        "phase",
        "quote_to_fill",
        "requested",
        "resolved",
        "results",
        "slippage",
        "submitted",
        "unchecked",
        "venue",
    )

    def __init__(self, venue: str, phase: str, metrics: Mapping[str, Any]) -> None:
        self.venue = venue
        self.phase = phase
        self.submitted = metrics["arb_orders_submitted_total"].labels(venue)
        self.requested = metrics["arb_stake_requested_usd_total"].labels(venue)
        self.filled = metrics["arb_stake_filled_usd_total"].labels(venue)
        self.resolved = metrics["arb_stake_resolved_usd_total"].labels(venue)
        self.results = {
            r: metrics["arb_order_results_total"].labels(venue, r) for r in ORDER_RESULTS
        }
        self.accept = metrics["arb_accept_time_seconds"].labels(venue, phase)
        self.quote_to_fill = metrics["arb_quote_to_fill_seconds"].labels(venue)
        self.slippage = metrics["arb_quote_to_fill_slippage_bps"].labels(venue)
        self.fraction = metrics["arb_stake_fraction_of_bank"].labels(venue)
        self.unchecked = metrics["arb_stake_unchecked_total"].labels(venue)
        self.guard: Any = None
        self.mono: Callable[[], float] = _unset_clock


class ExecutionMetrics:
    """Registers the execution metrics on `registry` and pre-creates every label child at zero.

    Accept-time buckets contain `exec.p95_accept_time_ms_max / 1000` exactly and stake-fraction
    buckets contain `risk.stake_pct_cap` exactly, so the alert rules can use the exact form.
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        config: ArbqosConfig,
        *,
        endpoints: Mapping[str, Iterable[str]] = DEFAULT_ENDPOINTS,
    ) -> None:
        buckets = {
            "arb_accept_time_seconds": accept_time_buckets(config.exec.p95_accept_time_ms_max),
            "arb_quote_to_fill_seconds": QUOTE_TO_FILL_BUCKETS_S,
            "arb_quote_to_fill_slippage_bps": SLIPPAGE_BPS_BUCKETS,
            "arb_stake_fraction_of_bank": stake_fraction_buckets(config.risk.stake_pct_cap),
            "arb_venue_request_duration_seconds": REQUEST_DURATION_BUCKETS_S,
        }
        self.metrics: dict[str, Any] = {
            name: create_metric(registry, name, buckets=buckets.get(name))
            for name in EXECUTION_METRICS
        }
        self.lanes: dict[str, dict[str, Lane]] = {
            venue: {phase: Lane(venue, phase, self.metrics) for phase in PHASES} for venue in VENUES
        }
        self.voided = {v: self.metrics["arb_bets_voided_total"].labels(v) for v in VENUES}
        self.settled = {v: self.metrics["arb_bets_settled_total"].labels(v) for v in VENUES}
        self._calls: dict[str, dict[str, tuple[Any, dict[str, Any]]]] = {v: {} for v in VENUES}
        for venue, names in endpoints.items():
            for endpoint in names:
                self.call_children(venue, endpoint)

    def call_children(self, venue: str, endpoint: str) -> tuple[Any, dict[str, Any]]:
        """Return the (duration histogram, errors by class) children of one venue endpoint."""
        try:
            by_endpoint = self._calls[venue]
        except KeyError:
            raise ValueError(f"venue {venue!r} is unknown; use one of {VENUES}") from None
        children = by_endpoint.get(endpoint)
        if children is None:
            check_endpoint(endpoint)
            if len(by_endpoint) >= MAX_ENDPOINTS_PER_VENUE:
                raise ValueError(
                    f"venue {venue} already has {MAX_ENDPOINTS_PER_VENUE} endpoint labels; "
                    f"{endpoint!r} would exceed the bound: reuse a name for the same API route"
                )
            duration = self.metrics["arb_venue_request_duration_seconds"].labels(venue, endpoint)
            errors = self.metrics["arb_venue_request_errors_total"]
            children = (duration, {e: errors.labels(venue, endpoint, e) for e in ERROR_CLASSES})
            by_endpoint[endpoint] = children
        return children
