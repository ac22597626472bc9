"""Heartbeat intake and the dead man's switch: pause on a down chain or on silence."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from arbqos.clock import Clock, format_ts
from arbqos.errors import ArbqosError
from arbqos.registry import ChainHealth, RuntimeRegistry
from arbqos.services.control import PauseControl, Unit
from arbqos.services.state import SYSTEM, Actor
from arbqos.vocab import AlertName, Chain, PauseSource
from arbqos.wire import HeartbeatReport

logger = logging.getLogger(__name__)

DEADMAN_KEY = (PauseSource.DEADMAN, AlertName.HEARTBEAT_STALE)
MIN_REPORT_AGE_LIMIT_S = 5.0
"""A report is taken when its `ts` is within max(its interval, this) of the orchestrator's clock."""


class StaleReport(ArbqosError):
    """A heartbeat report too old (or too far in the future) to describe the present."""


@dataclass(frozen=True)
class HeartbeatOutcome:
    """The state after a report, whether it changed a reason, and which checks are down."""

    state: str
    changed: bool
    down: list[str]
    persisted: bool = True


class HeartbeatMonitor:
    """Apply heartbeat reports and run the dead man's switch.

    Rules: `arbitrum` sequencer down pauses (`heartbeat`, `ArbSequencerDown`); `sx_rollup` RPC
    down pauses (`heartbeat`, `ArbRpcDown`); a later healthy report makes them inactive. No
    report for `window_s` (deadman_intervals x heartbeat interval) pauses (`deadman`,
    `ArbHeartbeatStale`). The switch is armed from start-up: an orchestrator that never hears
    a heartbeat pauses after the same window (fail closed).
    """

    def __init__(
        self,
        control: PauseControl,
        runtime: RuntimeRegistry,
        *,
        clock: Clock,
        window_s: float,
        enabled: bool = True,
        config_hash: str = "",
    ) -> None:
        self._control = control
        self._runtime = runtime
        self._clock = clock
        self.window_s = window_s
        self.enabled = enabled
        self._config_hash = config_hash
        self._started = clock.monotonic()
        self._last_report_mono: float | None = None
        self._last_report: dict[str, Any] | None = None
        self._drift_logged: set[str] = set()

    async def report(self, report: HeartbeatReport, actor: Actor) -> HeartbeatOutcome:
        """Update the registry, then pause or recover per rule; feeds the dead man's switch.

        Raises:
            StaleReport: the report is older (or further ahead) than one heartbeat interval; an
                old "all healthy" must never lift a pause, nor keep the dead man's switch quiet.
        """
        age_s = (self._clock.now_utc() - report.ts).total_seconds()
        limit_s = max(report.interval_s, MIN_REPORT_AGE_LIMIT_S)
        if abs(age_s) > limit_s:
            when = "old" if age_s > 0 else "in the future"
            raise StaleReport(
                f"heartbeat report of tick {report.tick} is {abs(age_s):.1f} s {when} (ts "
                f"{format_ts(report.ts)}); reports are taken within one interval ({limit_s:g} s): "
                "check the clocks of both hosts"
            )
        for body in report.chains.values():
            await self._runtime.set_chain_health(ChainHealth.from_wire(body))
        checks = {rule.reason: rule.check(report) for rule in RULES}
        down = [str(name) for name, ok in checks.items() if ok is False]
        if report.config_hash != self._config_hash and report.config_hash not in self._drift_logged:
            self._drift_logged.add(report.config_hash)
            logger.warning(
                "heartbeat reports a config hash other than the orchestrator's; "
                "restart both with the same config",
                extra={
                    "heartbeat_config_hash": report.config_hash,
                    "config_hash": self._config_hash,
                },
            )
        with self._control.unit("heartbeat", actor) as unit:
            changed = self._apply(unit, report, checks)
            changed = (
                unit.deactivate(DEADMAN_KEY, f"heartbeat reports resumed (tick {report.tick})")
                or changed
            )
            unit.note(
                changed=changed,
                detail=f"tick {report.tick}" + (f", down: {', '.join(down)}" if down else ""),
                data={
                    "tick": report.tick,
                    "ts": format_ts(report.ts),
                    "config_hash": report.config_hash,
                    "targets_failed": sorted(k for k, t in report.targets.items() if not t.ok),
                },
            )
        self._last_report_mono = self._clock.monotonic()
        self._last_report = {
            "received_at": format_ts(unit.now),
            "ts": format_ts(report.ts),
            "tick": report.tick,
            "config_hash": report.config_hash,
            "down": down,
        }
        return HeartbeatOutcome(self._control.state.value, changed, down, unit.persisted)

    def check_deadman(self) -> bool:
        """Pause when no report arrived within the window; return True when it paused now."""
        if not self.enabled:
            return False
        silent_s = self.silent_s()
        if silent_s <= self.window_s:
            return False
        current = self._control.reasons_by_key.get(DEADMAN_KEY)
        if current is not None and current.active:
            return False
        heard = "since start-up" if self._last_report_mono is None else "since the last one"
        detail = (
            f"no heartbeat report for {silent_s:.1f} s {heard} "
            f"(limit {self.window_s:g} s = deadman_intervals x heartbeat.interval_s)"
        )
        with self._control.unit("deadman", SYSTEM) as unit:
            unit.activate(*DEADMAN_KEY, detail)
            unit.note(changed=True, source=DEADMAN_KEY[0], reason=DEADMAN_KEY[1], detail=detail)
        return True

    def silent_s(self) -> float:
        """Seconds since the last report, start-up or forced resume, whichever is latest."""
        marks = [self._started, self._last_report_mono, self._control.last_forced_resume]
        return self._clock.monotonic() - max(m for m in marks if m is not None)

    def status(self) -> dict[str, Any]:
        """Return the `heartbeat` part of `/v1/status`."""
        return {
            "deadman_enabled": self.enabled,
            "deadman_window_s": self.window_s,
            "silent_s": round(self.silent_s(), 3),
            "last_report": self._last_report,
        }

    def _apply(self, unit: Unit, report: HeartbeatReport, checks: dict[str, bool | None]) -> bool:
        changed = False
        for rule in RULES:
            name, chain = rule.reason, rule.chain
            ok = checks[name]
            key = (PauseSource.HEARTBEAT, name)
            if ok is None:
                continue
            if ok:
                unit.suppressed.discard(key)
                changed = unit.deactivate(key, f"healthy report (tick {report.tick})") or changed
            elif key in unit.suppressed:
                logger.info(
                    "heartbeat reports %s, ignored: a forced resume overrode it; a down report "
                    "pauses again once a healthy one was seen",
                    name,
                    extra={"reason": name},
                )
            else:
                health = report.chains[chain]
                detail = health.detail or f"{chain} reported down at tick {report.tick}"
                changed = unit.activate(*key, detail) or changed
        return changed


