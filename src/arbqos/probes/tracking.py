"""What the heartbeat knows of one target: the confirmed state behind its attempts, and its views.

Each target is confirmed on whether it is *live*: a venue endpoint when its probe is ok, a chain
when its RPC answered with the right chain id and its sequencer is up or recovering (a grace
after recovery is a judgement on timestamps, not a failed attempt). A chain's RPC is confirmed
separately, so a stalled sequencer behind a healthy RPC reports `rpc_up` 1, `sequencer_up` 0.

>>> track = TargetTrack("sx_rollup")
>>> change = track.observe(result, policy)
>>> track.confirmed_chain()   # None until confirmed; then the ChainHealth to report
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from arbqos.probes.base import ProbeResult
from arbqos.probes.confirm import Confirmation, ConfirmPolicy, TargetState
from arbqos.registry.model import ChainHealth, SequencerStatus

_LIVE: tuple[SequencerStatus, ...] = ("up", "recovering")


def is_live(result: ProbeResult) -> bool:
    """The attempt's verdict for confirmation (a chain in its grace period is live)."""
    if result.chain is None:
        return result.ok
    return result.chain.rpc_up and result.chain.sequencer_status in _LIVE


@dataclass(frozen=True)
class StateChange:
    """A confirmed change of a target: its view before and after one attempt."""

    target: str
    before: dict[str, Any]
    after: dict[str, Any]

    def fields(self) -> dict[str, Any]:
        """The `state_change` log line fields (besides `tick` and `attempt`)."""
        changed = {k: [self.before.get(k), v] for k, v in self.after.items()}
        return {
            "target": self.target,
            "from": self.before["state"],
            "to": self.after["state"],
            "changed": {k: pair for k, pair in changed.items() if pair[0] != pair[1]},
        }


class TargetTrack:
    """The confirmations of one target and the latest attempt behind them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.health = Confirmation()
        self.rpc = Confirmation()
        self.latest: ProbeResult | None = None
        self._live_status: SequencerStatus = "up"
        self._policy = ConfirmPolicy()

    def observe(self, result: ProbeResult, policy: ConfirmPolicy) -> StateChange | None:
        """Count one attempt; return the change of the confirmed view it caused, if any."""
        before = self.view()
        live = is_live(result)
        self.latest = result
        self._policy = policy
        self.health = self.health.observe(live, policy)
        if result.chain is not None:
            self.rpc = self.rpc.observe(result.chain.rpc_up, policy)
            if live:
                self._live_status = result.chain.sequencer_status
        after = self.view()
        return StateChange(self.name, before, after) if after != before else None

    @property
    def needs_retry(self) -> bool:
        """True while the latest attempt leaves a confirmation open."""
        chain = self.latest is not None and self.latest.chain is not None
        return self.health.needs_retry or (chain and self.rpc.needs_retry)

    def view(self) -> dict[str, Any]:
        """The confirmed facts: `state`, and for chains the flags the orchestrator acts on."""
        view: dict[str, Any] = {"state": str(self.health.state)}
        health = self.confirmed_chain()
        if health is not None:
            view.update(
                rpc_up=health.rpc_up,
                sequencer_up=health.sequencer_up,
                sequencer_status=health.sequencer_status,
            )
        return view

    def confirmed(self) -> bool | None:
        """True when confirmed healthy, False when confirmed not, None while unknown."""
        if self.health.state is TargetState.UNKNOWN:
            return None
        health = self.confirmed_chain()
        if health is not None:
            return health.rpc_up and health.sequencer_up
        return self.health.state is TargetState.UP

    def confirmed_chain(self) -> ChainHealth | None:
        """The chain's health as confirmed, to report and export; None while unknown."""
        raw = self.latest.chain if self.latest is not None else None
        if raw is None or self.health.state is TargetState.UNKNOWN:
            return None
        status: SequencerStatus
        if self.health.state is TargetState.DOWN:
            status = "down" if raw.sequencer_status in _LIVE else raw.sequencer_status
        elif self.latest is not None and is_live(self.latest):
            status = raw.sequencer_status
        else:
            status = self._live_status  # an unconfirmed failure keeps the last live status
        return replace(
            raw,
            rpc_up=self.rpc.state is TargetState.UP,
            sequencer_up=status == "up",
            sequencer_status=status,
            detail=self._detail(raw.detail),
        )

    def log_fields(self) -> dict[str, Any]:
        """The per-target object of a `tick` or `retry` line: the raw attempt, then confirmation."""
        assert self.latest is not None
        fields = self.latest.log_fields()
        fields.update(
            state=str(self.health.state),
            confirmed=self.confirmed(),
            in_row=self.health.in_row,
            confirm=self.health.progress(self._policy),
        )
        health = self.confirmed_chain()
        if health is not None:
            fields["confirmed_chain"] = {
                "rpc_up": health.rpc_up,
                "sequencer_up": health.sequencer_up,
                "sequencer_status": health.sequencer_status,
            }
        return fields

    def report_entry(self) -> dict[str, Any]:
        """The target in a report: `ok` is the confirmed verdict, `attempt_ok` the raw one."""
        assert self.latest is not None
        return {
            "ok": self.confirmed() is True,
            "latency_ms": round(self.latest.latency_seconds * 1000, 3),
            "detail": self._detail(self.latest.detail),
            "state": str(self.health.state),
            "attempt_ok": self.latest.ok,
        }

    def _detail(self, detail: str) -> str:
        if self.health.settled:
            return detail
        return f"{self.health.state}, {self.health.progress(self._policy)}: {detail}"
