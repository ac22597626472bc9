"""The QoS guard's rules, each stated once, over a window's exact running sums.

Definitions (shared with the alert rules and the evidence computation):

- The window at time `now` holds the events with `now - window_s < t <= now`.
- The gate: no rule holds while fewer than `min_orders` legs were submitted in the window.
- `ArbFillRatioLow`: filled / requested stake < `fill_ratio_min`, over the legs whose terminal
  result falls in the window. Stakes are kept in integer micro-USD (USDC and USDT have 6
  decimals), so the running sums are exact and never drift.
- `ArbAcceptTimeP95High`: the p95 accept time exceeds T. p95 is the nearest-rank 95th
  percentile of the accept times in the window: sort the n values ascending and take the one
  at rank ceil(0.95 n) (1-based). "p95 > T" holds exactly when more than 5 % of the accepts
  are slower than T: with k values above T, the rank-ceil(0.95 n) value exceeds T iff
  n - k < ceil(0.95 n) iff k > n - ceil(0.95 n) = floor(0.05 n) iff k > 0.05 n iff
  20 k - n > 0 (k is an integer). That is the alert's `1 - bucket{le=T} / count > 0.05`, so a
  window keeps one integer, `excess` = 20 k - n, as the sum of `slow_weight` over its accepts
  (+19 per slow accept, -1 per other); n, k and the p95 value itself are computed on demand.
"""

from __future__ import annotations

from dataclasses import dataclass

from arbqos.vocab import AlertName

MICRO = 1_000_000
"""Micro-USD per USD: stakes are summed as integers of this unit."""

RULES = (AlertName.FILL_RATIO_LOW, AlertName.ACCEPT_P95_HIGH)
"""The guard's rules, in the order of a `Verdict`."""

Verdict = tuple[bool, bool]
"""Whether each of `RULES` holds: (fill ratio low, p95 accept time high)."""

NO_BREACH: Verdict = (False, False)


def p95_nearest_rank(values: list[float]) -> float | None:
    """Nearest-rank 95th percentile (rank ceil(0.95 n), 1-based) of `values`; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = -(-95 * len(ordered) // 100)
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class QosRules:
    """The thresholds of `exec` and the rules they define over one window's running sums.

    >>> rules = QosRules(window_s=300.0, threshold_s=2.0, min_orders=20, fill_ratio_min=0.85)
    >>> rules.verdict(submitted=20, requested=10_000_000, filled=8_000_000, excess=-20)
    (True, False)
    """

    window_s: float
    threshold_s: float
    """The p95 accept time threshold T, seconds."""
    min_orders: int = 1
    fill_ratio_min: float = 1.0

    def gate_open(self, submitted: int) -> bool:
        """The rules judge a window only once `min_orders` legs were submitted in it."""
        return submitted >= self.min_orders

    def slow_weight(self, accept_s: float | None) -> int:
        """A result's term in `excess` = 20 x slow accepts - accepts (0 when nothing accepted)."""
        if accept_s is None:
            return 0
        return 19 if accept_s > self.threshold_s else -1

    def verdict(self, submitted: int, requested: int, filled: int, excess: int) -> Verdict:
        """Which of `RULES` hold for a window's sums (stakes in micro-USD); none below the gate."""
        if not self.gate_open(submitted):
            return NO_BREACH
        fill_ratio_low = requested > 0 and filled / requested < self.fill_ratio_min
        accept_p95_high = excess > 0  # more than 5 % of the accepts slower than T
        return fill_ratio_low, accept_p95_high

    def fill_detail(
        self, venue: str, *, requested: int, filled: int, submitted: int, results: int
    ) -> str:
        """Why `ArbFillRatioLow` holds: the ratio against its minimum, for the pause request."""
        return (
            f"venue={venue} fill_ratio={filled / requested:.4f} < {self.fill_ratio_min} over "
            f"{self.window_s:g}s (n={submitted} submitted, {results} results)"
        )

    def p95_detail(
        self, venue: str, *, p95_s: float, slow: int, accepts: int, submitted: int
    ) -> str:
        """Why `ArbAcceptTimeP95High` holds: the p95 against T, for the pause request."""
        return (
            f"venue={venue} p95_accept_time_ms={p95_s * 1000:.0f} > {self.threshold_s * 1000:.10g} "
            f"over {self.window_s:g}s (slow={slow}/{accepts} accepts, n={submitted} submitted)"
        )
