"""Azuro adapter: documented order states (tests/testdata/samples) into tracker events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from arbqos.clock import FakeClock
from arbqos.config.schema import ArbqosConfig
from arbqos.instrument import AzuroOrders, ExecutionTracker, azuro_raw_odds_prob

CREATED = datetime(2026, 1, 1, 0, 0, 0, 123000, tzinfo=UTC)  # createdAt of the sample


def results(registry: CollectorRegistry) -> dict[str, float]:
    return {
        r: registry.get_sample_value("arb_order_results_total", {"venue": "azuro", "result": r})
        or 0.0
        for r in ("filled", "partial", "rejected", "expired", "error")
    }


@pytest.fixture
def clocked_tracker(
    registry: CollectorRegistry, config: ArbqosConfig
) -> tuple[ExecutionTracker, FakeClock]:
    clock = FakeClock(start=CREATED)
    return ExecutionTracker(registry, config, clock=clock, bank=500.0), clock


def place_live(tracker: ExecutionTracker, sample: Callable[[str], Any]) -> AzuroOrders:
    """Orders with the documented sample order placed (live), still `Created`."""
    orders = AzuroOrders(tracker)
    request = sample("azuro/place_bet_request.json")
    orders.place(request, sample("azuro/place_bet_response.json"), phase="live")
    return orders


def test_created_then_accepted_records_one_fill(
    registry: CollectorRegistry,
    clocked_tracker: tuple[ExecutionTracker, FakeClock],
    sample: Callable[[str], Any],
) -> None:
    tracker, clock = clocked_tracker
    orders = AzuroOrders(tracker)
    leg = orders.place(
        sample("azuro/place_bet_request.json"),
        sample("azuro/place_bet_response.json"),
        phase="pregame",
    )
    assert leg.stake_usd == 10.0  # amount 10000000, USDT 6 decimals
    assert leg.quoted_prob == pytest.approx(1 / 1.8)  # minOdds 1800000000000, 12 decimals
    accepted = sample("azuro/get_bet_order_response.json")
    sent = {**accepted, "state": "Sent", "txHash": None}
    clock.advance(5.0)
    assert orders.update(sent) is None
    clock.advance(5.0)  # the poll sees Accepted at +10 s; the venue says updatedAt +9.333 s
    assert orders.update(accepted) == "filled"
    assert orders.update(accepted) is None  # the same state again: nothing twice
    assert results(registry)["filled"] == 1
    assert registry.get_sample_value("arb_stake_filled_usd_total", {"venue": "azuro"}) == 10.0
    assert registry.get_sample_value(
        "arb_accept_time_seconds_sum", {"venue": "azuro", "phase": "pregame"}
    ) == pytest.approx(9.333)
    # 1/1.85 obtained vs 1/1.8 quoted: about -150 bps (better for us)
    assert (
        registry.get_sample_value(
            "arb_quote_to_fill_slippage_bps_bucket", {"venue": "azuro", "le": "-200.0"}
        )
        is None
    )
    assert (
        registry.get_sample_value(
            "arb_quote_to_fill_slippage_bps_bucket", {"venue": "azuro", "le": "-100.0"}
        )
        == 1
    )
    assert registry.get_sample_value(
        "arb_stake_fraction_of_bank_sum", {"venue": "azuro"}
    ) == pytest.approx(0.02)
    assert len(orders) == 1

    settled = {**accepted, "state": "Settled", "result": "Won"}
    assert orders.update(settled) == "settled"
    assert registry.get_sample_value("arb_bets_settled_total", {"venue": "azuro"}) == 1
    assert registry.get_sample_value("arb_bets_voided_total", {"venue": "azuro"}) == 0
    assert len(orders) == 0


def test_rejected_and_canceled_before_acceptance(
    registry: CollectorRegistry,
    clocked_tracker: tuple[ExecutionTracker, FakeClock],
    sample: Callable[[str], Any],
) -> None:
    tracker, _ = clocked_tracker
    orders = AzuroOrders(tracker)
    request = sample("azuro/place_bet_request.json")
    orders.place(request, {"id": "a_1", "state": "Rejected", "error": "x"}, phase="live")
    orders.place(request, {"id": "a_2", "state": "Created"}, phase="live")
    assert orders.update({"id": "a_2", "state": "Canceled"}) == "rejected"
    assert results(registry)["rejected"] == 2
    assert (
        registry.get_sample_value(
            "arb_accept_time_seconds_count", {"venue": "azuro", "phase": "live"}
        )
        == 0
    )
    assert len(orders) == 0


def test_canceled_after_acceptance_is_a_void(
    registry: CollectorRegistry,
    clocked_tracker: tuple[ExecutionTracker, FakeClock],
    sample: Callable[[str], Any],
) -> None:
    tracker, clock = clocked_tracker
    orders = place_live(tracker, sample)
    accepted = sample("azuro/get_bet_order_response.json")
    clock.advance(1.0)  # updatedAt is later than local now: clamped to now
    assert orders.update(accepted) == "filled"
    assert registry.get_sample_value(
        "arb_accept_time_seconds_sum", {"venue": "azuro", "phase": "live"}
    ) == pytest.approx(1.0)
    assert orders.update({**accepted, "state": "PendingCancel"}) is None
    assert orders.update({**accepted, "state": "Canceled"}) == "voided"
    assert registry.get_sample_value("arb_bets_voided_total", {"venue": "azuro"}) == 1
    assert registry.get_sample_value("arb_bets_settled_total", {"venue": "azuro"}) == 1


def test_settled_seen_without_accepted_records_both(
    registry: CollectorRegistry,
    clocked_tracker: tuple[ExecutionTracker, FakeClock],
    sample: Callable[[str], Any],
) -> None:
    tracker, clock = clocked_tracker
    orders = place_live(tracker, sample)
    clock.advance(30.0)
    settled = {
        **sample("azuro/get_bet_order_response.json"),
        "state": "Settled",
        "result": "Canceled",
    }
    assert orders.update(settled) == "settled"  # settled as void
    assert results(registry)["filled"] == 1
    assert registry.get_sample_value("arb_bets_voided_total", {"venue": "azuro"}) == 1


def test_unknown_orders_and_states(
    clocked_tracker: tuple[ExecutionTracker, FakeClock], sample: Callable[[str], Any]
) -> None:
    orders = AzuroOrders(clocked_tracker[0])
    assert orders.update(sample("azuro/get_bet_order_response.json")) is None
    with pytest.raises(ValueError, match="unknown state 'Won'"):
        orders.update({"id": "x", "state": "Won"})
    with pytest.raises(ValueError, match="'state' is missing"):
        orders.update({"id": "x"})
    assert azuro_raw_odds_prob("2000000000000") == 0.5
    with pytest.raises(ValueError, match="not decimal odds above 1"):
        azuro_raw_odds_prob("900000000000")


def test_tracked_orders_are_bounded(
    clocked_tracker: tuple[ExecutionTracker, FakeClock], sample: Callable[[str], Any]
) -> None:
    orders = AzuroOrders(clocked_tracker[0], max_tracked=3)
    request = sample("azuro/place_bet_request.json")
    for i in range(5):
        orders.place(request, {"id": f"o_{i}", "state": "Created"}, phase="live")
    assert len(orders) == 3
