"""How a soak cuts its time: warm-up, latency windows, sampling; scaled down for short runs."""

from __future__ import annotations

from dataclasses import dataclass

from arbqos_harness.sim.history import HISTORY_S

WARMUP_S = 600.0
"""Warm-up of a long soak: caches, pools and the simulators' kept history fill up first."""
WARMUP_MIN_S = HISTORY_S + 60.0
"""The shortest warm-up: the simulators' kept history is full (their memory is at its level)."""
WINDOW_S = 300.0
"""Latency window of a long soak (p95 per 5 minutes)."""
SAMPLE_S = 10.0
"""RSS and CPU of every process, this often."""
MIN_DURATION_S = 600.0
"""Shortest soak: the shortest warm-up and four latency windows of 60 s."""
RSS_GROWTH_PCT_MAX = 25.0
LATENCY_DRIFT_PCT_MAX = 20.0


class PlanError(ValueError):
    """A soak setting that cannot work; the message names the flag and the fix."""


@dataclass(frozen=True)
class SoakPlan:
    """What the soak runs and how it cuts the time; `describe()` prints the choice."""

    duration_s: float
    rate: float
    """Arb opportunities per second (each an SX leg and an Azuro leg)."""
    heartbeat_interval_s: float
    warmup_s: float
    window_s: float
    sample_s: float = SAMPLE_S

    @property
    def windows_after_warmup(self) -> int:
        """Whole latency windows between the end of the warm-up and the end of the soak."""
        return int((self.duration_s - self.warmup_s) // self.window_s)

    def describe(self) -> str:
        """One line: the duration and how it is cut."""
        scaled = self.warmup_s < WARMUP_S or self.window_s < WINDOW_S
        why = " (scaled down for a short soak)" if scaled else ""
        return (
            f"soak {self.duration_s:g} s at {self.rate:g} opportunities/s, heartbeat every "
            f"{self.heartbeat_interval_s:g} s; warm-up {self.warmup_s:g} s, latency windows of "
            f"{self.window_s:g} s ({self.windows_after_warmup} after the warm-up), RSS/CPU every "
            f"{self.sample_s:g} s{why}"
        )


def plan_for(duration_s: float, rate: float, heartbeat_interval_s: float) -> SoakPlan:
    """The plan of a soak of `duration_s` seconds (PlanError on a value that cannot work).

    A long soak warms up 10 minutes and judges 5-minute windows. A short one warms up a
    quarter of its time but at least `WARMUP_MIN_S`, and cuts the rest into at least four
    windows, whole multiples of 30 s and never under 60 s: a 1200 s soak warms up 360 s and
    uses 210 s windows.
    """
    if not duration_s >= MIN_DURATION_S:
        raise PlanError(
            f"--duration-s {duration_s:g}: a soak needs at least {MIN_DURATION_S:g} s "
            "(a warm-up and four latency windows); 86400 is a day"
        )
    if not rate > 0:
        raise PlanError(f"--rate {rate:g}: give a positive number of opportunities per second")
    if not heartbeat_interval_s > 0:
        raise PlanError(
            f"--heartbeat-interval-s {heartbeat_interval_s:g}: give a positive number of seconds"
        )
    warmup = min(WARMUP_S, max(duration_s / 4, WARMUP_MIN_S))
    window = min(WINDOW_S, (duration_s - warmup) / 4)
    window = max(60.0, (window // 30) * 30)
    return SoakPlan(duration_s, rate, heartbeat_interval_s, warmup, window)
