"""A scenario's outcome: who paused, how long after the breach, and whether that was expected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from arbqos.clock import format_ts
from arbqos.config import ArbqosConfig
from arbqos_harness.demo.breach import Breach
from arbqos_harness.demo.observe import Observer, PauseSeen

DEADMAN_CHECK_S = 1.0
"""The orchestrator checks its dead man's switch every second."""
ALERT_PATH_TARGET_S = 15.0
"""Breach to pause through Prometheus and Alertmanager (about 1-2 s with the tuned timings)."""


def ts(unix: float | None) -> str:
    """Unix seconds as an ISO 8601 UTC timestamp (or `-`)."""
    return "-" if unix is None else format_ts(datetime.fromtimestamp(unix, UTC))


@dataclass(frozen=True)
class Targets:
    """Latency limits per pause path, seconds from the breach."""

    by_source: dict[str, float]

    @classmethod
    def of(cls, config: ArbqosConfig) -> Targets:
        """Guard 1 s, heartbeat confirmation bound, alerts 15 s, dead man window + 2 s.

        The heartbeat reports a target down after `failure_threshold` failed attempts, retried
        every `retry_interval_s`: within interval + (failure_threshold - 1) x retry + timeout.
        """
        hb = config.heartbeat
        window = config.orchestrator.deadman_intervals * hb.interval_s
        confirm_s = (hb.failure_threshold - 1) * hb.retry_interval_s
        return cls(
            {
                "guard": 1.0,
                "heartbeat": hb.interval_s + confirm_s + hb.probe_timeout_s,
                "alert": ALERT_PATH_TARGET_S,
                "deadman": window + 2 * DEADMAN_CHECK_S,
            }
        )


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
    ) -> ScenarioReport:
        """Compare what was seen with what the scenario expects."""
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
        guard, alert = observer.first_pause("guard"), observer.first_pause("alert")
        if "guard" in required_sources and guard and alert and alert.since < guard.since:
            problems.append("the alert path paused before the guard (expected guard first)")
        for name in required_alerts:
            if observer.first_alert(name) is None:
                problems.append(f"alert {name} never fired in Prometheus")
        if no_pause and (observer.pauses or observer.paused_polls):
            names = ", ".join(f"{p.source}:{p.name}" for p in observer.pauses.values())
            problems.append(
                f"trading paused although this fault must only alert ({names or 'paused'})"
            )
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
            targets={s: targets.by_source[s] for s in required_sources if s in targets.by_source},
            ok=not problems,
            problems=problems,
        )

    def lines(self) -> list[str]:
        """The verdict as terminal lines."""
        out = [f"scenario {self.scenario}: {'PASS' if self.ok else 'FAIL'} - {self.what}"]
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
            out.append(f"  breach    {ts(self.breach_at)}  (infrastructure fault: the injection)")
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
        out += [f"  problem: {p}" for p in self.problems]
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
        }
