"""Every execution metric exists with its contract labels, every child at zero, exact buckets."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from arbqos.config.schema import ArbqosConfig
from arbqos.instrument import DEFAULT_ENDPOINTS, ERROR_CLASSES, EXECUTION_METRICS, ExecutionTracker
from arbqos.metrics.definitions import METRICS, ORDER_RESULTS, PHASES, VENUES, format_le


def families(registry: CollectorRegistry) -> dict[str, object]:
    return {m.name: m for m in registry.collect()}


def test_exactly_the_execution_metrics_of_the_contract(
    registry: CollectorRegistry, tracker: ExecutionTracker
) -> None:
    names = {m.name + ("_total" if m.type == "counter" else "") for m in registry.collect()}
    assert names == set(EXECUTION_METRICS)
    for metric in registry.collect():
        name = metric.name + ("_total" if metric.type == "counter" else "")
        assert metric.type == METRICS[name].type
        for sample in metric.samples:
            labels = set(sample.labels) - {"le"}
            assert labels == set(METRICS[name].labels), (sample.name, sample.labels)


@pytest.mark.parametrize("venue", VENUES)
def test_venue_counters_start_at_zero(
    registry: CollectorRegistry, tracker: ExecutionTracker, venue: str
) -> None:
    for name in (
        "arb_orders_submitted_total",
        "arb_stake_requested_usd_total",
        "arb_stake_filled_usd_total",
        "arb_stake_resolved_usd_total",
        "arb_bets_voided_total",
        "arb_bets_settled_total",
    ):
        assert registry.get_sample_value(name, {"venue": venue}) == 0.0, name
    for result in ORDER_RESULTS:
        value = registry.get_sample_value(
            "arb_order_results_total", {"venue": venue, "result": result}
        )
        assert value == 0.0, result


@pytest.mark.parametrize("venue", VENUES)
def test_histograms_start_at_zero(
    registry: CollectorRegistry, tracker: ExecutionTracker, venue: str
) -> None:
    for phase in PHASES:
        labels = {"venue": venue, "phase": phase}
        assert registry.get_sample_value("arb_accept_time_seconds_count", labels) == 0.0
        assert registry.get_sample_value("arb_accept_time_seconds_sum", labels) == 0.0
    for name in (
        "arb_quote_to_fill_seconds",
        "arb_quote_to_fill_slippage_bps",
        "arb_stake_fraction_of_bank",
    ):
        assert registry.get_sample_value(f"{name}_count", {"venue": venue}) == 0.0, name
        bucket = {"venue": venue, "le": "+Inf"}
        assert registry.get_sample_value(f"{name}_bucket", bucket) == 0.0, name


@pytest.mark.parametrize("venue", VENUES)
def test_request_children_start_at_zero_for_known_endpoints(
    registry: CollectorRegistry, tracker: ExecutionTracker, venue: str
) -> None:
    for endpoint in DEFAULT_ENDPOINTS[venue]:
        labels = {"venue": venue, "endpoint": endpoint}
        count = registry.get_sample_value("arb_venue_request_duration_seconds_count", labels)
        assert count == 0.0
        for error in ERROR_CLASSES:
            value = registry.get_sample_value(
                "arb_venue_request_errors_total", {**labels, "error": error}
            )
            assert value == 0.0, (endpoint, error)


def le_values(registry: CollectorRegistry, name: str, labels: dict[str, str]) -> list[str]:
    return [
        s.labels["le"]
        for m in registry.collect()
        for s in m.samples
        if s.name == f"{name}_bucket" and all(s.labels[k] == v for k, v in labels.items())
    ]


def test_accept_time_buckets_hold_the_threshold_exactly(
    registry: CollectorRegistry, tracker: ExecutionTracker, config: ArbqosConfig
) -> None:
    les = le_values(registry, "arb_accept_time_seconds", {"venue": "sx", "phase": "live"})
    threshold = format_le(config.exec.p95_accept_time_ms_max / 1000)
    assert threshold == "2.5"
    assert threshold in les
    assert les.index(threshold) < len(les) - 2  # a finite bucket stays above the threshold


def test_stake_fraction_buckets_hold_the_cap_exactly(
    registry: CollectorRegistry, tracker: ExecutionTracker, config: ArbqosConfig
) -> None:
    les = le_values(registry, "arb_stake_fraction_of_bank", {"venue": "azuro"})
    assert format_le(config.risk.stake_pct_cap) == "0.04"
    assert "0.04" in les


def test_two_trackers_on_one_registry_collide(
    registry: CollectorRegistry, config: ArbqosConfig
) -> None:
    ExecutionTracker(registry, config)
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        ExecutionTracker(registry, config)