@dataclass(frozen=True)
class Rule:
    """A heartbeat check that pauses: one flag of one chain's confirmed health."""

    alert: AlertName
    chain: Chain
    flag: str
    """The `ChainHealth` flag that must be true."""
    unless: str | None = None
    """Another flag that must be true for this rule to judge (else another rule covers it)."""

    @property
    def reason(self) -> str:
        """The reason name, labelled like the alert: `ArbSequencerDown{chain="arbitrum"}`."""
        return f'{self.alert}{{chain="{self.chain}"}}'

    def check(self, report: HeartbeatReport) -> bool | None:
        """True healthy, False down, None when the report cannot tell (chain absent)."""
        health = report.chains.get(self.chain)
        if health is None:
            return None
        if self.unless is not None and not getattr(health, self.unless):
            return None
        return bool(getattr(health, self.flag))


RULES: tuple[Rule, ...] = (
    Rule(AlertName.SEQUENCER_DOWN, Chain.ARBITRUM, "sequencer_up"),
    Rule(AlertName.RPC_DOWN, Chain.SX_ROLLUP, "rpc_up"),
    Rule(AlertName.SEQUENCER_DOWN, Chain.SX_ROLLUP, "sequencer_up", unless="rpc_up"),
)
"""The heartbeat's pause rules. The SX Rollup sequencer judges only while its RPC answers
(a stall: no new blocks); a dead RPC is `ArbRpcDown`. The reports carry the heartbeat's
confirmed state (several failed attempts), so one failed probe never pauses."""
