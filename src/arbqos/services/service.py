"""ControlService: every orchestrator command, independent of HTTP (routes are thin adapters)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from arbqos.clock import Clock
from arbqos.config import ArbqosConfig
from arbqos.eventlog import EventLog
from arbqos.registry import RuntimeRegistry
from arbqos.services.alerts import AlertIntake, AlertResult
from arbqos.services.control import Outcome, PauseControl
from arbqos.services.heartbeat import HeartbeatMonitor, HeartbeatOutcome
from arbqos.services.models import (
    AlertmanagerPayload,
    BalancesRequest,
    ChainHealthBody,
    HeartbeatReport,
)
from arbqos.services.policy import ResumePolicy
from arbqos.services.state import Actor
from arbqos.services.statedir import OpenedState, open_state

PRUNE_EVERY_S = 3600.0
"""How often old journal rows and alert instances are pruned (also at start)."""


class ControlService:
    """The orchestrator's commands: pause, resume, webhook, heartbeat, registry, journal.

    >>> service = ControlService.build(ArbqosConfig(), state_dir=tmp, clock=SystemClock(),
    ...                                registry=registry, config_hash="ab12...")
    >>> service.pause("manual", "maintenance", "", Actor("admin", "10.0.0.5")).changed
    True
    """

    def __init__(
        self,
        control: PauseControl,
        alerts: AlertIntake,
        heartbeat: HeartbeatMonitor,
        runtime: RuntimeRegistry,
        *,
        config_hash: str,
        event_log: EventLog | None = None,
        state: OpenedState | None = None,
    ) -> None:
        self.control = control
        self._state = state
        self._pruned_at = control.clock.monotonic()
        self.alerts = alerts
        self.heartbeat_monitor = heartbeat
        self.runtime = runtime
        self.config_hash = config_hash
        self._event_log = event_log

    @classmethod
    def build(
        cls,
        config: ArbqosConfig,
        *,
        state_dir: Path,
        clock: Clock,
        registry: CollectorRegistry,
        config_hash: str,
        config_sources: str = "",
        alert_log_path: Path | None = None,
    ) -> ControlService:
        """Wire the store, state machine, intakes and registry from the validated config."""
        orch = config.orchestrator
        opened = open_state(state_dir, stamp=clock.now_utc().strftime("%Y%m%dT%H%M%SZ"))
        try:
            control = PauseControl(
                opened.store,
                clock=clock,
                registry=registry,
                policy=ResumePolicy(
                    infra_resume_after_s=orch.infra_resume_after_s,
                    max_auto_resumes=orch.max_auto_resumes,
                ),
                lost=opened.lost,
                journal_retention_days=orch.journal_retention_days,
            )
        except BaseException:
            opened.close()
            raise
        runtime = RuntimeRegistry(registry, config_hash=config_hash, config_sources=config_sources)
        event_log = None
        if alert_log_path is not None:
            event_log = EventLog(alert_log_path, clock, config_hash=config_hash)
        monitor = HeartbeatMonitor(
            control,
            runtime,
            clock=clock,
            window_s=orch.deadman_intervals * config.heartbeat.interval_s,
            enabled=config.heartbeat.report_to_orchestrator,
            config_hash=config_hash,
        )
        return cls(
            control,
            AlertIntake(
                control,
                event_log,
                same_occurrence_s=max(2.0, 2 * config.alerting.evaluation_interval_s),
            ),
            monitor,
            runtime,
            config_hash=config_hash,
            event_log=event_log,
            state=opened,
        )

    def status(self) -> dict[str, Any]:
        """Return the `/v1/status` body."""
        body = self.control.status(self.config_hash)
        body["heartbeat"] = self.heartbeat_monitor.status()
        return body

    def pause(self, source: str, reason: str, detail: str, actor: Actor) -> Outcome:
        """Pause for (source, reason); idempotent."""
        return self.control.pause(source, reason, detail, actor)

    def resume(self, actor: Actor, *, force: bool = False, detail: str = "") -> Outcome:
        """Resume; raises `ResumeRefused` while automatic reasons are active and not `force`."""
        return self.control.resume(actor, force=force, detail=detail)

    def alertmanager(self, payload: AlertmanagerPayload, actor: Actor) -> list[AlertResult]:
        """Apply an Alertmanager webhook."""
        return self.alerts.receive(payload, actor)

    async def heartbeat(self, report: HeartbeatReport, actor: Actor) -> HeartbeatOutcome:
        """Apply a heartbeat report."""
        return await self.heartbeat_monitor.report(report, actor)

    def check_deadman(self) -> bool:
        """Run the dead man's switch once; True when it paused now."""
        return self.heartbeat_monitor.check_deadman()

    def check_auto_resume(self) -> bool:
        """Lift recovered infrastructure reasons once; True when trading resumed now."""
        return self.control.check_auto_resume()

    def tick(self) -> None:
        """Run the periodic checks (the background task calls this every second)."""
        self.control.flush()
        self.check_deadman()
        self.check_auto_resume()
        now = self.control.clock.monotonic()
        if now - self._pruned_at >= PRUNE_EVERY_S:
            self._pruned_at = now
            self.control.prune()

    def health(self) -> list[str]:
        """What makes the orchestrator unhealthy right now (empty: healthy)."""
        return self.control.health()

    async def put_chain(self, chain: str, body: ChainHealthBody, actor: Actor) -> None:
        """Record one chain's health in the registry (journaled)."""
        await self.runtime.set_chain_health(body.to_health())
        with self.control.unit("registry_chain", actor) as unit:
            unit.note(
                changed=True,
                detail=f"{chain}: rpc_up={body.rpc_up} sequencer_up={body.sequencer_up}",
            )

    async def put_balances(self, body: BalancesRequest, actor: Actor) -> None:
        """Record wallet balances in the registry (journaled)."""
        await self.runtime.set_balances({k: v.to_balance() for k, v in body.balances.items()})
        with self.control.unit("registry_balances", actor) as unit:
            unit.note(
                changed=True,
                detail=", ".join(f"{k}={v.balance_usd}" for k, v in sorted(body.balances.items())),
            )

    async def registry_snapshot(self) -> dict[str, Any]:
        """Return the `/v1/registry` body."""
        return (await self.runtime.snapshot()).to_json()

    def journal(self, limit: int, kind: str | None = None) -> list[dict[str, Any]]:
        """Return the newest journal entries, newest first."""
        return self.control.store.journal(limit, kind)

    def close(self) -> None:
        """Close the database, release the state dir and close the event log."""
        if self._state is not None:
            self._state.close()
        else:
            self.control.store.close()
        if self._event_log is not None:
            self._event_log.close()
