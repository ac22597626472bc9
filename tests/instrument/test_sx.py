"""SX Bet adapter on the documented fill request and response (tests/testdata/samples)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from arbqos.clock import FakeClock
from arbqos.instrument import (
    ExecutionTracker,
    record_sx_fill,
    submit_sx_fill,
    sx_fill_outcome,
    sx_implied_prob,
)


def test_documented_fill_is_a_full_fill_at_a_better_price(
    registry: CollectorRegistry,
    tracker: ExecutionTracker,
    fake_clock: FakeClock,
    sample: Callable[[str], Any],
) -> None:
    request = sample("sx/orders_fill_v2_request.json")
    response = sample("sx/orders_fill_v2_response.json")
    leg = submit_sx_fill(tracker, request, phase="pregame")
    assert leg.stake_usd == 50.0  # stakeWei 50000000 with 6 decimals
    assert leg.quoted_prob == 0.83  # desiredOdds / 1e20
    fake_clock.advance(0.6)
    outcome = record_sx_fill(leg, response)
    assert (outcome.result, outcome.filled_usd, outcome.filled_prob) == ("filled", 50.0, 0.73)
    assert (
        registry.get_sample_value("arb_order_results_total", {"venue": "sx", "result": "filled"})
        == 1
    )
    assert registry.get_sample_value("arb_stake_filled_usd_total", {"venue": "sx"}) == 50.0
    # 0.73 paid against 0.83 asked: 1,000 bps better (negative)
    slip = {"venue": "sx", "le": "-100.0"}
    assert registry.get_sample_value("arb_quote_to_fill_slippage_bps_bucket", slip) == 1
    assert registry.get_sample_value(
        "arb_accept_time_seconds_sum", {"venue": "sx", "phase": "pregame"}
    ) == pytest.approx(0.6)


def test_quote_given_by_the_caller_wins(
    registry: CollectorRegistry, tracker: ExecutionTracker, sample: Callable[[str], Any]
) -> None:
    request = sample("sx/orders_fill_v2_request.json")
    response = sample("sx/orders_fill_v2_response.json")
    leg = submit_sx_fill(tracker, request, phase="live", quoted_prob=0.7295)
    record_sx_fill(leg, response)
    # paid 0.73 for a 0.7295 quote: +5 bps, in the (0, 5] bucket
    assert (
        registry.get_sample_value(
            "arb_quote_to_fill_slippage_bps_bucket", {"venue": "sx", "le": "0.0"}
        )
        == 0
    )
    assert (
        registry.get_sample_value(
            "arb_quote_to_fill_slippage_bps_bucket", {"venue": "sx", "le": "5.0"}
        )
        == 1
    )


def test_partial_fill(
    registry: CollectorRegistry, tracker: ExecutionTracker, sample: Callable[[str], Any]
) -> None:
    request = sample("sx/orders_fill_v2_request.json")
    response = sample("sx/orders_fill_v2_response.json")
    response["data"].update(isPartialFill=True, totalFilled="12500000")
    leg = submit_sx_fill(tracker, request, phase="live")
    assert record_sx_fill(leg, response).result == "partial"
    assert registry.get_sample_value("arb_stake_filled_usd_total", {"venue": "sx"}) == 12.5
    assert (
        registry.get_sample_value("arb_order_results_total", {"venue": "sx", "result": "partial"})
        == 1
    )


@pytest.mark.parametrize(
    ("body", "result", "code"),
    [
        ({"status": "failure", "data": "ODDS_STALE"}, "rejected", "ODDS_STALE"),
        ({"status": "failure", "errorCode": "AFTER_ORDER_EXPIRY"}, "expired", "AFTER_ORDER_EXPIRY"),
        (
            {"status": "failure", "data": {"code": "INSUFFICIENT_SPACE"}},
            "rejected",
            "INSUFFICIENT_SPACE",
        ),
        ({"status": "failure"}, "rejected", "UNKNOWN"),
    ],
)
def test_failures(body: dict[str, Any], result: str, code: str) -> None:
    outcome = sx_fill_outcome(body)
    assert (outcome.result, outcome.filled_usd, outcome.code) == (result, 0.0, code)


def test_every_documented_fill_error_code_maps_to_a_result(sample: Callable[[str], Any]) -> None:
    codes = sample("sx/error_examples.json")["by_endpoint"]["POST /orders/fill/v2"]
    results = {c: sx_fill_outcome({"status": "failure", "data": c}).result for c in codes}
    assert results["AFTER_ORDER_EXPIRY"] == "expired"
    assert {r for c, r in results.items() if c != "AFTER_ORDER_EXPIRY"} == {"rejected"}


def test_bad_payloads_name_the_field(sample: Callable[[str], Any]) -> None:
    response = sample("sx/orders_fill_v2_response.json")
    del response["data"]["totalFilled"]
    with pytest.raises(ValueError, match="'totalFilled' is missing"):
        sx_fill_outcome(response)
    with pytest.raises(ValueError, match="exceed 10\\^20"):
        sx_implied_prob("200000000000000000000")
    with pytest.raises(ValueError, match="not an integer amount"):
        sx_implied_prob("0.83")
