"""Resume policy: which pause reasons lift themselves, when, and when they escalate to a person.

Every reason has a class (`arbqos.vocab.ReasonClass`):

- `infra`: the heartbeat's and dead man's switch's reasons, alerts about chains, sequencers,
  RPCs, heartbeat staleness and the engine's metrics, and the state store. Once every
  infrastructure reason has been inactive (recovered) for `infra_resume_after_s`, they are
  cleared together: an automatic resume, journaled with the reasons it cleared.
- `qos`: the guard and the execution-quality alerts. Money is at stake: a person resumes.
- `manual`: a person's pause, or state lost at start: a person resumes.

Escalation: after `max_auto_resumes` automatic resumes within an hour, the next
infrastructure reason is marked `escalated` and waits for a person too, so a flapping RPC
cannot switch trading on and off all day. The count survives a restart (it is read back from
the journal), and so does a grace in progress (from the reasons' `inactive_since`).
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from arbqos.services.state import Reason, base_name
from arbqos.vocab import AlertName, PauseSource, ReasonClass, SystemReason

AUTO_RESUME_WINDOW = timedelta(hours=1)
"""The window `max_auto_resumes` counts over."""

INFRA_ALERTS: frozenset[str] = frozenset(
    {
        AlertName.SEQUENCER_DOWN,
        AlertName.RPC_DOWN,
        AlertName.HEARTBEAT_STALE,
        AlertName.CHAIN_RPC_DOWN,
        AlertName.CHAIN_HEAD_STALE,
        AlertName.PROBE_FAILED,
        AlertName.ENGINE_METRICS_ABSENT,
    }
)
"""Alerts about infrastructure; every other pausing alert is a QoS matter (a person decides)."""


def reason_class(source: str, name: str) -> ReasonClass:
    """The class of the reason (source, name); unknown alerts count as QoS (fail closed)."""
    if source == PauseSource.MANUAL:
        return ReasonClass.MANUAL
    if source == PauseSource.GUARD:
        return ReasonClass.QOS
    if source in (PauseSource.HEARTBEAT, PauseSource.DEADMAN):
        return ReasonClass.INFRA
    if source == PauseSource.SYSTEM:
        return ReasonClass.MANUAL if name == SystemReason.STATE_LOST else ReasonClass.INFRA
    if source == PauseSource.ALERT:
        return ReasonClass.INFRA if base_name(name) in INFRA_ALERTS else ReasonClass.QOS
    return ReasonClass.MANUAL


def lifts_itself(reason: Reason) -> bool:
    """True for an infrastructure reason that was not escalated."""
    return reason_class(reason.source, reason.name) is ReasonClass.INFRA and not reason.escalated


class ResumePolicy:
    """Decides automatic resumes: grace after recovery, and the hourly cap with escalation.

    >>> policy = ResumePolicy(infra_resume_after_s=60, max_auto_resumes=3)
    >>> policy.quiet_enough(reasons, quiet_s=61)
    True
    """

    def __init__(self, *, infra_resume_after_s: float, max_auto_resumes: int) -> None:
        self.infra_resume_after_s = infra_resume_after_s
        self.max_auto_resumes = max_auto_resumes
        self._resumes: deque[datetime] = deque()

    def remember(self, times: list[datetime]) -> None:
        """Load the automatic resumes of the last hour (from the journal, at start)."""
        self._resumes.extend(sorted(times))

    def record(self, at: datetime) -> None:
        """Count one automatic resume."""
        self._resumes.append(at)

    def recent(self, now: datetime) -> int:
        """Automatic resumes within the last hour."""
        while self._resumes and self._resumes[0] < now - AUTO_RESUME_WINDOW:
            self._resumes.popleft()
        return len(self._resumes)

    def escalating(self, now: datetime) -> bool:
        """True when a new infrastructure reason must wait for a person."""
        return self.recent(now) >= self.max_auto_resumes

    def liftable(self, reasons: list[Reason]) -> list[Reason]:
        """The reasons an automatic resume would clear now, ignoring time (empty: none)."""
        infra = [r for r in reasons if reason_class(r.source, r.name) is ReasonClass.INFRA]
        if not infra or any(r.active for r in infra):
            return []
        return [r for r in infra if not r.escalated]

    def waiting_for(self, reason: Reason, reasons: list[Reason], resume_in_s: float | None) -> str:
        """What `reason` waits for, in words for `GET /v1/status`."""
        klass = reason_class(reason.source, reason.name)
        if klass is ReasonClass.MANUAL or klass is ReasonClass.QOS or reason.escalated:
            why = (
                f"escalated after {self.max_auto_resumes} automatic resumes within an hour"
                if reason.escalated
                else f"{klass.value} reasons never resume by themselves"
            )
            if reason.active and not reason.latched:
                return f"its signal to recover, then an admin to resume ({why})"
            return f"an admin: POST /v1/resume with the admin token ({why})"
        if reason.active:
            return (
                f"its signal to recover; then it resumes by itself {self.infra_resume_after_s:g} s "
                "after every infrastructure reason recovered"
            )
        still = [
            f"{r.source}:{r.name}"
            for r in reasons
            if r.active and reason_class(r.source, r.name) is ReasonClass.INFRA
        ]
        if still:
            return f"resumes by itself once these recover too: {', '.join(still)}"
        if resume_in_s is None:
            return "resumes by itself shortly"
        return f"resumes by itself in {max(resume_in_s, 0):.0f} s"
