"""PromQL the dashboard shares: the venue filter, ages of the values it shows, their limits.

Ages are computed where the value is shown, not trusted from an exporter: a wallet balance's
age is the age the watcher measured at its last poll plus the time since that poll, so a dead
watcher makes its balances age (and turn stale) instead of freezing at a live-looking value.
"""

from __future__ import annotations

from dataclasses import dataclass

from arbqos.config import ArbqosConfig
from arbqos.generators.promql import gauge
from arbqos.vocab import Service

VENUE = 'venue=~"$venue"'
WALLET = 'wallet=~"$venue"'
RATE = "$__rate_interval"
HORIZON = "${horizon}"
NO_DATA = -1
"""Health cells show this when the series they read is missing (mapped to NO DATA, red)."""


def v(record: str) -> str:
    """A recording rule filtered by the venue variable."""
    return f"{record}{{{VENUE}}}"


def or_no_data(expr: str) -> str:
    """`expr`, or `NO_DATA` when it has no series: a missing health signal is not a good one."""
    return f"{expr} or on () vector({NO_DATA})"


def hash12(expr: str) -> str:
    """Add a `hash` label with the first 12 hex digits of `config_hash` (what people compare)."""
    return f'label_replace(\n  {expr},\n  "hash", "$1", "config_hash", "(.{{12}}).*"\n)'


def scraped(job: Service) -> str:
    """1 when Prometheus' last scrape of the job's targets worked, 0 when it failed."""
    return f'max(up{{job="{job}"}})'


HEARTBEAT_AGE = f"time() - max({gauge('arb_heartbeat_last_tick_timestamp_seconds')} > 0)"
POLL_AGE = f"time() - max({gauge('arb_balance_watcher_last_poll_timestamp_seconds')} > 0)"
WALLET_AGE = (
    f"max by (wallet) ({gauge('arb_wallet_balance_age_seconds')}{{{WALLET}}})\n"
    f"+ on () group_left () ({POLL_AGE})"
)
"""Seconds since each wallet's balance was last read successfully, as of now."""


@dataclass(frozen=True)
class Limits:
    """The ages the config allows: beyond them a value is stale."""

    heartbeat_interval_s: float
    heartbeat_stale_s: float
    poll_interval_s: float
    poll_stale_s: float

    @classmethod
    def of(cls, cfg: ArbqosConfig) -> Limits:
        """The limits the stale alerts use (ArbHeartbeatStale, ArbBalanceWatcherStale)."""
        intervals = cfg.alerting.heartbeat_stale_intervals
        return cls(
            heartbeat_interval_s=cfg.heartbeat.interval_s,
            heartbeat_stale_s=intervals * cfg.heartbeat.interval_s,
            poll_interval_s=cfg.balance_watcher.poll_interval_s,
            poll_stale_s=intervals * cfg.balance_watcher.poll_interval_s,
        )

    def heartbeat_fresh(self) -> str:
        """Filter: keeps the left side only while the heartbeat ticked within its limit."""
        return f"and on () ({HEARTBEAT_AGE} <= {self.heartbeat_stale_s:g})"

    def heartbeat_stale(self) -> str:
        """Filter: keeps the left side only while the heartbeat is stale or silent."""
        return f"unless on () ({HEARTBEAT_AGE} <= {self.heartbeat_stale_s:g})"
