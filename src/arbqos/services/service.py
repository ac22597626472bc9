"""ControlService: every orchestrator command, independent of HTTP (routes are thin adapters)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from arbqos.clock import Clock
from arbqos.config import ArbqosConfig
from arbqos.eventlog import EventLog
from arbqos.notify import (
    Channel,
    HeartbeatPinger,
    Notifier,
    NotifyMetrics,
    Routes,
    WatchdogTracker,
)
from arbqos.registry import ChainHealth, RuntimeRegistry, WalletBalance
from arbqos.registry.freshness import StaleLimits
from arbqos.sdk import Route, url_for
from arbqos.services.alerts import AlertIntake, AlertResult
from arbqos.services.announce import Announcer
from arbqos.services.control import Outcome, PauseControl
from arbqos.services.heartbeat import DEADMAN_KEY, HeartbeatMonitor, HeartbeatOutcome
from arbqos.services.policy import ResumePolicy
from arbqos.services.state import Actor
from arbqos.services.statedir import OpenedState, open_state
from arbqos.vocab import Severity
from arbqos.wire import AlertmanagerPayload, BalancesRequest, ChainHealthBody, HeartbeatReport

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
        announcer: Announcer | None = None,
        pinger: HeartbeatPinger | None = None,
    ) -> None:
        self.control = control
        self.announcer = announcer
        self.pinger = pinger
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
        channels: tuple[Channel, ...] = (),
        ping_url: str | None = None,
    ) -> ControlService:
        """Wire the store, state machine, intakes, registry and notifications from the config.

        `channels` are the notification channels (`arbqos.notify.load_channels`); none means
        notices are only logged. `ping_url` is an external dead man's switch pinged while all
        is well.
        """
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
        runtime = RuntimeRegistry(
            registry,
            config_hash=config_hash,
            config_sources=config_sources,
            clock=clock,
            limits=StaleLimits.of(config),
        )
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
        intake = AlertIntake(
            control,
            event_log,
            same_occurrence_s=max(2.0, 2 * config.alerting.evaluation_interval_s),
        )
        metrics = NotifyMetrics(registry)
        notifier = None
        if channels:
            tags = config.alerting.notify_tags
            routes = Routes(
                critical=tags(Severity.CRITICAL),
                warning=tags(Severity.WARNING),
                info=tags(Severity.INFO),
            )
            notifier = Notifier(channels, routes, metrics=metrics, clock=clock).start()
        watchdog = WatchdogTracker(timeout_s=orch.watchdog_timeout_s, clock=clock, metrics=metrics)
        announcer = Announcer(
            control,
            watchdog,
            notifier=notifier,
            resume_url=url_for(config.endpoints.orchestrator_url, Route.RESUME),
            pause_on_pipeline_down=orch.pause_on_pipeline_down,
        )
        intake.listeners.append(announcer.alert)
        service = cls(
            control,
            intake,
            monitor,
            runtime,
            config_hash=config_hash,
            event_log=event_log,
            state=opened,
            announcer=announcer,
        )
        if ping_url:
            service.pinger = HeartbeatPinger(
                ping_url,
                all_well=service.all_well,
                clock=clock,
                metrics=metrics,
                interval_s=orch.heartbeat_ping_interval_s,
            )
        return service

    def all_well(self) -> bool:
        """True while the state is stored, the heartbeat reports and the alert path works."""
        deadman = self.control.reasons_by_key.get(DEADMAN_KEY)
        return (
            self.control.persisted
            and (deadman is None or not deadman.active)
            and (self.announcer is None or self.announcer.watchdog.up)
        )

    def status(self) -> dict[str, Any]:
        """Return the `/v1/status` body."""
        body = self.control.status(self.config_hash)
        body["heartbeat"] = self.heartbeat_monitor.status()
        if self.announcer is not None:
            body["alerting"] = self.announcer.status()
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
        if self.announcer is not None:
            self.announcer.tick()
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
        await self.runtime.set_chain_health(ChainHealth.from_wire(body))
        with self.control.unit("registry_chain", actor) as unit:
            unit.note(
                changed=True,
                detail=f"{chain}: rpc_up={body.rpc_up} sequencer_up={body.sequencer_up}",
            )

    async def put_balances(self, body: BalancesRequest, actor: Actor) -> None:
        """Record wallet balances in the registry (journaled)."""
        await self.runtime.set_balances(
            {k: WalletBalance.from_wire(v) for k, v in body.balances.items()}
        )
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
        """Close the notifier, the database, the state dir lock and the event log."""
        if self.announcer is not None and self.announcer.notifier is not None:
            self.announcer.notifier.close(timeout_s=5.0)
        if self._state is not None:
            self._state.close()
        else:
            self.control.store.close()
        if self._event_log is not None:
            self._event_log.close()
