"""TargetTrack: what is reported for a chain as attempts confirm (or not) its RPC and sequencer."""

from __future__ import annotations

from datetime import UTC, datetime

from arbqos.probes.base import ProbeResult
from arbqos.probes.confirm import ConfirmPolicy
from arbqos.probes.tracking import TargetTrack, is_live
from arbqos.registry.model import ChainHealth, SequencerStatus

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
POLICY = ConfirmPolicy()


def attempt(rpc_up: bool, status: SequencerStatus, detail: str = "") -> ProbeResult:
    health = ChainHealth("sx_rollup", rpc_up, status == "up", status, detail=detail)
    return ProbeResult(rpc_up and status == "up", detail or status, NOW, chain=health)


def feed(track: TargetTrack, *results: ProbeResult) -> None:
    for result in results:
        track.observe(result, POLICY)


def test_a_grace_is_live_and_an_unknown_feed_is_not() -> None:
    assert is_live(attempt(True, "recovering")) and is_live(attempt(True, "up"))
    assert not is_live(attempt(True, "unknown")) and not is_live(attempt(True, "down"))
    assert not is_live(attempt(False, "down"))
    assert is_live(ProbeResult(True, "ok", NOW)) and not is_live(ProbeResult(False, "x", NOW))


def test_an_unconfirmed_chain_is_left_out() -> None:
    track = TargetTrack("sx_rollup")
    assert track.view() == {"state": "unknown"} and track.confirmed() is None
    feed(track, attempt(True, "up"))
    assert track.confirmed_chain() is None and track.needs_retry


def test_a_stall_behind_a_healthy_rpc_reports_rpc_up_and_sequencer_down() -> None:
    track = TargetTrack("sx_rollup")
    feed(track, attempt(True, "up"), attempt(True, "up"), *[attempt(True, "down")] * 3)
    health = track.confirmed_chain()
    assert health is not None
    assert (health.rpc_up, health.sequencer_up, health.sequencer_status) == (True, False, "down")
    assert track.confirmed() is False and not track.needs_retry


def test_an_unconfirmed_failure_keeps_the_last_live_status_and_says_so() -> None:
    track = TargetTrack("sx_rollup")
    feed(track, attempt(True, "recovering"), attempt(True, "recovering"))
    feed(track, attempt(False, "down", "rpc failed: timeout"))
    health = track.confirmed_chain()
    assert health is not None
    assert (health.rpc_up, health.sequencer_status, health.sequencer_up) == (
        True,
        "recovering",
        False,
    )
    assert health.detail == "up, failure 1 of 3 before down: rpc failed: timeout"
    assert track.report_entry()["ok"] is False  # in its grace: not healthy, though live


def test_an_unconfirmed_recovery_still_reports_down() -> None:
    track = TargetTrack("sx_rollup")
    feed(track, *[attempt(False, "down")] * 3, attempt(True, "up", "chain 4162 head 9"))
    health = track.confirmed_chain()
    assert health is not None
    assert (health.rpc_up, health.sequencer_up, health.sequencer_status) == (False, False, "down")
    assert health.detail == "down, success 1 of 2 before up: chain 4162 head 9"


def test_a_confirmed_unreadable_feed_stays_unknown() -> None:
    track = TargetTrack("arbitrum")
    feed(track, *[attempt(True, "unknown")] * 3)
    health = track.confirmed_chain()
    assert health is not None and health.sequencer_status == "unknown" and not health.sequencer_up
    assert health.rpc_up is True  # the RPC answered every time: only the sequencer is down


def test_changes_name_what_changed() -> None:
    track = TargetTrack("sx_rollup")
    feed(track, attempt(True, "up"))
    change = track.observe(attempt(True, "up"), POLICY)
    assert change is not None
    assert change.fields() == {
        "target": "sx_rollup",
        "from": "unknown",
        "to": "up",
        "changed": {
            "state": ["unknown", "up"],
            "rpc_up": [None, True],
            "sequencer_up": [None, True],
            "sequencer_status": [None, "up"],
        },
    }
    assert track.observe(attempt(True, "up"), POLICY) is None
