"""ExecutionTracker: one order lifecycle in two calls updates exactly the expected series."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry

from arbqos.clock import FakeClock
from arbqos.config.schema import ArbqosConfig
from arbqos.instrument import ExecutionTracker, bank_usd
from arbqos.registry import RuntimeRegistry, WalletBalance


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    got = registry.get_sample_value(name, labels)
    assert got is not None, (name, labels)
    return got


def test_filled_leg_updates_every_lifecycle_metric(
    registry: CollectorRegistry, tracker: ExecutionTracker, fake_clock: FakeClock
) -> None:
    quoted_at = fake_clock.monotonic()
    fake_clock.advance(0.5)
    leg = tracker.submit("sx", "live", 50.0, quoted_prob=0.52, quoted_at=quoted_at)
    fake_clock.advance(2.0)
    leg.result("filled", filled_prob=0.5225)

    assert value(registry, "arb_orders_submitted_total", venue="sx") == 1
    assert value(registry, "arb_stake_requested_usd_total", venue="sx") == 50.0
    assert value(registry, "arb_stake_filled_usd_total", venue="sx") == 50.0
    assert value(registry, "arb_order_results_total", venue="sx", result="filled") == 1
    accept = {"venue": "sx", "phase": "live"}
    assert value(registry, "arb_accept_time_seconds_sum", **accept) == pytest.approx(2.0)
    assert value(registry, "arb_accept_time_seconds_bucket", **accept, le="2.0") == 1
    assert value(registry, "arb_accept_time_seconds_bucket", **accept, le="1.5") == 0
    pregame = {"venue": "sx", "phase": "pregame"}
    assert value(registry, "arb_accept_time_seconds_count", **pregame) == 0
    assert value(registry, "arb_quote_to_fill_seconds_sum", venue="sx") == pytest.approx(2.5)
    # paid 0.5225 for a 0.52 quote: 25 bps worse (no _sum: the buckets start below zero)
    slip = {"venue": "sx"}
    assert value(registry, "arb_quote_to_fill_slippage_bps_bucket", **slip, le="20.0") == 0
    assert value(registry, "arb_quote_to_fill_slippage_bps_bucket", **slip, le="50.0") == 1
    assert value(registry, "arb_stake_fraction_of_bank_sum", venue="sx") == pytest.approx(0.05)
    assert value(registry, "arb_stake_fraction_of_bank_bucket", venue="sx", le="0.04") == 0
    assert value(registry, "arb_stake_fraction_of_bank_bucket", venue="sx", le="0.05") == 1
    assert value(registry, "arb_orders_submitted_total", venue="azuro") == 0
    assert leg.outcome == "filled"


def test_better_price_gives_negative_slippage(
    registry: CollectorRegistry, tracker: ExecutionTracker
) -> None:
    tracker.submit("azuro", "pregame", 10.0, quoted_prob=0.55).result("filled", filled_prob=0.53)
    slip = {"venue": "azuro"}
    assert value(registry, "arb_quote_to_fill_slippage_bps_bucket", **slip, le="-100.0") == 1
    assert value(registry, "arb_quote_to_fill_slippage_bps_bucket", **slip, le="-50.0") == 1
    assert registry.get_sample_value("arb_quote_to_fill_slippage_bps_sum", slip) is None


def test_partial_counts_only_the_accepted_stake(
    registry: CollectorRegistry, tracker: ExecutionTracker, fake_clock: FakeClock
) -> None:
    leg = tracker.submit("sx", "pregame", 100.0, quoted_prob=0.4)
    fake_clock.advance(0.7)
    tracker.record_result(leg, "partial", filled_usd=30.0, filled_prob=0.4)
    assert value(registry, "arb_order_results_total", venue="sx", result="partial") == 1
    assert value(registry, "arb_stake_filled_usd_total", venue="sx") == 30.0
    assert value(registry, "arb_stake_requested_usd_total", venue="sx") == 100.0
    assert value(registry, "arb_stake_resolved_usd_total", venue="sx") == 100.0
    assert value(
        registry, "arb_accept_time_seconds_sum", venue="sx", phase="pregame"
    ) == pytest.approx(0.7)
    # no quote time given: no quote-to-fill observation is invented
    assert value(registry, "arb_quote_to_fill_seconds_count", venue="sx") == 0


@pytest.mark.parametrize("result", ["rejected", "expired", "error"])
def test_unaccepted_results_observe_no_accept_time(
    registry: CollectorRegistry, tracker: ExecutionTracker, result: str
) -> None:
    tracker.submit("azuro", "live", 20.0, quoted_prob=0.5).result(result)
    assert value(registry, "arb_order_results_total", venue="azuro", result=result) == 1
    assert value(registry, "arb_stake_filled_usd_total", venue="azuro") == 0
    assert value(registry, "arb_accept_time_seconds_count", venue="azuro", phase="live") == 0
    assert value(registry, "arb_quote_to_fill_slippage_bps_count", venue="azuro") == 0


def test_accepted_at_and_datetime_quote(
    registry: CollectorRegistry, tracker: ExecutionTracker, fake_clock: FakeClock
) -> None:
    quote_wall = fake_clock.now_utc()
    fake_clock.advance(1.0)
    leg = tracker.submit("sx", "live", 10.0, 0.5, quoted_at=quote_wall)
    fake_clock.advance(3.0)
    leg.result("filled", accepted_at=leg.submitted_at + 1.25)
    assert value(
        registry, "arb_accept_time_seconds_sum", venue="sx", phase="live"
    ) == pytest.approx(1.25)
    assert value(registry, "arb_quote_to_fill_seconds_sum", venue="sx") == pytest.approx(2.25)
    assert tracker.monotonic_of(quote_wall + timedelta(seconds=4)) == pytest.approx(
        fake_clock.monotonic()
    )


def test_settlements_and_voids(registry: CollectorRegistry, tracker: ExecutionTracker) -> None:
    tracker.settled("sx", "won")
    tracker.settled("sx", "lost")
    tracker.settled("sx", "void")
    tracker.voided("azuro")
    assert value(registry, "arb_bets_settled_total", venue="sx") == 3
    assert value(registry, "arb_bets_voided_total", venue="sx") == 1
    assert value(registry, "arb_bets_settled_total", venue="azuro") == 1
    assert value(registry, "arb_bets_voided_total", venue="azuro") == 1
    with pytest.raises(ValueError, match="unknown settlement 'push'"):
        tracker.settled("sx", "push")  # type: ignore[arg-type]
    assert value(registry, "arb_bets_settled_total", venue="sx") == 3  # nothing counted
    with pytest.raises(ValueError, match="unknown venue 'betfair'"):
        tracker.voided("betfair")


def test_bank_from_a_callable_and_unknown_bank(
    registry: CollectorRegistry, config: ArbqosConfig, fake_clock: FakeClock
) -> None:
    banks: list[float | None] = [None, 400.0]
    tracker = ExecutionTracker(registry, config, clock=fake_clock, bank=lambda: banks.pop(0))
    tracker.submit("sx", "live", 10.0, 0.5)
    assert value(registry, "arb_stake_fraction_of_bank_count", venue="sx") == 0
    tracker.submit("sx", "live", 10.0, 0.5)
    assert value(registry, "arb_stake_fraction_of_bank_sum", venue="sx") == pytest.approx(0.025)
    assert value(registry, "arb_stake_unchecked_total", venue="sx") == 1


def test_legs_without_a_bank_are_counted_unchecked_and_the_bank_is_exported(
    registry: CollectorRegistry, config: ArbqosConfig, fake_clock: FakeClock
) -> None:
    tracker = ExecutionTracker(registry, config, clock=fake_clock)
    assert (value(registry, "arb_engine_bank_known"), value(registry, "arb_engine_bank_usd")) == (
        0,
        0,
    )
    tracker.submit("sx", "live", 10.0, 0.5)
    tracker.submit("sx", "pregame", 10.0, 0.5)
    assert value(registry, "arb_stake_unchecked_total", venue="sx") == 2
    assert value(registry, "arb_stake_unchecked_total", venue="azuro") == 0
    tracker.set_bank(800.0)
    tracker.submit("sx", "live", 10.0, 0.5)
    assert value(registry, "arb_stake_unchecked_total", venue="sx") == 2
    assert value(registry, "arb_stake_fraction_of_bank_count", venue="sx") == 1
    assert (value(registry, "arb_engine_bank_known"), value(registry, "arb_engine_bank_usd")) == (
        1,
        800,
    )
    tracker.set_bank(0.0)
    assert tracker.bank is None and value(registry, "arb_engine_bank_known") == 0


def test_a_failing_bank_provider_reads_as_unknown_at_scrape(
    registry: CollectorRegistry, config: ArbqosConfig, fake_clock: FakeClock
) -> None:
    def broken() -> float | None:
        raise RuntimeError("no bank")

    tracker = ExecutionTracker(registry, config, clock=fake_clock, bank=broken)
    assert tracker.bank is None
    assert value(registry, "arb_engine_bank_known") == 0


async def test_bank_refreshed_from_the_runtime_registry(
    registry: CollectorRegistry, config: ArbqosConfig, fake_clock: FakeClock
) -> None:
    runtime = RuntimeRegistry(None)
    await runtime.set_balances(
        {
            "sx": WalletBalance("sx", "sx_rollup", "USDC", 300.0),
            "azuro": WalletBalance("azuro", "polygon", "USDT", 200.0),
        }
    )
    tracker = ExecutionTracker(registry, config, clock=fake_clock)
    assert await tracker.refresh_bank(runtime) == 500.0
    tracker.submit("azuro", "pregame", 25.0, 0.5)
    assert value(registry, "arb_stake_fraction_of_bank_sum", venue="azuro") == pytest.approx(0.05)
    assert bank_usd({"sx": WalletBalance("sx", "sx_rollup", "USDC", None)}) is None


def test_bad_input_is_refused_with_the_fix(tracker: ExecutionTracker) -> None:
    with pytest.raises(ValueError, match="unknown venue/phase 'betfair'/'live'"):
        tracker.submit("betfair", "live", 10.0, 0.5)
    with pytest.raises(ValueError, match="unknown venue/phase 'sx'/'inplay'"):
        tracker.submit("sx", "inplay", 10.0, 0.5)
    with pytest.raises(ValueError, match="positive USD amount"):
        tracker.submit("sx", "live", float("nan"), 0.5)
    leg = tracker.submit("sx", "live", 10.0, 0.5)
    with pytest.raises(ValueError, match="unknown result 'won'"):
        leg.result("won")
    with pytest.raises(ValueError, match="partial result needs filled_usd"):
        leg.result("partial")
    with pytest.raises(ValueError, match="rejected leg has no accepted stake"):
        leg.result("rejected", filled_usd=5.0)
    with pytest.raises(ValueError, match="before the leg was submitted"):
        leg.result("filled", accepted_at=leg.submitted_at - 1)
    leg.result("filled")
    with pytest.raises(ValueError, match="a retry is a new leg"):
        leg.result("filled")


def test_results_feed_the_guard_hook(
    registry: CollectorRegistry, config: ArbqosConfig, fake_clock: FakeClock
) -> None:
    events: list[tuple[object, ...]] = []

    class Window:
        def __init__(self, venue: str) -> None:
            self.venue = venue

        def add_submit(self, t: float) -> None:
            events.append(("submit", self.venue, t))

        def add_result(
            self, t: float, requested: float, filled: float, accept: float | None
        ) -> None:
            events.append(("result", self.venue, t, requested, filled, accept))

    class Hook:
        def bind(self, venue: str) -> Window:
            return Window(venue)

    tracker = ExecutionTracker(registry, config, clock=fake_clock, guard=Hook())
    leg = tracker.submit("sx", "live", 40.0, 0.5)
    fake_clock.advance(1.5)
    leg.result("partial", filled_usd=10.0)
    tracker.submit("azuro", "live", 5.0, 0.5).result("error")
    assert events == [
        ("submit", "sx", 0.0),
        ("result", "sx", 1.5, 40.0, 10.0, 1.5),
        ("submit", "azuro", 1.5),
        ("result", "azuro", 1.5, 5.0, 0.0, None),
    ]


def test_legs_in_flight_are_requested_but_not_resolved(
    registry: CollectorRegistry, tracker: ExecutionTracker
) -> None:
    done = tracker.submit("sx", "live", 40.0)
    tracker.submit("sx", "live", 60.0)  # still waiting for the venue
    tracker.record_result(done, "rejected")
    assert value(registry, "arb_stake_requested_usd_total", venue="sx") == 100.0
    assert value(registry, "arb_stake_resolved_usd_total", venue="sx") == 40.0
    assert value(registry, "arb_stake_filled_usd_total", venue="sx") == 0.0


def test_impossible_results_are_refused(tracker: ExecutionTracker) -> None:
    leg = tracker.submit("sx", "live", 10.0)
    with pytest.raises(ValueError, match="exceeds the leg's stake"):
        tracker.record_result(leg, "partial", filled_usd=12.0)
    with pytest.raises(ValueError, match="NaN"):
        tracker.record_result(leg, "filled", accepted_at=float("nan"))
    assert leg.outcome is None
