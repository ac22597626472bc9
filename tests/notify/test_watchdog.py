"""The watched watcher, in virtual time: one silent notice, one back notice, the gauge."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from arbqos.clock import FakeClock
from arbqos.notify import NoticeKind, NotifyMetrics, WatchdogTracker, render_notice
from arbqos.vocab import Severity


def _up(registry: CollectorRegistry) -> float | None:
    return registry.get_sample_value("arb_alerting_pipeline_up")


def test_silent_then_back_exactly_once_each(
    fake_clock: FakeClock, metrics: NotifyMetrics, registry: CollectorRegistry
) -> None:
    tracker = WatchdogTracker(timeout_s=180, clock=fake_clock, metrics=metrics)
    assert tracker.state == "starting" and _up(registry) == 1
    for _ in range(60):  # an hour of arrivals every 61 s (repeat 60 s + group interval 1 s)
        fake_clock.advance(61)
        assert tracker.arrived() is None
        assert tracker.check() is None
    assert tracker.state == "up"
    last = fake_clock.now_utc()

    fake_clock.advance(180)
    assert tracker.check() is None  # at the timeout, not beyond: still up
    fake_clock.advance(1)
    silent = tracker.check()
    assert silent is not None and silent.kind is NoticeKind.ALERT_PATH_SILENT
    assert _up(registry) == 0 and not tracker.up
    for _ in range(100):  # a long outage: no repeat notices
        fake_clock.advance(60)
        assert tracker.check() is None
    assert silent.since == last and silent.route_severity is Severity.CRITICAL
    text = render_notice(silent)
    assert text.title == (
        "CRITICAL alert path SILENT: Prometheus/Alertmanager silent since "
        "2026-11-26T01:01:00.000Z: the backstop pause path is blind; the guard and heartbeat "
        "still pause"
    )
    assert "last ArbWatchdog at 2026-11-26T01:01:00.000Z, timeout 180 s" in text.body
    assert tracker.status() == {
        "state": "silent",
        "up": False,
        "last_watchdog_at": "2026-11-26T01:01:00.000Z",
        "silent_since": "2026-11-26T01:01:00.000Z",
        "timeout_s": 180,
    }

    back = tracker.arrived()
    assert back is not None and back.kind is NoticeKind.ALERT_PATH_BACK
    assert back.since == last and back.ended == fake_clock.now_utc()
    assert "back: 2026-11-26T02:44:01.000Z (after 1h 43m)" in render_notice(back).body
    assert _up(registry) == 1 and tracker.state == "up"
    assert tracker.arrived() is None and tracker.check() is None


def test_start_up_grace_counts_the_start_as_an_arrival(
    fake_clock: FakeClock, metrics: NotifyMetrics, registry: CollectorRegistry
) -> None:
    tracker = WatchdogTracker(timeout_s=180, clock=fake_clock, metrics=metrics)
    fake_clock.advance(180)
    assert tracker.check() is None and tracker.state == "starting" and _up(registry) == 1
    fake_clock.advance(1)
    silent = tracker.check()
    assert silent is not None and _up(registry) == 0
    assert "no ArbWatchdog since this orchestrator started at 2026-11-26T00:00:00.000Z" in (
        silent.detail
    )
    assert tracker.status()["last_watchdog_at"] is None


def test_a_first_arrival_within_the_grace_means_up(fake_clock: FakeClock) -> None:
    tracker = WatchdogTracker(timeout_s=180, clock=fake_clock, startup_grace_s=300)
    fake_clock.advance(250)
    assert tracker.check() is None
    assert tracker.arrived() is None and tracker.state == "up"
    fake_clock.advance(181)
    assert tracker.check() is not None  # after the first arrival the timeout applies


def test_timeout_must_be_positive(fake_clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="watchdog timeout_s must be > 0, got 0"):
        WatchdogTracker(timeout_s=0, clock=fake_clock)
