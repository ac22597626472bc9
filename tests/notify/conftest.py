"""Fixtures for the notification tests: a loopback sink, notify metrics, a fast retry policy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from arbqos.notify import NotifyMetrics, RetryPolicy
from arbqos_harness.sink import NotificationSink

FAKE_TOKEN = "123456:FAKE-TOKEN-abcdef"
"""A recognisable Telegram bot token that must never show up outside the secrets file."""
FAKE_PASSWORD = "Pw-FAKE-s3cret-9876"
FAST_RETRY = RetryPolicy(attempts=3, first_delay_s=0.05, max_delay_s=0.1)


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[NotificationSink]:
    """A running notification sink writing `notifications.log` under tmp_path."""
    with NotificationSink(log_path=tmp_path / "notifications.log") as running:
        yield running


@pytest.fixture
def metrics(registry: CollectorRegistry) -> NotifyMetrics:
    """The notify metrics on the fresh test registry."""
    return NotifyMetrics(registry)
