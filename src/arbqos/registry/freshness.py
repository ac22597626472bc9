"""How old a registry value is, and whether it is too old to be taken as live.

The registry keeps the last value it was given: when the heartbeat stops reporting, a chain
stays "up" and a balance stays at its last good read. Each value therefore carries its age
(now minus when it was observed), and past its source's stale limit it is marked stale: the
same limits the stale alerts use (ArbHeartbeatStale for chain health, ArbBalanceWatcherStale
for balances). A value with no observation time has no known age and counts as stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from arbqos.config import ArbqosConfig


@dataclass(frozen=True)
class StaleLimits:
    """Ages in seconds past which chain health and balances are stale."""

    chains_s: float
    """alerting.heartbeat_stale_intervals x heartbeat.interval_s (chain health, gas)."""
    balances_s: float
    """alerting.heartbeat_stale_intervals x balance_watcher.poll_interval_s (balances)."""

    @classmethod
    def of(cls, cfg: ArbqosConfig) -> StaleLimits:
        """The limits of a configuration.

        >>> StaleLimits.of(ArbqosConfig())
        StaleLimits(chains_s=90.0, balances_s=180.0)
        """
        intervals = cfg.alerting.heartbeat_stale_intervals
        return cls(
            chains_s=intervals * cfg.heartbeat.interval_s,
            balances_s=intervals * cfg.balance_watcher.poll_interval_s,
        )


DEFAULT_LIMITS = StaleLimits.of(ArbqosConfig())
"""The limits of the default configuration (90 s for chains, 180 s for balances)."""


@dataclass(frozen=True)
class Freshness:
    """The age of one value when the snapshot was taken, and whether it is stale."""

    age_s: float | None
    stale: bool

    @classmethod
    def of(cls, observed_at: datetime | None, now: datetime, limit_s: float) -> Freshness:
        """Age and staleness of a value observed at `observed_at`, seen at `now`.

        A value observed "in the future" (clock skew) has age 0, not a negative one.
        """
        if observed_at is None:
            return cls(None, True)
        age = max(0.0, (now - observed_at).total_seconds())
        return cls(round(age, 3), age > limit_s)
