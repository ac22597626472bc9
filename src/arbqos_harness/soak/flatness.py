"""The compressed soak's settings, figures per bucket of virtual time, and its verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

P50_DRIFT_MAX = 1.25
"""Largest median CPU time per request, last bucket over the first after warm-up."""
P95_DRIFT_MAX = 1.5
"""The same for the p95 (noisier: it holds the garbage collector's pauses)."""
RSS_GROWTH_PCT_MAX = 10.0
"""Largest RSS growth from the end of the warm-up to the end of the run."""
MIN_SAMPLES = 50
"""Endpoints with fewer requests in a bucket are not judged (too noisy)."""


@dataclass(frozen=True)
class CompressedSettings:
    """How much traffic, how fast in virtual time, and how it is cut into buckets."""

    legs: int = 30_000
    """Legs to send (two per opportunity): 30,000 is two hours of the demo's 2 per second."""
    rate: float = 2.0
    """Opportunities per virtual second (the demo's default)."""
    bucket_s: float = 600.0
    warmup_s: float = 1200.0
    """Virtual seconds before the first judged bucket (longer than any kept history)."""
    settle_poll_s: float = 2.0
    """As the demo engine (`engine_main`)."""
    probe_every_s: float = 5.0
    """As the demo heartbeat interval."""
    engine_every: int = 8
    """One opportunity in this many goes through the engine over HTTP; 1 sends them all."""
    wall_limit_s: float = 120.0
    """Stop early (and fail) when the run takes longer than this."""
    seed: int = 7


@dataclass
class Bucket:
    """Figures of one bucket of virtual time."""

    end_s: float
    rss_mb: float
    retained: int
    """Records the simulators and the engine keep (trades, orders, fill salts, open bets)."""
    log_mb: float
    """Size of the simulators' decision logs on disk."""
    endpoints: dict[str, dict[str, float]] = field(default_factory=dict)
    """endpoint -> {n, p50_ms, p95_ms} (CPU milliseconds per request)."""


@dataclass
class CompressedReport:
    """The whole run and its verdict."""

    settings: CompressedSettings
    legs: int
    virtual_s: float
    wall_s: float
    completed: bool
    buckets: list[Bucket]
    p50_drift: dict[str, float]
    p95_drift: dict[str, float]
    rss_growth_pct: float
    retained_ratio: float
    problems: list[str]

    def result_line(self) -> str:
        """`RESULT sim_soak ...`."""
        worst50 = max(self.p50_drift.items(), key=lambda kv: kv[1], default=("none", 0.0))
        worst95 = max(self.p95_drift.items(), key=lambda kv: kv[1], default=("none", 0.0))
        return (
            f"RESULT sim_soak legs={self.legs} virtual_s={self.virtual_s:.0f} "
            f"wall_s={self.wall_s:.1f} completed={int(self.completed)} "
            f"p50_drift_max={worst50[1]:.2f} p50_worst={worst50[0]} "
            f"p95_drift_max={worst95[1]:.2f} p95_worst={worst95[0]} "
            f"rss_growth_pct={self.rss_growth_pct:.1f} retained_ratio={self.retained_ratio:.2f}"
        )

    def table(self) -> list[str]:
        """One line per bucket: RSS, kept records, median CPU ms of each endpoint."""
        names = sorted({name for b in self.buckets for name in b.endpoints})
        head = "end_s   rss_mb  retained  log_mb  "
        out = [head + "  ".join(f"{n}(p50/p95 ms)" for n in names)]
        for b in self.buckets:
            cells = []
            for name in names:
                fig = b.endpoints.get(name)
                cells.append(f"{fig['p50_ms']:.3f}/{fig['p95_ms']:.3f}" if fig else "-")
            row = f"{b.end_s:6.0f} {b.rss_mb:7.1f} {b.retained:9d} {b.log_mb:7.1f}  "
            out.append(row + "  ".join(cells))
        return out

    def to_json(self) -> dict[str, Any]:
        """Everything as JSON values."""
        body = asdict(self)
        body["result"] = self.result_line()
        return body


def judge(
    settings: CompressedSettings,
    legs: int,
    virtual_s: float,
    wall_s: float,
    completed: bool,
    buckets: list[Bucket],
) -> CompressedReport:
    """Drift of each endpoint and memory growth from the end of the warm-up; the verdict."""
    problems: list[str] = []
    if not completed:
        problems.append(
            f"only {legs} of {settings.legs} legs in the wall limit of "
            f"{settings.wall_limit_s:g} s (virtual {virtual_s:.0f} s): requests got slower"
        )
    judged = [b for b in buckets if b.end_s > settings.warmup_s]
    warm = [b for b in buckets if b.end_s <= settings.warmup_s]
    p50: dict[str, float] = {}
    p95: dict[str, float] = {}
    growth = 0.0
    ratio = 1.0
    if len(judged) >= 2 and warm:
        first, last = judged[0], judged[-1]
        for name, fig in first.endpoints.items():
            end = last.endpoints.get(name)
            if end is None or min(fig["n"], end["n"]) < MIN_SAMPLES:
                continue
            p50[name] = end["p50_ms"] / fig["p50_ms"] if fig["p50_ms"] > 0 else 1.0
            p95[name] = end["p95_ms"] / fig["p95_ms"] if fig["p95_ms"] > 0 else 1.0
        base = warm[-1]
        growth = 100.0 * (last.rss_mb - base.rss_mb) / base.rss_mb
        ratio = last.retained / max(base.retained, 1)
    elif completed:
        problems.append("too few buckets after the warm-up to judge (raise --legs)")
    problems += [
        f"{name}: median CPU per request x{value:.2f} (limit x{P50_DRIFT_MAX})"
        for name, value in sorted(p50.items())
        if value > P50_DRIFT_MAX
    ]
    problems += [
        f"{name}: p95 CPU per request x{value:.2f} (limit x{P95_DRIFT_MAX})"
        for name, value in sorted(p95.items())
        if value > P95_DRIFT_MAX
    ]
    if growth > RSS_GROWTH_PCT_MAX:
        problems.append(f"RSS grew {growth:.1f} % after the warm-up (limit {RSS_GROWTH_PCT_MAX} %)")
    return CompressedReport(
        settings, legs, virtual_s, wall_s, completed, buckets, p50, p95, growth, ratio, problems
    )
