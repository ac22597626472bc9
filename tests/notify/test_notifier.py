"""Background delivery through real apprise to a real loopback sink: routing, retries, limits."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from arbqos.clock import FakeClock, SystemClock
from arbqos.notify import (
    Channel,
    Notice,
    NoticeKind,
    Notifier,
    NotifyMetrics,
    NotifyUrlsError,
    Routes,
    alert_notice,
    parse_channels,
    paused_notice,
)
from arbqos.vocab import Severity
from arbqos_harness.sink import NotificationSink
from tests.notify.conftest import FAST_RETRY

T0 = SystemClock().now_utc()


def _notice(n: int, severity: Severity = Severity.CRITICAL) -> Notice:
    return Notice(NoticeKind.ALERT_FIRING, f"ArbTest{n}", severity, summary=f"test alert {n}")


def _sent(registry: CollectorRegistry, channel: str, result: str = "sent") -> float | None:
    return registry.get_sample_value(
        "arb_notifications_total", {"channel": channel, "result": result}
    )


def _notifier(
    urls: str, metrics: NotifyMetrics, routes: Routes | None = None, **kwargs: object
) -> Notifier:
    channels = parse_channels(urls).channels
    options: dict[str, object] = {"clock": SystemClock(), "retry": FAST_RETRY, **kwargs}
    return Notifier(channels, routes or Routes(), metrics=metrics, **options)  # type: ignore[arg-type]


def test_a_notice_reaches_the_sink_and_its_log(
    sink: NotificationSink, metrics: NotifyMetrics, registry: CollectorRegistry, tmp_path: Path
) -> None:
    with _notifier(sink.apprise_url("/phone"), metrics, instance="vps-1") as notifier:
        notice = alert_notice(
            status="firing",
            labels={"alertname": "ArbRpcDown", "severity": "critical", "chain": "sx_rollup"},
            annotations={"summary": "SX Rollup RPC down"},
            starts_at=T0,
            paused=True,
            resume="waits for the RPC to answer, then resumes by itself",
        )
        assert notifier.submit(notice) == ("json#1",)
        (record,) = sink.wait_for(1)
        assert notifier.flush(5)
    assert record.path == "/phone" and record.json["type"] == "failure"
    assert record.json["title"] == "[vps-1] CRITICAL firing: SX Rollup RPC down"
    assert "where: chain=sx_rollup" in record.json["message"]
    assert "resume: waits for the RPC to answer" in record.json["message"]
    logged = [
        json.loads(line) for line in (tmp_path / "notifications.log").read_text().splitlines()
    ]
    assert [entry["path"] for entry in logged] == ["/phone"]
    assert _sent(registry, "json#1") == 1
    assert _sent(registry, "json#1", "failed") == 0


def test_severity_routing_end_to_end(
    sink: NotificationSink, metrics: NotifyMetrics, registry: CollectorRegistry
) -> None:
    urls = f"{sink.apprise_url('/phone')}\nops={sink.apprise_url('/ops')}\n"
    routes = Routes(critical=("all",), warning=("ops",), info=())
    with _notifier(urls, metrics, routes) as notifier:
        assert notifier.submit(_notice(1, Severity.WARNING)) == ("json#2",)
        assert notifier.submit(_notice(2, Severity.INFO)) == ()
        pause = paused_notice("ArbRpcDown", ["heartbeat ArbRpcDown"], since=T0, resume="x")
        assert notifier.submit(pause) == ("json#1", "json#2")
        assert notifier.flush(10)
    by_path = sorted((r.path, r.json["title"]) for r in sink.records)
    assert by_path == [
        ("/ops", "CRITICAL trading PAUSED: ArbRpcDown"),
        ("/ops", "WARNING firing: test alert 1"),
        ("/phone", "CRITICAL trading PAUSED: ArbRpcDown"),
    ]
    assert (_sent(registry, "json#1"), _sent(registry, "json#2")) == (1, 2)


def test_a_failing_channel_is_retried_until_it_succeeds(
    sink: NotificationSink,
    metrics: NotifyMetrics,
    registry: CollectorRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink.fail_next(2)
    with _notifier(sink.apprise_url("/x"), metrics) as notifier:
        notifier.submit(_notice(1))
        assert notifier.flush(10)
        (status,) = notifier.status()
    assert [r.mode for r in sink.records] == ["fail", "fail", "ok"]
    assert (_sent(registry, "json#1"), _sent(registry, "json#1", "failed")) == (1, 0)
    assert (status.sent, status.failed, status.last_error) == (1, 0, "")
    retries = [r.getMessage() for r in caplog.records if "retry in" in r.getMessage()]
    assert len(retries) == 2
    assert retries[0].startswith("notification to json#1 failed (attempt 1 of 3), retry in 0.1 s:")
    assert "error=500" in retries[0]


def test_giving_up_counts_failed_and_keeps_the_reason(
    sink: NotificationSink, metrics: NotifyMetrics, registry: CollectorRegistry
) -> None:
    sink.fail_next(100, status=503)
    with _notifier(sink.apprise_url("/x"), metrics) as notifier:
        notifier.submit(_notice(1))
        assert notifier.flush(10)
        (status,) = notifier.status()
    assert len(sink.records) == FAST_RETRY.attempts
    assert (_sent(registry, "json#1"), _sent(registry, "json#1", "failed")) == (0, 1)
    assert status.failed == 1 and "error=503" in status.last_error


def test_submit_never_waits_for_a_hanging_channel(
    sink: NotificationSink, metrics: NotifyMetrics, registry: CollectorRegistry
) -> None:
    with NotificationSink() as hung:
        hung.hang()
        urls = f"{hung.apprise_url('/hung')}\n{sink.apprise_url('/ok')}\n"
        notifier = _notifier(urls, metrics).start()
        durations = []
        for n in range(20):
            started = time.perf_counter()
            assert notifier.submit(_notice(n)) == ("json#1", "json#2")
            durations.append(time.perf_counter() - started)
        assert max(durations) < 0.01, durations
        sink.wait_for(20, timeout_s=15)  # the healthy channel is not held up by the hung one
        assert len(hung.records) == 1  # the hung channel is still on its first notice
        started = time.perf_counter()
        notifier.close(timeout_s=0.5)
        assert time.perf_counter() - started < 2.0
    assert _sent(registry, "json#2") == 20
    assert _sent(registry, "json#1", "dropped") == 19  # never delivered before shutdown


async def test_submit_from_asyncio_returns_at_once_while_a_channel_hangs(
    metrics: NotifyMetrics,
) -> None:
    with NotificationSink() as hung:
        hung.hang()
        notifier = _notifier(hung.apprise_url("/hung"), metrics).start()
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        started = time.perf_counter()
        for n in range(50):
            notifier.submit(_notice(n))
            await asyncio.sleep(0)
        assert time.perf_counter() - started < 0.05
        await asyncio.sleep(0.3)
        task.cancel()
        assert ticks >= 15  # the loop kept running while the channel hung
        notifier.close(timeout_s=0.2)


def test_a_full_queue_drops_the_oldest_and_the_next_message_says_so(
    metrics: NotifyMetrics, registry: CollectorRegistry
) -> None:
    with NotificationSink() as slow:
        slow.hang()
        notifier = _notifier(slow.apprise_url("/x"), metrics, queue_size=2).start()
        notifier.submit(_notice(0))
        slow.wait_for(1)  # notice 0 is in flight, held by the sink
        for n in range(1, 5):
            notifier.submit(_notice(n))
        assert _sent(registry, "json#1", "dropped") == 2  # 1 and 2 made room for 3 and 4
        slow.release()
        assert notifier.flush(10)
        notifier.close()
    titles = [r.json["title"] for r in slow.records]
    assert titles == [f"CRITICAL firing: test alert {n}" for n in (0, 3, 4)]
    assert (
        slow.records[1]
        .json["message"]
        .endswith("(2 earlier notices to this channel dropped while it was failing)")
    )
    assert "dropped" not in slow.records[2].json["message"]
    assert _sent(registry, "json#1") == 3


def test_the_same_notice_within_the_window_is_sent_once(
    sink: NotificationSink, metrics: NotifyMetrics, fake_clock: FakeClock
) -> None:
    notifier = Notifier(
        parse_channels(sink.apprise_url("/x")).channels,
        Routes(),
        metrics=metrics,
        clock=fake_clock,
        dedup_window_s=60,
    )
    with notifier:
        assert notifier.submit(_notice(1)) == ("json#1",)
        fake_clock.advance(59)
        assert notifier.submit(_notice(1)) == ()  # e.g. both Alertmanagers of an HA pair
        assert notifier.submit(_notice(2)) == ("json#1",)
        fake_clock.advance(2)
        assert notifier.submit(_notice(1)) == ("json#1",)
        assert notifier.flush(10)
    assert [r.json["title"] for r in sink.records] == [
        "CRITICAL firing: test alert 1",
        "CRITICAL firing: test alert 2",
        "CRITICAL firing: test alert 1",
    ]


def test_submit_from_many_threads_delivers_each_notice_once(
    sink: NotificationSink, metrics: NotifyMetrics, registry: CollectorRegistry
) -> None:
    with _notifier(sink.apprise_url("/x"), metrics) as notifier:

        def burst(base: int) -> None:
            for n in range(10):
                notifier.submit(_notice(base + n))
                notifier.submit(_notice(base + n))  # a repeat: de-duplicated

        threads = [threading.Thread(target=burst, args=(100 * t,)) for t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert notifier.flush(20)
    titles = [r.json["title"] for r in sink.records]
    assert len(titles) == len(set(titles)) == 40
    assert _sent(registry, "json#1") == 40


def test_close_delivers_what_is_queued_and_later_submits_are_refused(
    sink: NotificationSink, metrics: NotifyMetrics
) -> None:
    notifier = _notifier(sink.apprise_url("/x"), metrics).start()
    for n in range(3):
        notifier.submit(_notice(n))
    notifier.close(timeout_s=10)
    assert len(sink.records) == 3
    assert notifier.submit(_notice(9)) == ()


def test_no_channels_makes_submit_a_no_op(metrics: NotifyMetrics) -> None:
    with Notifier([], Routes(), metrics=metrics, clock=SystemClock()) as notifier:
        assert notifier.submit(_notice(1)) == ()
        assert notifier.flush(1)


def test_a_channel_apprise_cannot_use_is_refused_without_its_url(metrics: NotifyMetrics) -> None:
    bad = Channel("tgram#1", "tgram", frozenset(), "tgram://not-a-token-SECRETVALUE/1")
    with pytest.raises(NotifyUrlsError) as caught:
        Notifier([bad], Routes(), metrics=metrics, clock=SystemClock())
    assert str(caught.value).endswith("channel tgram#1: apprise cannot use this URL")
    assert "SECRETVALUE" not in str(caught.value)
