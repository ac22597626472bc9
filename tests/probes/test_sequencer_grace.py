"""Sequencer grace after recovery, judged on the chain's own timestamps (exact, no wall clock)."""

from __future__ import annotations

import pytest

from arbqos.chain.abi import RoundData
from arbqos.config.schema import ArbqosConfig
from arbqos.probes.targets import BlockProgress, judge_feed, judge_progress

T0 = 1_800_000_000.0
"""A unix time in the middle of a day."""


def _round(answer: int, started_at: float, updated_at: float, round_id: int = 7) -> RoundData:
    return RoundData(round_id, answer, int(started_at), int(updated_at), round_id)


def test_default_graces_suit_a_betting_bot() -> None:
    cfg = ArbqosConfig()
    assert cfg.endpoints.sequencer_grace_s == 300  # GMX's trading value, not Aave's 3600
    assert cfg.heartbeat.sx_stall_grace_s == 120


@pytest.mark.parametrize(
    ("since_flip", "status"), [(0, "recovering"), (300, "recovering"), (301, "up"), (86_400, "up")]
)
def test_arbitrum_grace_runs_from_started_at_of_the_flip(since_flip: int, status: str) -> None:
    now = T0 + since_flip
    assert judge_feed(_round(0, T0, T0), now, 300)[0] == status


def test_a_refreshed_round_with_the_same_status_does_not_restart_the_grace() -> None:
    """Aave's daily hour of pauses: a same-status refresh moves updatedAt, never startedAt."""
    flipped = T0 - 86_400
    for refreshed_ago in (0, 1, 60, 299, 3599):
        now = T0 + 5_000
        round_data = _round(0, flipped, now - refreshed_ago, round_id=9)
        status, reason = judge_feed(round_data, now, 300)
        assert status == "up", (refreshed_ago, reason)


def test_feed_down_invalid_and_unknown_answers() -> None:
    assert judge_feed(_round(1, T0, T0), T0 + 10_000, 300)[0] == "down"
    assert judge_feed(_round(0, 0, T0), T0, 300) == (
        "unknown",
        "uptime feed round invalid (startedAt 0)",
    )
    assert judge_feed(_round(5, T0, T0), T0, 300)[0] == "unknown"


def _progress(heads: list[tuple[int, float, float]], stall_probes: int = 3) -> BlockProgress:
    """Feed (head, block timestamp, probe time) observations; return the tracker."""
    progress = BlockProgress()
    for head, block_ts, now in heads:
        progress.observe(head, block_ts=block_ts, now_s=now, stall_probes=stall_probes)
    return progress


def test_sx_grace_counts_from_the_first_new_block_after_a_stall() -> None:
    stalled = [(100, T0, T0 + 30 * i) for i in range(4)]  # 3 probes without a new block
    progress = _progress([*stalled, (101, T0 + 100, T0 + 120)])
    assert progress.recovered_at == T0 + 100  # the block's own time, not the probe's (T0 + 120)
    assert judge_progress(0, 3, progress.recovered_at, T0 + 220, 120)[0] == "recovering"
    assert judge_progress(0, 3, progress.recovered_at, T0 + 221, 120)[0] == "up"


def test_an_old_block_from_a_catching_up_node_does_not_shorten_the_grace() -> None:
    stalled = [(100, T0, T0 + 30 * i) for i in range(5)]  # last stalled probe at T0 + 120
    progress = _progress([*stalled, (105, T0 + 10, T0 + 150)])  # block claims T0 + 10
    assert progress.recovered_at == T0 + 120  # resumed no earlier than the last stalled probe


def test_no_grace_without_a_stall() -> None:
    progress = _progress([(100, T0, T0), (100, T0, T0 + 30), (101, T0 + 40, T0 + 60)])
    assert progress.recovered_at is None  # two probes without a block is no stall (limit 3)
    assert judge_progress(0, 3, None, T0 + 60, 120)[0] == "up"


def test_a_stall_is_down_whatever_the_grace() -> None:
    status, reason = judge_progress(3, 3, T0, T0 + 1, 120)
    assert (status, reason) == ("down", "stalled: no new block for 3 probes (limit 3)")


def test_a_second_stall_starts_a_new_grace() -> None:
    first = [(100, T0, T0 + 30 * i) for i in range(4)] + [(101, T0 + 100, T0 + 120)]
    second = [(101, T0 + 100, T0 + 120 + 30 * i) for i in range(1, 4)]
    progress = _progress([*first, *second, (102, T0 + 500, T0 + 510)])
    assert progress.recovered_at == T0 + 500
