"""A scenario's outcome: who paused, how long after the breach, and whether that was expected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from arbqos.clock import format_ts
from arbqos.config import ArbqosConfig
from arbqos_harness.demo.breach import Breach
from arbqos_harness.demo.notices import Notice, NoticeSeen, first_notice
from arbqos_harness.demo.observe import Observer, PauseSeen

DEADMAN_CHECK_S = 1.0
"""The orchestrator checks its dead man's switch every second."""
ALERT_PATH_TARGET_S = 15.0
"""Breach to pause through Prometheus and Alertmanager (about 1-2 s with the tuned timings)."""
ALERT_AFTER_PROBE_S = 5.0
"""An alert built on the heartbeat's confirmed state fires this soon after the heartbeat knows:
a scrape (1 s), an evaluation (1 s) and Alertmanager's group wait and interval (0 s, 1 s)."""
NOTIFY_TARGET_S = 5.0
"""Pause to notification at the sink, the orchestrator's direct path (tens of ms measured)."""
Detection = Literal["probe", "stall"]


def ts(unix: float | None) -> str:
    """Unix seconds as an ISO 8601 UTC timestamp (or `-`)."""
    return "-" if unix is None else format_ts(datetime.fromtimestamp(unix, UTC))


@dataclass(frozen=True)
class Targets:
    """Latency limits per pause path, seconds from the breach, and for the automatic resume."""

    by_source: dict[str, float]
    resume_s: float
    """Restore to automatic resume: the heartbeat confirming recovery, the alert resolving,
    then `orchestrator.infra_resume_after_s`."""
    notify_s: float = NOTIFY_TARGET_S

    @classmethod
    def of(cls, config: ArbqosConfig, detection: Detection = "probe") -> Targets:
        """Guard 1 s, heartbeat confirmation bound, alerts 15 s, dead man window + 2 s.

        The heartbeat reports a target down after `failure_threshold` failed attempts, retried
        every `retry_interval_s`: within interval + (failure_threshold - 1) x retry + timeout.
        A stalled SX Rollup is noticed only after `sx_stall_probes` probes without a new block
        (`detection="stall"`), and the alert built on it follows the heartbeat by a few seconds.
        """
        hb = config.heartbeat
        window = config.orchestrator.deadman_intervals * hb.interval_s
        heartbeat = hb.down_within_s()
        alert = ALERT_PATH_TARGET_S
        if detection == "stall":
            heartbeat += hb.sx_stall_probes * hb.interval_s
            alert = heartbeat + ALERT_AFTER_PROBE_S
        recovery_s = hb.interval_s + (hb.success_threshold - 1) * hb.retry_interval_s
        return cls(
            {
                "guard": 1.0,
                "heartbeat": heartbeat,
                "alert": alert,
                "deadman": window + 2 * DEADMAN_CHECK_S,
            },
            resume_s=config.orchestrator.infra_resume_after_s + recovery_s + ALERT_AFTER_PROBE_S,
        )


def settings_line(config: ArbqosConfig) -> str:
    """The timings a scenario is judged with (the demo scales the production ones)."""
    hb, orch = config.heartbeat, config.orchestrator
    return (
        f"heartbeat every {hb.interval_s:g} s; a target is down after {hb.failure_threshold} "
        f"failed attempts {hb.retry_interval_s:g} s apart (timeout {hb.probe_timeout_s:g} s) and "
        f"up after {hb.success_threshold} successes; SX Rollup stalled after "
        f"{hb.sx_stall_probes} probes without a block; infrastructure pauses lift "
        f"{orch.infra_resume_after_s:g} s after recovery, at most {orch.max_auto_resumes} an hour"
    )


