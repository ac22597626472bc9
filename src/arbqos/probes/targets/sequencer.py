"""Sequencer judgements from what a chain probe read: SX Rollup block progress, Arbitrum's feed.

Both grant a grace after recovery during which the sequencer is *recovering* (reported with
`sequencer_up` 0): each counts it from the chain's own record of the recovery, never from when
arbqos happened to look. The judgements are pure functions, so the grace is tested exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime

from arbqos.chain.abi import RoundData
from arbqos.clock import format_ts
from arbqos.registry.model import SequencerStatus


class BlockProgress:
    """Count probes in a row that saw no new block, and when progress resumed after a stall.

    >>> progress = BlockProgress()
    >>> progress.observe(100, block_ts=1000.0, now_s=1001.0, stall_probes=10)
    0
    """

    def __init__(self) -> None:
        self.best: int | None = None
        self.probes_without_progress = 0
        self.recovered_at: float | None = None
        """Unix time the chain resumed after the latest stall (None: no stall seen)."""
        self._stalled_seen_at: float | None = None

    def observe(self, head: int, *, block_ts: float, now_s: float, stall_probes: int) -> int:
        """Record a head block; return how many probes in a row saw no new block."""
        if self.best is None or head > self.best:
            if self._stalled_seen_at is not None:
                # The chain resumed no earlier than the last probe that still saw the stall.
                self.recovered_at = max(block_ts, self._stalled_seen_at)
                self._stalled_seen_at = None
            self.best = head
            self.probes_without_progress = 0
            return 0
        self.probes_without_progress += 1
        if self.probes_without_progress >= stall_probes:
            self._stalled_seen_at = now_s
        return self.probes_without_progress


def judge_progress(
    still: int, stall_probes: int, recovered_at: float | None, now_s: float, grace_s: float
) -> tuple[SequencerStatus, str]:
    """Turn SX Rollup block progress into a status and a reason."""
    if still >= stall_probes:
        return "down", f"stalled: no new block for {still} probes (limit {stall_probes})"
    if recovered_at is not None:
        up_for = now_s - recovered_at
        if up_for <= grace_s:
            since = format_ts(datetime.fromtimestamp(recovered_at, UTC))
            return "recovering", (
                f"blocks again since {since} after a stall ({up_for:.0f}s <= grace {grace_s:g}s)"
            )
    return "up", f"no new block for {still} probes"


def judge_feed(round_data: RoundData, now_s: float, grace_s: float) -> tuple[SequencerStatus, str]:
    """Turn `latestRoundData()` of the uptime feed into a status and a reason."""
    if round_data.started_at == 0:
        return "unknown", "uptime feed round invalid (startedAt 0)"
    since = format_ts(datetime.fromtimestamp(round_data.started_at, UTC))
    if round_data.answer == 1:
        return "down", f"uptime feed reports sequencer down since {since}"
    if round_data.answer != 0:
        return "unknown", f"uptime feed answer {round_data.answer}: expected 0 (up) or 1 (down)"
    up_for = now_s - round_data.started_at
    if up_for <= grace_s:
        return "recovering", f"sequencer up since {since} ({up_for:.0f}s <= grace {grace_s:g}s)"
    return "up", f"uptime feed up since {since}"
