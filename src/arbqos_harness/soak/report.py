"""The soak's verdict: pauses, heartbeat gaps, RSS growth and latency drift against limits."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from arbqos_harness.soak.latency import DRIFT_FLOOR_S, Drift
from arbqos_harness.soak.plan import LATENCY_DRIFT_PCT_MAX, RSS_GROWTH_PCT_MAX, SoakPlan

JUDGED_PROCESSES = (
    "orchestrator",
    "heartbeat",
    "balance-watcher",
    "engine",
    "sim-sx",
    "sim-azuro",
)
"""The processes whose memory must stay flat: arbqos's services, the engine, the simulators."""
NOT_JUDGED_WHY = (
    "prometheus keeps samples in memory until it compacts its head block (every 2 h); "
    "anvil keeps every block of its chain; alertmanager and the soak runner are not arbqos"
)


@dataclass(frozen=True)
class PauseEvent:
    """A running -> paused transition the orchestrator journaled during the soak."""

    ts: str
    reasons: list[str]


@dataclass
class SoakReport:
    """Everything the soak measured and its verdict (`problems` empty means PASS)."""

    plan: SoakPlan
    elapsed_s: float
    pauses: list[PauseEvent]
    heartbeat_ticks: int
    heartbeat_gaps: int
    heartbeat_max_gap_s: float
    rss_growth_pct: dict[str, float]
    drifts: list[Drift]
    crashed: list[str] = field(default_factory=list)
    stopped_early: str | None = None
    problems: list[str] = field(default_factory=list)

    def judge(self) -> SoakReport:
        """Fill `problems` from the limits; return self."""
        problems: list[str] = []
        if self.stopped_early:
            problems.append(
                f"stopped after {self.elapsed_s:.0f} of {self.plan.duration_s:g} s "
                f"({self.stopped_early})"
            )
        problems += [f"{name} exited during the soak" for name in self.crashed]
        problems += [f"paused at {p.ts}: {', '.join(p.reasons) or '?'}" for p in self.pauses]
        if self.heartbeat_ticks == 0:
            problems.append("the heartbeat log holds no tick")
        if self.heartbeat_gaps:
            problems.append(
                f"{self.heartbeat_gaps} heartbeat gap(s) longer than "
                f"{1.5 * self.plan.heartbeat_interval_s:g} s (max {self.heartbeat_max_gap_s:.1f} s)"
            )
        judged = {n: g for n, g in self.rss_growth_pct.items() if n in JUDGED_PROCESSES}
        missing = [n for n in JUDGED_PROCESSES if n not in judged]
        if missing and not self.stopped_early:
            problems.append(f"no RSS growth measured for {', '.join(missing)}")
        problems += [
            f"{name} RSS grew {growth:.1f} % after the warm-up (limit {RSS_GROWTH_PCT_MAX:g} %)"
            for name, growth in sorted(judged.items())
            if growth > RSS_GROWTH_PCT_MAX
        ]
        if not self.drifts and not self.stopped_early:
            problems.append("no latency series had enough requests in two windows to judge")
        problems += [
            f"{d.series} p95 {1000 * d.first_p95_s:.0f} -> {1000 * d.last_p95_s:.0f} ms "
            f"(+{d.pct:.1f} %, limit {LATENCY_DRIFT_PCT_MAX:g} %)"
            for d in self.drifts
            if d.pct > LATENCY_DRIFT_PCT_MAX
        ]
        self.problems = problems
        return self

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.problems

    @property
    def rss_growth_pct_max(self) -> float:
        """Worst RSS growth of the judged processes (0 when none was measured)."""
        judged = [g for n, g in self.rss_growth_pct.items() if n in JUDGED_PROCESSES]
        return max(judged, default=0.0)

    @property
    def latency_drift_pct(self) -> float:
        """Worst latency drift (0 when none was measured)."""
        return max((d.pct for d in self.drifts), default=0.0)

    def result_line(self) -> str:
        """`RESULT soak duration_s=... pauses=... ...` (contract: one line of figures)."""
        return (
            f"RESULT soak duration_s={self.elapsed_s:.1f} pauses={len(self.pauses)} "
            f"rss_growth_pct_max={self.rss_growth_pct_max:.1f} "
            f"latency_drift_pct={self.latency_drift_pct:.1f} "
            f"heartbeat_ticks={self.heartbeat_ticks} heartbeat_gaps={self.heartbeat_gaps}"
        )

    def lines(self) -> list[str]:
        """The verdict as printed at the end."""
        out = [self.plan.describe()]
        out.append("RSS growth after the warm-up (mean of the last window over the first):")
        for name, growth in sorted(self.rss_growth_pct.items(), key=lambda kv: -kv[1]):
            mark = "" if name in JUDGED_PROCESSES else "  (not judged)"
            out.append(f"  {name:<18} {growth:+7.1f} %{mark}")
        out.append(f"  not judged: {NOT_JUDGED_WHY}")
        out.append(
            f"latency p95 drift (last window over the first after the warm-up; "
            f"p95 under {1000 * DRIFT_FLOOR_S:g} ms counts as {1000 * DRIFT_FLOOR_S:g} ms):"
        )
        for d in self.drifts:
            out.append(
                f"  {d.series:<34} {1000 * d.first_p95_s:8.1f} -> {1000 * d.last_p95_s:8.1f} ms"
                f"  {d.pct:+7.1f} %"
            )
        out.append(
            f"heartbeat: {self.heartbeat_ticks} ticks, {self.heartbeat_gaps} gaps "
            f"(max gap {self.heartbeat_max_gap_s:.1f} s); pauses: {len(self.pauses)}"
        )
        out += [f"FAIL {p}" for p in self.problems]
        out.append(f"soak: {'PASS' if self.ok else 'FAIL'}")
        return out

    def to_json(self) -> dict[str, Any]:
        """Everything as JSON values."""
        body = asdict(self)
        body.update(
            ok=self.ok,
            rss_growth_pct_max=self.rss_growth_pct_max,
            latency_drift_pct=self.latency_drift_pct,
            judged_processes=list(JUDGED_PROCESSES),
            result=self.result_line(),
        )
        return body
