"""The notification metrics on one registry, shared by the notifier, watchdog and pinger."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from arbqos.metrics.definitions import NOTIFICATION_RESULTS
from arbqos.metrics.registry import counter, gauge

HEARTBEAT_PING_CHANNEL = "heartbeat_ping"
"""The `channel` label of the outbound dead man's switch ping."""


class NotifyMetrics:
    """`arb_notifications_total{channel,result}` and `arb_alerting_pipeline_up`.

    Create it once per registry and hand it to every notify component.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.notifications = counter(registry, "arb_notifications_total")
        self.pipeline_up = gauge(registry, "arb_alerting_pipeline_up")
        self.pipeline_up.set(1)

    def prepare(self, channel: str, results: tuple[str, ...] = NOTIFICATION_RESULTS) -> None:
        """Create the series of `channel` at 0, so a first failure is a rate, not a new series."""
        for result in results:
            self.notifications.labels(channel=channel, result=result)

    def count(self, channel: str, result: str, amount: int = 1) -> None:
        """Count `amount` notices (or pings) of `channel` with `result`."""
        self.notifications.labels(channel=channel, result=result).inc(amount)
