"""PauseControl: the pause state machine, its reasons, durable units of work and the journal.

Fail closed: every change goes through a `Unit`, which edits a copy in memory; the copy is
written in one transaction and only then replaces the live state. When the disk or the
database fails, the unit still applies what pauses (new active reasons) and drops what would
let trading run (reasons becoming inactive, resumes), the orchestrator adds the
`system:StateNotPersisted` reason, `/healthz` turns unhealthy, and `flush()` (every second)
writes the whole in-memory state again until it succeeds. A pause is never lost to a full
disk; a resume never happens unless it was stored.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge

from arbqos.clock import Clock, format_ts
from arbqos.errors import ArbqosError
from arbqos.metrics.registry import counter, gauge
from arbqos.services.policy import AUTO_RESUME_WINDOW, ResumePolicy, reason_class
from arbqos.services.reason_metrics import ReasonSeries
from arbqos.services.state import (
    SYSTEM,
    Actor,
    Reason,
    ReasonLabels,
    State,
)
from arbqos.services.store import (
    AlertInstance,
    JournalEntry,
    PersistedState,
    StateStore,
    StateStoreError,
    prune_horizon,
)
from arbqos.vocab import PAUSABLE_ALERTS, AlertName, PauseSource, ReasonClass, SystemReason

logger = logging.getLogger(__name__)

ReasonKey = tuple[str, str]
NOT_PERSISTED: ReasonKey = (PauseSource.SYSTEM, SystemReason.STATE_NOT_PERSISTED)
STATE_LOST: ReasonKey = (PauseSource.SYSTEM, SystemReason.STATE_LOST)
AUTO_RESUME = "auto_resume"
"""Journal action of an automatic resume (trading running again)."""
INFRA_LIFTED = "infra_lifted"
"""Journal action of infrastructure reasons lifted while other reasons keep trading paused."""
PENDING_ROWS_MAX = 10_000
"""Journal rows kept in memory while the store fails; older ones are dropped (and counted)."""


class ResumeRefused(ArbqosError):
    """Resume was refused because automatic reasons are still active (HTTP 409)."""

    def __init__(self, active: list[Reason]) -> None:
        self.active = active
        names = ", ".join(f"{r.source}:{r.name}" for r in active)
        super().__init__(
            f"still active: {names}; wait until they recover or resume with force=true"
        )


class StateNotPersisted(ArbqosError):
    """A change that would let trading run could not be stored, so it was not made (HTTP 503)."""


@dataclass(frozen=True)
class Outcome:
    """What a pause or resume did: the resulting state, whether anything changed, and whether
    the change is on disk (False: it holds in memory and is retried, see the module doc)."""

    state: State
    changed: bool
    cleared: tuple[Reason, ...] = ()
    persisted: bool = True


class Unit:
    """One unit of work: reason edits, alert-instance updates and journal rows, in memory.

    Obtain it from `PauseControl.unit()`; nothing touches the disk until the block ends, then
    everything is written in one transaction (or, when that fails, applied fail-closed).
    """

    def __init__(self, control: PauseControl, action: str, actor: Actor) -> None:
        self.action = action
        self.actor = actor
        self.now = control.clock.now_utc()
        self.escalate = control.policy.escalating(self.now)
        """New infrastructure reasons wait for a person (too many automatic resumes)."""
        self.reasons: dict[ReasonKey, Reason] = dict(control.reasons_by_key)
        self.suppressed: set[ReasonKey] = set(control.suppressed)
        self.activated: list[Reason] = []
        self.deactivated: list[ReasonKey] = []
        self.cleared: list[ReasonKey] = []
        self.instances: dict[str, AlertInstance] = {}
        self.overridden: set[str] = set()
        self.persisted = True
        self._store = control.store
        self._rows: list[dict[str, Any]] = []

    def activate(self, source: str, name: str, detail: str) -> bool:
        """Make a reason active; False when it already was."""
        current = self.reasons.get((source, name))
        if current is not None and current.active:
            return False
        escalated = self.escalate and reason_class(source, name) is ReasonClass.INFRA
        reason = Reason(
            source=source, name=name, since=self.now, detail=detail, escalated=escalated
        )
        self.reasons[reason.key] = reason
        self.activated.append(reason)
        self._row("reason", "reason_activated", reason, changed=True)
        return True

    def deactivate(self, key: ReasonKey, detail: str = "") -> bool:
        """Mark an automatic reason inactive (its signal recovered); False when nothing changed."""
        current = self.reasons.get(key)
        if current is None or not current.active:
            return False
        reason = replace(current, active=False, inactive_since=self.now)
        self.reasons[key] = reason
        self.deactivated.append(key)
        self._row("reason", "reason_inactive", reason, changed=True, detail=detail)
        return True

    def clear(self, key: ReasonKey) -> None:
        """Remove a reason."""
        reason = self.reasons.pop(key)
        self.cleared.append(key)
        self._row("reason", "reason_cleared", reason, changed=True)

    def get_instance(self, fingerprint: str) -> AlertInstance | None:
        """The last notification seen for `fingerprint`, this unit's updates included.

        An unreadable store counts as "never seen": a firing alert then pauses (fail closed).
        """
        if fingerprint in self.instances:
            return self.instances[fingerprint]
        try:
            return self._store.get_instance(fingerprint)
        except StateStoreError:
            return None

    def put_instance(self, instance: AlertInstance) -> None:
        """Record the last notification of one fingerprint (written with the unit)."""
        self.instances[instance.fingerprint] = instance

    def firing_instances(self, reason: str) -> list[AlertInstance]:
        """Firing, not overridden instances that pause for `reason`, this unit's included."""
        try:
            found = {i.fingerprint: i for i in self._store.firing_instances(reason)}
        except StateStoreError:
            found = {}
        for fingerprint, instance in self.instances.items():
            live = instance.status == "firing" and not instance.overridden
            if live and instance.reason == reason:
                found[fingerprint] = instance
            else:
                found.pop(fingerprint, None)
        return list(found.values())

    def override_firing(self, reasons: set[str]) -> None:
        """Mark the firing instances behind alert `reasons` as cleared by a forced resume."""
        self.overridden |= reasons

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

    def state_after(self) -> State:
        """The state these edits lead to."""
        return State.PAUSED if self.reasons else State.RUNNING

    def journal(
        self, before: State, after: State, *, skip: frozenset[str] = frozenset()
    ) -> list[JournalEntry]:
        """The unit's journal rows (request first, actions in `skip` left out), plus a
        transition row when the state moves."""
        rows = sorted(
            (row for row in self._rows if row["action"] not in skip),
            key=lambda row: row["kind"] != "request",
        )
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
        return [
            JournalEntry(
                ts=self.now, actor=self.actor, state_before=before, state_after=after, **row
            )
            for row in rows
        ]

    def write(self, store: StateStore, before: State, after: State) -> None:
        """Write every edit and journal row (the caller holds the transaction)."""
        for key in self.cleared:
            store.delete_reason(key)
        for key in {r.key for r in self.activated} | set(self.deactivated):
            if key in self.reasons:
                store.put_reason(self.reasons[key])
        if after != before:
            store.put_state(after, self.now)
        for instance in self.instances.values():
            store.put_instance(instance, self.now)
        if self.overridden:
            store.override_firing(self.overridden)
        for entry in self.journal(before, after):
            store.append(entry)
        store.put_suppressed(self.suppressed)


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
        policy: ResumePolicy | None = None,
        lost: str | None = None,
        journal_retention_days: float = 30.0,
    ) -> None:
        self.store = store
        self.clock = clock
        self.policy = policy or ResumePolicy(infra_resume_after_s=60.0, max_auto_resumes=3)
        self.journal_retention_days = journal_retention_days
        self._auto_resumes: Counter = counter(registry, "arb_orchestrator_auto_resumes_total")
        self._paused_gauge: Gauge = gauge(registry, "arb_orchestrator_paused")
        self._pauses: Counter = counter(registry, "arb_orchestrator_pauses_total")
        self._store_ok: Gauge = gauge(registry, "arb_orchestrator_state_persisted")
        self.listeners: list[Callable[[Unit, State, State, datetime], None]] = []
        """Called after every applied unit with (unit, state before, after, paused since)."""
        self._labels = ReasonLabels()
        self._reason_series = ReasonSeries(registry)
        for source, name in _PREINIT:
            self._pauses.labels(source, name)
        self.last_forced_resume: float | None = None
        """Monotonic time of the last resume that overrode active reasons."""
        self.store_error: str | None = None
        """Why the last write failed, while the in-memory state is not on disk."""
        self.store_failed_at: datetime | None = None
        self._pending: deque[JournalEntry] = deque(maxlen=PENDING_ROWS_MAX)
        self._pending_seen = 0
        loaded = store.load()
        self.reasons_by_key = {r.key: r for r in loaded.reasons}
        self._publish()
        self.suppressed = loaded.suppressed
        self.state = State.PAUSED if self.reasons_by_key else State.RUNNING
        self.since: datetime = loaded.since or clock.now_utc()
        self._inactive_mono: dict[ReasonKey, float] = {
            k: self._mono_of(r.inactive_since)
            for k, r in self.reasons_by_key.items()
            if not r.active
        }
        now = clock.now_utc()
        try:
            self.policy.remember(store.request_times(AUTO_RESUME, now - AUTO_RESUME_WINDOW))
        except StateStoreError as err:
            logger.warning("cannot read the automatic resumes of the last hour: %s", err)
        self._paused_gauge.set(1 if self.state is State.PAUSED else 0)
        self._store_ok.set(1)
        if lost is not None:
            logger.error("pause state lost before start: %s; trading stays paused", lost)
            with self.unit("start", SYSTEM) as unit:
                unit.activate(*STATE_LOST, f"state lost before start: {lost}")
                unit.note(changed=True, source=STATE_LOST[0], reason=STATE_LOST[1], detail=lost)
        self.prune()

    @property
    def reasons(self) -> list[Reason]:
        """Every current reason, oldest first."""
        return sorted(self.reasons_by_key.values(), key=lambda r: (r.since, r.source, r.name))

    @property
    def persisted(self) -> bool:
        """True while the in-memory state is the one on disk."""
        return self.store_error is None

    @contextmanager
    def unit(self, action: str, actor: Actor) -> Iterator[Unit]:
        """Collect edits, then store them in one transaction and apply them (fail closed)."""
        unit = Unit(self, action, actor)
        before = self.state
        yield unit
        after = unit.state_after()
        if self.persisted:
            try:
                with self.store.transaction():
                    unit.write(self.store, before, after)
            except StateStoreError as err:
                self._store_failed(str(err))
            else:
                self._apply(unit, before, after)
                return
        self._apply_fail_closed(unit, before)

    def pause(self, source: str, name: str, detail: str, actor: Actor) -> Outcome:
        """Pause for (source, name); idempotent: `changed` is False when already active."""
        with self.unit("pause", actor) as unit:
            changed = unit.activate(source, name, detail)
            unit.suppressed.discard((source, name))
            unit.note(changed=changed, source=source, reason=name, detail=detail)
        return Outcome(self.state, changed, persisted=unit.persisted)

    def resume(self, actor: Actor, *, force: bool = False, detail: str = "") -> Outcome:
        """Clear every reason; refuse while automatic reasons are active unless `force`.

        Raises:
            ResumeRefused: listing the active automatic reasons (nothing is changed).
            StateNotPersisted: the resume could not be stored, so trading stays paused.
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
            unit.override_firing({name for source, name in overridden if source == "alert"})
            unit.note(
                changed=bool(cleared),
                detail=detail,
                data={"force": force, "overridden": [f"{s}:{n}" for s, n in sorted(overridden)]},
            )
        if not unit.persisted:
            raise StateNotPersisted(
                "not resumed: the pause state cannot be written to disk "
                f"({self.store_error}); trading stays paused until the disk is fixed"
            )
        if active:
            self.last_forced_resume = self.clock.monotonic()
            logger.warning(
                "forced resume while reasons were active",
                extra={"overridden": [f"{r.source}:{r.name}" for r in active]},
            )
        return Outcome(self.state, bool(cleared), cleared)

    def check_auto_resume(self) -> bool:
        """Lift the infrastructure reasons once all of them recovered `infra_resume_after_s` ago.

        Returns True when trading resumed (QoS, manual or escalated reasons keep it paused).
        """
        liftable = self.policy.liftable(self.reasons)
        if not liftable:
            return False
        quiet_s = self._quiet_s()
        after_s = self.policy.infra_resume_after_s
        if quiet_s is None or quiet_s < after_s:
            return False
        remaining = [r for r in self.reasons if r not in liftable]
        action = AUTO_RESUME if not remaining else INFRA_LIFTED
        with self.unit(action, SYSTEM) as unit:
            for reason in liftable:
                unit.clear(reason.key)
            unit.note(
                changed=True,
                detail=f"every infrastructure reason recovered {quiet_s:.1f} s ago "
                f"(infra_resume_after_s={after_s:g})"
                + ("" if not remaining else "; still paused for the others"),
                data={
                    "cleared": [f"{r.source}:{r.name}" for r in liftable],
                    "remaining": [f"{r.source}:{r.name}" for r in remaining],
                },
            )
        if not unit.persisted or remaining:
            return False
        self.policy.record(unit.now)
        self._auto_resumes.inc()
        logger.warning(
            "trading resumed automatically",
            extra={"cleared": [f"{r.source}:{r.name}" for r in liftable]},
        )
        return True

    def _quiet_s(self) -> float | None:
        """Seconds since the last infrastructure reason recovered; None when one is active."""
        infra = [r for r in self.reasons if reason_class(r.source, r.name) is ReasonClass.INFRA]
        if any(r.active for r in infra) or not infra:
            return None
        now = self.clock.monotonic()
        return now - max(self._inactive_mono.get(r.key, now) for r in infra)

    def _mono_of(self, wall: datetime | None) -> float:
        """The monotonic time matching a stored wall time (never later than now)."""
        now = self.clock.monotonic()
        if wall is None:
            return now
        elapsed = (self.clock.now_utc() - wall).total_seconds()
        return now - max(elapsed, 0.0)

    def flush(self) -> bool:
        """Write the in-memory state again after a store failure; True once it is on disk."""
        if self.persisted:
            return True
        now = self.clock.now_utc()
        reasons = dict(self.reasons_by_key)
        current = reasons.get(NOT_PERSISTED)
        if current is not None and current.active:
            reasons[NOT_PERSISTED] = replace(current, active=False, inactive_since=now)
        failed_for = (now - self.store_failed_at).total_seconds() if self.store_failed_at else 0
        dropped = max(self._pending_seen - len(self._pending), 0)
        state = State.PAUSED if reasons else State.RUNNING
        recovered = JournalEntry(
            ts=now,
            kind="reason",
            action="state_persisted",
            actor=SYSTEM,
            state_before=self.state,
            state_after=state,
            changed=True,
            source=NOT_PERSISTED[0],
            reason=NOT_PERSISTED[1],
            detail=f"state written again after {failed_for:.1f} s of store failure "
            f"({len(self._pending)} journal rows kept, {dropped} dropped)",
        )
        snapshot = PersistedState(state, self.since, list(reasons.values()), set(self.suppressed))
        try:
            self.store.reopen()
            self.store.rewrite(snapshot, [*self._pending, recovered])
        except StateStoreError as err:
            self.store_error = str(err)
            return False
        logger.warning(
            "pause state written to disk again",
            extra={"failed_for_s": round(failed_for, 3), "journal_rows_dropped": dropped},
        )
        self.store_error = None
        self.store_failed_at = None
        self._pending.clear()
        self._pending_seen = 0
        self._store_ok.set(1)
        self.reasons_by_key = reasons
        self._publish()
        if NOT_PERSISTED in reasons:
            self._inactive_mono[NOT_PERSISTED] = self.clock.monotonic()
        return True

    def prune(self) -> None:
        """Forget old resolved alert instances and journal rows past the retention."""
        if not self.persisted:
            return
        now = self.clock.now_utc()
        try:
            with self.store.transaction():
                self.store.prune_instances(prune_horizon(now))
                rows = self.store.prune_journal(now - timedelta(days=self.journal_retention_days))
        except StateStoreError as err:
            logger.warning("journal retention skipped: %s", err)
            return
        if rows:
            logger.info("journal pruned", extra={"rows": rows})

    def health(self) -> list[str]:
        """Problems that make the orchestrator unhealthy (empty when healthy)."""
        if self.persisted:
            return []
        since = format_ts(self.store_failed_at) if self.store_failed_at else "?"
        return [f"pause state not written to disk since {since}: {self.store_error}"]

    def status(self, config_hash: str) -> dict[str, Any]:
        """Return the `/v1/status` body: each reason with its class and what it waits for."""
        now = self.clock.now_utc()
        reasons = self.reasons
        quiet_s = self._quiet_s()
        after_s = self.policy.infra_resume_after_s
        resume_in_s = None if quiet_s is None else after_s - quiet_s
        listed = []
        for reason, body in zip(reasons, self._reasons_json, strict=True):
            listed.append(
                {
                    **body,
                    "class": reason_class(reason.source, reason.name).value,
                    "waiting_for": self.policy.waiting_for(reason, reasons, resume_in_s),
                }
            )
        auto_at = None
        if resume_in_s is not None and self.policy.liftable(reasons):
            auto_at = format_ts(now + timedelta(seconds=max(resume_in_s, 0.0)))
        return {
            "state": self.state.value,
            "reasons": listed,
            "since": format_ts(self.since),
            "config_hash": config_hash,
            "resume": {
                "infra_resume_after_s": after_s,
                "max_auto_resumes_per_hour": self.policy.max_auto_resumes,
                "auto_resumes_last_hour": self.policy.recent(now),
                "next_auto_resume_at": auto_at,
            },
        }

    def _store_failed(self, error: str) -> None:
        """Enter fail-closed mode: remember why; `flush()` retries from now on."""
        self.store_error = error
        self.store_failed_at = self.clock.now_utc()
        self._store_ok.set(0)
        logger.error(
            "cannot write the pause state (%s); trading is paused and the state is kept in "
            "memory, retried every second: free disk space or fix the state dir",
            error,
        )

    def _apply_fail_closed(self, unit: Unit, before: State) -> None:
        """Apply what pauses and drop what would resume; queue the journal rows."""
        unit.persisted = False
        kept = Unit(self, unit.action, unit.actor)
        for reason in unit.activated:
            kept.reasons[reason.key] = reason
            kept.activated.append(reason)
        if NOT_PERSISTED not in kept.reasons or not kept.reasons[NOT_PERSISTED].active:
            kept.activate(*NOT_PERSISTED, f"cannot write the pause state: {self.store_error}")
        dropped = [f"{s}:{n}" for s, n in [*unit.deactivated, *unit.cleared]]
        for entry in unit.journal(before, before, skip=_NOT_APPLIED):
            self._queue(entry)
        if dropped:
            kept.note(
                changed=False,
                detail="not applied while the state cannot be stored (fail closed)",
                data={"dropped": dropped},
            )
        for entry in kept.journal(before, kept.state_after()):
            self._queue(entry)
        self._apply(kept, before, kept.state_after())

    def _publish(self) -> None:
        """Refresh what status and metrics show of the reasons."""
        reasons = self.reasons
        self._reasons_json = [r.to_json() for r in reasons]
        self._reason_series.sync(reasons)

    def _queue(self, entry: JournalEntry) -> None:
        self._pending.append(entry)
        self._pending_seen += 1

    def _apply(self, unit: Unit, before: State, after: State) -> None:
        """Swap in the new state and update metrics and logs."""
        self.reasons_by_key = unit.reasons
        self._publish()
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
        since_before = self.since
        if after != before:
            self.state = after
            self.since = unit.now
            self._paused_gauge.set(1 if after is State.PAUSED else 0)
            logger.warning(
                "orchestrator %s",
                after.value,
                extra={"action": unit.action, "who": unit.actor.scope, "client": unit.actor.client},
            )
        for listener in self.listeners:
            try:
                listener(unit, before, after, since_before)
            except Exception:  # a listener (notifications) never breaks a pause
                logger.exception("state listener failed")


_NOT_APPLIED = frozenset({"reason_inactive", "reason_cleared"})
"""Journal actions of edits that fail-closed mode drops (they would let trading run)."""

_PREINIT: tuple[tuple[str, str], ...] = (
    *((PauseSource.ALERT, name) for name in sorted(PAUSABLE_ALERTS)),
    (PauseSource.HEARTBEAT, AlertName.SEQUENCER_DOWN),
    (PauseSource.HEARTBEAT, AlertName.RPC_DOWN),
    (PauseSource.DEADMAN, AlertName.HEARTBEAT_STALE),
    NOT_PERSISTED,
    STATE_LOST,
)