@dataclass(frozen=True)
class Attempts:
    """The heartbeat's attempts at the faulty target after the injection."""

    target: str
    total: int
    failed: int
    longest_failing_run: int
    proxy_failures: int
    """Requests the fault proxy failed on purpose (the heartbeat's and the balance watcher's)."""
    must_meet: bool = False
    """A heartbeat attempt must have met the fault (a short fault injected just before a tick)."""

    def problem(self) -> str | None:
        """Why this run proves nothing (the fault reached no one), or None."""
        if self.proxy_failures == 0:
            return (
                f"the fault proxy failed no request to {self.target}: this run proves nothing "
                "(run the scenario again)"
            )
        if self.must_meet and self.failed == 0:
            return (
                f"no heartbeat attempt at {self.target} met the fault ({self.total} attempts): "
                "this run proves nothing (run the scenario again)"
            )
        return None


@dataclass
class Followup:
    """What a scenario saw after its fault was undone (automatic resume, or a pause that holds)."""

    restored_at: float | None = None
    resumed_at: float | None = None
    """Unix seconds the orchestrator said running again."""
    resumed_by: str = ""
    """`auto_resume` journal entry (action and what it cleared), or how else it resumed."""
    recovered_at: float | None = None
    """The statistic behind a QoS pause recovered (window empty, alert resolved)."""
    held_until: float | None = None
    """Last check that trading was still paused (a latching pause)."""
    waiting_for: str = ""
    problems: list[str] = field(default_factory=list)


