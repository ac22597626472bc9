"""Venue call timing: latency histogram and bounded error classes, sync, async and decorated."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from prometheus_client import CollectorRegistry

from arbqos.chain.rpc import RpcFailure
from arbqos.clock import FakeClock
from arbqos.instrument import ERROR_CLASSES, ExecutionTracker, VenueRejected, classify_error


def errors(registry: CollectorRegistry, venue: str, endpoint: str) -> dict[str, float]:
    return {
        e: registry.get_sample_value(
            "arb_venue_request_errors_total", {"venue": venue, "endpoint": endpoint, "error": e}
        )
        or 0.0
        for e in ERROR_CLASSES
    }


def count(registry: CollectorRegistry, venue: str, endpoint: str) -> float | None:
    return registry.get_sample_value(
        "arb_venue_request_duration_seconds_count", {"venue": venue, "endpoint": endpoint}
    )


def test_successful_call_observes_latency_only(
    registry: CollectorRegistry, tracker: ExecutionTracker, fake_clock: FakeClock
) -> None:
    with tracker.call("sx", "orders_fill"):
        fake_clock.advance(0.2)
    labels = {"venue": "sx", "endpoint": "orders_fill"}
    assert registry.get_sample_value(
        "arb_venue_request_duration_seconds_sum", labels
    ) == pytest.approx(0.2)
    assert (
        registry.get_sample_value(
            "arb_venue_request_duration_seconds_bucket", {**labels, "le": "0.1"}
        )
        == 0
    )
    assert (
        registry.get_sample_value(
            "arb_venue_request_duration_seconds_bucket", {**labels, "le": "0.25"}
        )
        == 1
    )
    assert set(errors(registry, "sx", "orders_fill").values()) == {0.0}


def test_exception_is_classified_counted_and_reraised(
    registry: CollectorRegistry, tracker: ExecutionTracker
) -> None:
    request = httpx.Request("POST", "http://127.0.0.1:9/orders/fill/v2")
    with pytest.raises(httpx.ReadTimeout), tracker.call("sx", "orders_fill"):
        raise httpx.ReadTimeout("slow", request=request)
    response = httpx.Response(429, request=request)
    with pytest.raises(httpx.HTTPStatusError), tracker.call("sx", "orders_fill"):
        response.raise_for_status()
    got = errors(registry, "sx", "orders_fill")
    assert got["timeout"] == 1 and got["http_429"] == 1
    assert sum(got.values()) == 2
    assert count(registry, "sx", "orders_fill") == 2


def test_fail_marks_a_normal_return(registry: CollectorRegistry, tracker: ExecutionTracker) -> None:
    with tracker.call("azuro", "bet_order_place") as call:
        call.fail("rejected")
    with tracker.call("azuro", "bet_order_place") as call:
        call.fail_status(503)
    with tracker.call("azuro", "bet_order_place") as call:
        call.fail_status(200)
    got = errors(registry, "azuro", "bet_order_place")
    assert got["rejected"] == 1 and got["http_5xx"] == 1 and sum(got.values()) == 2
    with (
        tracker.call("azuro", "bet_order_place") as call,
        pytest.raises(ValueError, match="unknown"),
    ):
        call.fail("teapot")


async def test_async_with_and_decorators(
    registry: CollectorRegistry, tracker: ExecutionTracker
) -> None:
    async with tracker.call("azuro", "subgraph"):
        await asyncio.sleep(0)

    @tracker.timed("azuro", "condition_batch")
    async def fetch(fail: bool) -> str:
        if fail:
            raise VenueRejected("INVALID_MARKET")
        return "ok"

    @tracker.timed("sx", "metadata")
    def metadata() -> dict[str, str]:
        return json.loads("{not json")  # type: ignore[no-any-return]

    assert await fetch(False) == "ok"
    with pytest.raises(VenueRejected):
        await fetch(True)
    with pytest.raises(json.JSONDecodeError):
        metadata()
    assert count(registry, "azuro", "subgraph") == 1
    assert count(registry, "azuro", "condition_batch") == 2
    assert errors(registry, "azuro", "condition_batch")["rejected"] == 1
    assert errors(registry, "sx", "metadata")["bad_json"] == 1


def test_new_endpoint_appears_with_all_error_children(
    registry: CollectorRegistry, tracker: ExecutionTracker
) -> None:
    assert count(registry, "sx", "heartbeat") is None
    with tracker.call("sx", "heartbeat"):
        pass
    assert count(registry, "sx", "heartbeat") == 1
    assert set(errors(registry, "sx", "heartbeat")) == set(ERROR_CLASSES)
    for e in ERROR_CLASSES:
        labels = {"venue": "sx", "endpoint": "heartbeat", "error": e}
        assert registry.get_sample_value("arb_venue_request_errors_total", labels) == 0


@pytest.mark.parametrize(
    "endpoint", ["https://api.sx.bet/orders", "/orders/fill", "Orders", "order-123", "", "a" * 49]
)
def test_unbounded_endpoint_labels_are_refused(tracker: ExecutionTracker, endpoint: str) -> None:
    with pytest.raises(ValueError, match="not a short name"):
        tracker.call("sx", endpoint)


def test_endpoint_count_is_bounded(tracker: ExecutionTracker) -> None:
    with pytest.raises(ValueError, match="would exceed the bound"):
        for i in range(40):
            tracker.call("azuro", f"route_{i}")


def test_unknown_venue(tracker: ExecutionTracker) -> None:
    with pytest.raises(ValueError, match="venue 'kalshi' is unknown"):
        tracker.call("kalshi", "orders")


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (TimeoutError(), "timeout"),
        (httpx.ConnectError("refused"), "connect"),
        (ConnectionResetError(), "connect"),
        (RpcFailure("http_5xx", "bad gateway"), "http_5xx"),
        (RpcFailure("weird", "x"), "rpc_error"),
        (asyncio.CancelledError(), "cancelled"),
        (KeyError("x"), "other"),
        (
            httpx.HTTPStatusError(
                "x",
                request=httpx.Request("GET", "http://127.0.0.1:9"),
                response=httpx.Response(404),
            ),
            "http_4xx",
        ),
    ],
)
def test_classify_error(exc: BaseException, expected: str) -> None:
    assert classify_error(exc) == expected
