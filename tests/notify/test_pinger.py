"""The outbound dead man's switch ping: on schedule while all is well, never logging its URL."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client import CollectorRegistry

from arbqos.clock import FakeClock
from arbqos.notify import HeartbeatPinger, NotifyMetrics
from arbqos_harness.process import free_port
from arbqos_harness.sink import NotificationSink

CHECK_ID = "5b8f1c2e-FAKE-CHECK-4d6a9e0b7c31"


def _pings(registry: CollectorRegistry, result: str) -> float | None:
    return registry.get_sample_value(
        "arb_notifications_total", {"channel": "heartbeat_ping", "result": result}
    )


async def test_pings_every_interval_while_all_is_well(
    metrics: NotifyMetrics, registry: CollectorRegistry
) -> None:
    well = True
    clock = FakeClock()
    with NotificationSink(clock=clock) as sink:  # stamps requests in virtual time
        pinger = HeartbeatPinger(
            f"{sink.url}/ping/{CHECK_ID}",
            all_well=lambda: well,
            clock=clock,
            metrics=metrics,
            interval_s=60,
        )
        task = asyncio.create_task(pinger.run())
        try:
            await asyncio.to_thread(sink.wait_for, 3)
            well = False
            paused_at = len(sink.records)
            before = clock.monotonic()
            while clock.monotonic() - before < 600:  # ten virtual minutes, not well
                await asyncio.sleep(0.001)
            assert len(sink.records) == paused_at
            well = True
            await asyncio.to_thread(sink.wait_for, paused_at + 1)
            well = False
            for _ in range(500):  # the last answer may still be on its way back
                if _pings(registry, "sent") == len(sink.records):
                    break
                await asyncio.sleep(0.01)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    assert {(r.method, r.path) for r in sink.records} == {("GET", f"/ping/{CHECK_ID}")}
    offsets = [(r.received_at - sink.records[0].received_at).total_seconds() for r in sink.records]
    assert offsets[:3] == [0, 60, 120]  # on the schedule, in virtual time
    assert all(o % 60 == 0 for o in offsets) and offsets[paused_at] - offsets[paused_at - 1] >= 600
    assert _pings(registry, "sent") == len(sink.records)
    assert _pings(registry, "failed") == 0


async def test_failed_pings_are_counted_and_logged_without_the_url(
    metrics: NotifyMetrics, registry: CollectorRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # configure_logging() elsewhere quiets it
    with NotificationSink() as failing:
        failing.fail_next(1, status=500)
        pinger = HeartbeatPinger(
            f"{failing.url}/{CHECK_ID}", all_well=lambda: True, clock=FakeClock(), metrics=metrics
        )
        assert await pinger.ping_once() is False
        assert await pinger.ping_once() is True
    refused = HeartbeatPinger(
        f"http://127.0.0.1:{free_port()}/{CHECK_ID}",
        all_well=lambda: True,
        clock=FakeClock(),
        metrics=metrics,
    )
    assert await refused.ping_once() is False
    assert (_pings(registry, "sent"), _pings(registry, "failed")) == (1, 2)
    messages = [r.getMessage() for r in caplog.records]
    assert "heartbeat ping to the dead man's switch failed: HTTP 500" in messages
    assert any(
        m.startswith("heartbeat ping to the dead man's switch failed: ConnectError")
        for m in messages
    )
    assert "HTTP Request: GET" in caplog.text  # httpx logged the request ...
    assert CHECK_ID not in caplog.text  # ... without the check's secret id


def test_bad_settings_are_refused_without_echoing_the_url(metrics: NotifyMetrics) -> None:
    with pytest.raises(ValueError, match="must start with https://") as caught:
        HeartbeatPinger(f"hc://{CHECK_ID}", all_well=bool, clock=FakeClock(), metrics=metrics)
    assert CHECK_ID not in str(caught.value)
    with pytest.raises(ValueError, match="timeout_s 60 must be > 0 and below interval_s 60"):
        HeartbeatPinger(
            "https://hc.example/x", all_well=bool, clock=FakeClock(), metrics=metrics, timeout_s=60
        )