@dataclass
class ScenarioReport:
    """Everything a scenario found, with a verdict (`ok`) and the problems behind a failure."""

    scenario: str
    what: str
    kind: str
    injected_at: float
    breach_at: float | None
    breaches: list[Breach]
    pauses: list[PauseSeen]
    alerts: list[dict[str, Any]]
    low_events: list[dict[str, Any]]
    latencies: dict[str, float]
    targets: dict[str, float]
    ok: bool
    problems: list[str] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    followup: Followup = field(default_factory=Followup)
    settings: str = ""
    attempts: Attempts | None = None

    @classmethod
    def judge(
        cls,
        *,
        scenario_name: str,
        what: str,
        kind: str,
        injected_at: float,
        breach_at: float | None,
        breaches: list[Breach],
        observer: Observer,
        required_sources: Sequence[str],
        required_alerts: Sequence[str],
        no_pause: bool,
        low_events: list[dict[str, Any]],
        low_wallet: str | None,
        targets: Targets,
        forbidden_alerts: Sequence[str] = (),
        required_notices: Sequence[NoticeSeen] = (),
        notices: Sequence[Notice] = (),
        followup: Followup | None = None,
        settings: str = "",
        attempts: Attempts | None = None,
    ) -> ScenarioReport:
        """Compare what was seen with what the scenario expects."""
        follow = followup or Followup()
        problems: list[str] = []
        latencies: dict[str, float] = {}
        if kind == "qos" and breach_at is None:
            problems.append("no breach found in the simulators' decision logs after the injection")
        for source in required_sources:
            first = observer.first_pause(source)
            if first is None:
                problems.append(f"no pause with source {source!r}")
                continue
            if breach_at is not None:
                latencies[source] = first.since - breach_at
        # Prometheus' increase() extrapolates at the window's edges, so on a statistic that
        # crosses slowly (the fill ratio) the backstop may fire a fraction of a second before
        # the exact window does: the alert going first is a problem only with a late guard.
        guard, alert = observer.first_pause("guard"), observer.first_pause("alert")
        guard_late = latencies.get("guard", 0.0) > targets.by_source["guard"]
        alert_first = guard and alert and alert.since < guard.since
        if "guard" in required_sources and alert_first and guard_late:
            problems.append("the alert path paused before a late guard (expected guard first)")
        for name in required_alerts:
            if observer.first_alert(name) is None:
                problems.append(f"alert {name} never fired in Prometheus")
        if no_pause and (observer.pauses or observer.paused_polls):
            names = ", ".join(f"{p.source}:{p.name}" for p in observer.pauses.values())
            problems.append(
                f"trading paused although this fault must only alert ({names or 'paused'})"
            )
        for name in forbidden_alerts:
            if observer.first_alert(name) is not None:
                problems.append(f"alert {name} fired although this fault must not raise it")
        for wanted in required_notices:
            if first_notice(notices, wanted) is None:
                problems.append(f"no {wanted} notification reached the sink")
        paused_notice = first_notice(notices, NoticeSeen.PAUSED)
        first_pause = min(observer.pauses.values(), key=lambda p: p.since, default=None)
        if paused_notice is not None and first_pause is not None:
            latencies["notify"] = paused_notice.at - first_pause.since
        firing = first_notice(notices, NoticeSeen.FIRING)
        if firing is not None and breach_at is not None:
            latencies["alert_notice"] = firing.at - breach_at
        if follow.resumed_at is not None and follow.restored_at is not None:
            latencies["resume"] = follow.resumed_at - follow.restored_at
            if latencies["resume"] > targets.resume_s:
                problems.append(
                    f"resumed {latencies['resume']:.1f} s after the fault was undone "
                    f"(target <= {targets.resume_s:g} s)"
                )
        if latencies.get("notify", 0.0) > targets.notify_s:
            problems.append(
                f"the pause notice reached the sink {latencies['notify']:.3f} s after the pause "
                f"(target <= {targets.notify_s:g} s)"
            )
        problems += follow.problems
        vacuous = attempts.problem() if attempts is not None else None
        if vacuous is not None:
            problems.append(vacuous)
        if low_wallet is not None and not low_events:
            problems.append(f"the balance watcher logged no `low` event for {low_wallet}")
        for source, latency in latencies.items():
            limit = targets.by_source.get(source)
            if limit is not None and latency > limit:
                problems.append(
                    f"{source} paused {latency:.3f} s after the breach (target <= {limit:g} s)"
                )
        alerts = [a.to_json() for a in sorted(observer.alerts.values(), key=lambda a: a.seen_at)]
        pauses = sorted(observer.pauses.values(), key=lambda p: p.since)
        return cls(
            scenario=scenario_name,
            what=what,
            kind=kind,
            injected_at=injected_at,
            breach_at=breach_at,
            breaches=breaches,
            pauses=pauses,
            alerts=alerts,
            low_events=low_events,
            latencies=latencies,
            targets={
                **{s: targets.by_source[s] for s in required_sources if s in targets.by_source},
                **({"resume": targets.resume_s} if follow.resumed_at is not None else {}),
            },
            ok=not problems,
            problems=problems,
            notices=list(notices),
            followup=follow,
            settings=settings,
            attempts=attempts,
        )

    def lines(self) -> list[str]:
        """The verdict as terminal lines."""
        out = [f"scenario {self.scenario}: {'PASS' if self.ok else 'FAIL'} - {self.what}"]
        if self.settings:
            out.append(f"  timings   {self.settings}")
        out.append(f"  injected  {ts(self.injected_at)}")
        if self.kind == "qos":
            for b in self.breaches:
                value = (
                    f"fill ratio {b.value:.3f}"
                    if "Fill" in b.rule
                    else f"p95 {b.value * 1000:.0f} ms"
                )
                out.append(
                    f"  breach    {ts(b.at)}  {b.rule} venue={b.venue}: {value} "
                    f"({b.submitted} legs submitted, {b.results} results in the window; "
                    "exact, from the simulators' decision logs)"
                )
        elif self.breach_at is not None:
            cause = "the wallet drained" if self.kind == "balance" else "infrastructure fault"
            out.append(f"  breach    {ts(self.breach_at)}  ({cause}: the injection)")
        for p in self.pauses:
            latency = (
                f"{p.since - self.breach_at:+.3f} s after the breach" if self.breach_at else ""
            )
            limit = self.targets.get(p.source)
            target = f" (target <= {limit:g} s)" if limit is not None and latency else ""
            out.append(
                f"  paused    {ts(p.since)}  source={p.source:<9} {p.name}  {latency}{target}"
            )
        if not self.pauses:
            out.append("  paused    never")
        for a in self.alerts:
            out.append(
                f"  alert     {ts(a['seen_firing_at'])}  {a['alert']} firing "
                f"(active since {ts(a['active_at'])})"
            )
        for record in self.low_events:
            out.append(
                f"  balance   {record.get('ts')}  low event: {record.get('wallet')} "
                f"{record.get('balance_usd')} USD < {record.get('floor_usd')} USD"
            )
        if self.attempts is not None:
            tried = self.attempts
            out.append(
                f"  probes    {tried.total} heartbeat attempts at {tried.target} since the "
                f"injection, {tried.failed} failed, at most {tried.longest_failing_run} in a row; "
                f"the proxy failed {tried.proxy_failures} requests"
            )
        out += self._followup_lines()
        for n in self.notices:
            out.append(f"  notice    {ts(n.at)}  {n.headline[:100]}{self._notice_delay(n)}")
        out += [f"  problem: {p}" for p in self.problems]
        return out

    def _notice_delay(self, notice: Notice) -> str:
        if notice.kind is NoticeSeen.PAUSED and self.pauses:
            return f"  ({notice.at - self.pauses[0].since:+.3f} s after the pause)"
        if self.breach_at is not None and notice.at >= self.breach_at:
            return f"  ({notice.at - self.breach_at:+.3f} s after the breach)"
        return ""

    def _followup_lines(self) -> list[str]:
        f = self.followup
        out = []
        if f.restored_at is not None:
            out.append(f"  restored  {ts(f.restored_at)}  (fault undone)")
        if f.recovered_at is not None:
            out.append(f"  recovered {ts(f.recovered_at)}  (QoS window empty, alert resolved)")
        if f.resumed_at is not None:
            after = (
                f"{f.resumed_at - f.restored_at:+.3f} s after the fault was undone"
                if f.restored_at is not None
                else ""
            )
            limit = self.targets.get("resume")
            target = f" (target <= {limit:g} s)" if limit is not None else ""
            out.append(f"  resumed   {ts(f.resumed_at)}  {f.resumed_by}  {after}{target}")
        if f.held_until is not None:
            since = f.recovered_at or f.restored_at or self.injected_at
            out.append(
                f"  held      {ts(f.held_until)}  still paused {f.held_until - since:.1f} s after "
                f"recovery; waiting for: {f.waiting_for or '?'}"
            )
        return out

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (for evidence and tests)."""
        return {
            "scenario": self.scenario,
            "ok": self.ok,
            "problems": self.problems,
            "injected_at": ts(self.injected_at),
            "breach_at": ts(self.breach_at) if self.breach_at is not None else None,
            "breaches": [
                {
                    "rule": b.rule,
                    "venue": b.venue,
                    "at": ts(b.at),
                    "value": b.value,
                    "submitted": b.submitted,
                }
                for b in self.breaches
            ],
            "pauses": [{**p.to_json(), "since": ts(p.since)} for p in self.pauses],
            "alerts": [
                {**a, "active_at": ts(a["active_at"]), "seen_firing_at": ts(a["seen_firing_at"])}
                for a in self.alerts
            ],
            "latency_s": {k: round(v, 3) for k, v in self.latencies.items()},
            "targets_s": self.targets,
            "notices": [{**n.to_json(), "at": ts(n.at)} for n in self.notices],
            "followup": {
                "restored_at": ts(self.followup.restored_at),
                "recovered_at": ts(self.followup.recovered_at),
                "resumed_at": ts(self.followup.resumed_at),
                "resumed_by": self.followup.resumed_by,
                "held_until": ts(self.followup.held_until),
                "waiting_for": self.followup.waiting_for,
            },
            "attempts": None if self.attempts is None else vars(self.attempts),
        }
