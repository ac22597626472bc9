"""PauseControl: the pause state machine, its reasons, durable units of work and the journal."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge

from arbqos.clock import Clock, format_ts
from arbqos.errors import ArbqosError
from arbqos.metrics.registry import counter, gauge
from arbqos.services.state import (
    SYSTEM,
    Actor,
    Reason,
    ReasonLabels,
    State,
)
from arbqos.services.store import JournalEntry, StateStore, prune_horizon
from arbqos.vocab import PAUSABLE_ALERTS, AlertName, PauseSource

logger = logging.getLogger(__name__)

ReasonKey = tuple[str, str]


class ResumeRefused(ArbqosError):
    """Resume was refused because automatic reasons are still active (HTTP 409)."""

    def __init__(self, active: list[Reason]) -> None:
        self.active = active
        names = ", ".join(f"{r.source}:{r.name}" for r in active)
        super().__init__(
            f"still active: {names}; wait until they recover or resume with force=true"
        )


@dataclass(frozen=True)
class Outcome:
    """What a pause or resume did: the resulting state and whether anything changed."""

    state: State
    changed: bool
    cleared: tuple[Reason, ...] = ()


class Unit:
    """One durable unit of work: reason edits plus journal rows, committed together.

    Obtain it from `PauseControl.unit()`; it edits a copy that replaces the live state only
    after the transaction committed.
    """

    def __init__(self, control: PauseControl, action: str, actor: Actor) -> None:
        self.action = action
        self.actor = actor
        self.now = control.clock.now_utc()
        self.reasons: dict[ReasonKey, Reason] = dict(control.reasons_by_key)
        self.suppressed: set[ReasonKey] = set(control.suppressed)
        self.activated: list[Reason] = []
        self.deactivated: list[ReasonKey] = []
        self._store = control.store
        self._rows: list[dict[str, Any]] = []

    def activate(self, source: str, name: str, detail: str) -> bool:
        """Make a reason active; False when it already was."""
        current = self.reasons.get((source, name))
        if current is not None and current.active:
            return False
        reason = Reason(source=source, name=name, since=self.now, detail=detail)
        self._put(reason)
        self.activated.append(reason)
        self._row("reason", "reason_activated", reason, changed=True)
        return True

    def deactivate(self, key: ReasonKey, detail: str = "") -> bool:
        """Mark an automatic reason inactive (its signal recovered); False when nothing changed."""
        current = self.reasons.get(key)
        if current is None or not current.active:
            return False
        reason = replace(current, active=False, inactive_since=self.now)
        self._put(reason)
        self.deactivated.append(key)
        self._row("reason", "reason_inactive", reason, changed=True, detail=detail)
        return True

    def clear(self, key: ReasonKey) -> None:
        """Remove a reason."""
        reason = self.reasons.pop(key)
        self._store.delete_reason(key)
        self._row("reason", "reason_cleared", reason, changed=True)

    def note(
        self,
        *,
        changed: bool,
        source: str | None = None,
        reason: str | None = None,
        detail: str = "",
        data: dict[str, Any] | None = None,
    ) -> None:
        """Journal the request this unit serves."""
        self._rows.append(
            {
                "kind": "request",
                "action": self.action,
                "changed": changed,
                "source": source,
                "reason": reason,
                "detail": detail,
                "data": data or {},
            }
        )

    def _put(self, reason: Reason) -> None:
        self.reasons[reason.key] = reason
        self._store.put_reason(reason)

    def _row(
        self, kind: str, action: str, reason: Reason, *, changed: bool, detail: str = ""
    ) -> None:
        self._rows.append(
            {
                "kind": kind,
                "action": action,
                "changed": changed,
                "source": reason.source,
                "reason": reason.name,
                "detail": detail or reason.detail,
                "data": {"via": self.action},
            }
        )

    def finish(self, before: State) -> State:
        """Write the state and the journal rows; return the new state."""
        after = State.PAUSED if self.reasons else State.RUNNING
        rows = sorted(self._rows, key=lambda row: row["kind"] != "request")
        if after != before:
            rows.append(
                {
                    "kind": "transition",
                    "action": self.action,
                    "changed": True,
                    "source": None,
                    "reason": None,
                    "detail": f"{before.value} -> {after.value}",
                    "data": {"reasons": [f"{s}:{n}" for s, n in sorted(self.reasons)]},
                }
            )
            self._store.put_state(after, self.now)
        for row in rows:
            self._store.append(
                JournalEntry(
                    ts=self.now, actor=self.actor, state_before=before, state_after=after, **row
                )
            )
        self._store.put_suppressed(self.suppressed)
        return after


class PauseControl:
    """The single authority on "may the bot trade": state, reasons, persistence, metrics.

    >>> control = PauseControl(StateStore(tmp), clock=SystemClock(), registry=registry)
    >>> control.pause("manual", "maintenance", "", Actor("admin", "127.0.0.1")).changed
    True
    """

    def __init__(
        self,
        store: StateStore,
        *,
        clock: Clock,
        registry: CollectorRegistry,
        auto_resume: bool = False,
        auto_resume_grace_s: float = 300.0,
    ) -> None:
        self.store = store
        self.clock = clock
        self.auto_resume = auto_resume
        self.auto_resume_grace_s = auto_resume_grace_s
        self._paused_gauge: Gauge = gauge(registry, "arb_orchestrator_paused")
        self._pauses: Counter = counter(registry, "arb_orchestrator_pauses_total")
        self._labels = ReasonLabels()
        for source, name in _PREINIT:
            self._pauses.labels(source, name)
        self.last_forced_resume: float | None = None
        """Monotonic time of the last resume that overrode active reasons."""
        loaded = store.load()
        self.reasons_by_key = {r.key: r for r in loaded.reasons}
        self._reasons_json = [r.to_json() for r in self.reasons]
        self.suppressed = loaded.suppressed
        self.state = State.PAUSED if self.reasons_by_key else State.RUNNING
        self.since: datetime = loaded.since or clock.now_utc()
        start = clock.monotonic()
        self._inactive_mono: dict[ReasonKey, float] = {
            k: start for k, r in self.reasons_by_key.items() if not r.active
        }
        with store.transaction():
            store.put_state(self.state, self.since)
            store.prune_instances(prune_horizon(clock.now_utc()))
        self._paused_gauge.set(1 if self.state is State.PAUSED else 0)

    @property
    def reasons(self) -> list[Reason]:
        """Every current reason, oldest first."""
        return sorted(self.reasons_by_key.values(), key=lambda r: (r.since, r.source, r.name))

    @contextmanager
    def unit(self, action: str, actor: Actor) -> Iterator[Unit]:
        """Run edits in one transaction; the live state changes only once it committed."""
        unit = Unit(self, action, actor)
        before = self.state
        with self.store.transaction():
            yield unit
            after = unit.finish(before)
        self._apply(unit, before, after)

    def pause(self, source: str, name: str, detail: str, actor: Actor) -> Outcome:
        """Pause for (source, name); idempotent: `changed` is False when already active."""
        with self.unit("pause", actor) as unit:
            changed = unit.activate(source, name, detail)
            unit.suppressed.discard((source, name))
            unit.note(changed=changed, source=source, reason=name, detail=detail)
        return Outcome(self.state, changed)

    def resume(self, actor: Actor, *, force: bool = False, detail: str = "") -> Outcome:
        """Clear every reason; refuse while automatic reasons are active unless `force`.

        Raises:
            ResumeRefused: listing the active automatic reasons (nothing is changed).
        """
        active = [r for r in self.reasons if r.active and not r.latched]
        if active and not force:
            with self.unit("resume", actor) as unit:
                refused = [f"{r.source}:{r.name}" for r in active]
                unit.note(changed=False, detail=detail, data={"refused": refused})
            raise ResumeRefused(active)
        cleared = tuple(self.reasons)
        with self.unit("resume", actor) as unit:
            for reason in cleared:
                unit.clear(reason.key)
            overridden = {r.key for r in active}
            unit.suppressed |= {key for key in overridden if key[0] == PauseSource.HEARTBEAT}
            self.store.override_firing(
                {name for source, name in overridden if source == PauseSource.ALERT}
            )
            unit.note(
                changed=bool(cleared),
                detail=detail,
                data={"force": force, "overridden": [f"{s}:{n}" for s, n in sorted(overridden)]},
            )
        if active:
            self.last_forced_resume = self.clock.monotonic()
            logger.warning(
                "forced resume while reasons were active",
                extra={"overridden": [f"{r.source}:{r.name}" for r in active]},
            )
        return Outcome(self.state, bool(cleared), cleared)

    def check_auto_resume(self) -> bool:
        """Resume when enabled and every reason has been inactive for the grace period."""
        if not self.auto_resume or self.state is State.RUNNING:
            return False
        if any(r.active for r in self.reasons):
            return False
        now = self.clock.monotonic()
        quiet_since = max(self._inactive_mono.get(k, now) for k in self.reasons_by_key)
        quiet_s = now - quiet_since
        if quiet_s < self.auto_resume_grace_s:
            return False
        with self.unit("auto_resume", SYSTEM) as unit:
            for key in list(unit.reasons):
                unit.clear(key)
            unit.note(
                changed=True,
                detail=f"every reason inactive for {quiet_s:.1f} s "
                f"(auto_resume_grace_s={self.auto_resume_grace_s:g})",
            )
        return True

    def status(self, config_hash: str) -> dict[str, Any]:
        """Return the `/v1/status` body."""
        return {
            "state": self.state.value,
            "reasons": list(self._reasons_json),
            "since": format_ts(self.since),
            "config_hash": config_hash,
        }

    def _apply(self, unit: Unit, before: State, after: State) -> None:
        """Swap in the committed state and update metrics and logs."""
        self.reasons_by_key = unit.reasons
        self._reasons_json = [r.to_json() for r in self.reasons]
        self.suppressed = unit.suppressed
        mono = self.clock.monotonic()
        for key in unit.deactivated:
            self._inactive_mono[key] = mono
        for reason in unit.activated:
            self._inactive_mono.pop(reason.key, None)
            self._pauses.labels(reason.source, self._labels.label(reason.name)).inc()
            logger.warning(
                "pause reason active",
                extra={"source": reason.source, "reason": reason.name, "detail": reason.detail},
            )
        for key in list(self._inactive_mono):
            if key not in self.reasons_by_key:
                del self._inactive_mono[key]
        if after != before:
            self.state = after
            self.since = unit.now
            self._paused_gauge.set(1 if after is State.PAUSED else 0)
            logger.warning(
                "orchestrator %s",
                after.value,
                extra={"action": unit.action, "who": unit.actor.scope, "client": unit.actor.client},
            )


_PREINIT: tuple[tuple[str, str], ...] = (
    *((PauseSource.ALERT, name) for name in sorted(PAUSABLE_ALERTS)),
    (PauseSource.HEARTBEAT, AlertName.SEQUENCER_DOWN),
    (PauseSource.HEARTBEAT, AlertName.RPC_DOWN),
    (PauseSource.DEADMAN, AlertName.HEARTBEAT_STALE),
)
