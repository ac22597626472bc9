"""The guard and its rules equal a brute-force recomputation: statistics, trips and details."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from arbqos.config.schema import ExecConfig
from arbqos.guard import QosGuard, QosRules
from arbqos.vocab import AlertName

VENUES = ("sx", "azuro")


class Recorder:
    """A pause sink that remembers what it was asked."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []

    def request_pause(self, reason: str, detail: str) -> None:
        self.requests.append((reason, detail))


def nearest_rank_p95(values: list[float]) -> float | None:
    """The smallest value with at least 95 % of the values at or below it (textbook)."""
    ordered = sorted(values)
    return next((v for i, v in enumerate(ordered, 1) if i * 100 >= 95 * len(ordered)), None)


@dataclass
class Brute:
    """Keeps every event forever and recomputes each statistic from scratch."""

    cfg: ExecConfig
    submits: dict[str, list[float]] = field(default_factory=lambda: {v: [] for v in VENUES})
    results: dict[str, list[tuple[float, int, int, float | None]]] = field(
        default_factory=lambda: {v: [] for v in VENUES}
    )
    active: set[tuple[str, str]] = field(default_factory=set)
    trips: list[tuple[str, str]] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    def stats(self, venue: str, now: float) -> dict[str, object]:
        w = self.cfg.qos_window_s
        submitted = [t for t in self.submits[venue] if t > now - w]
        results = [r for r in self.results[venue] if r[0] > now - w]
        requested = sum(r[1] for r in results)
        filled = sum(r[2] for r in results)
        accepts = sorted(r[3] for r in results if r[3] is not None)
        threshold = self.cfg.p95_accept_time_ms_max / 1000
        p95 = nearest_rank_p95(accepts)  # written independently of the guard's code
        gate = len(submitted) >= self.cfg.min_orders_in_window
        ratio = filled / requested if requested else None
        return {
            "submitted": len(submitted),
            "results": len(results),
            "requested_usd": requested / 1e6,
            "filled_usd": filled / 1e6,
            "fill_ratio": ratio,
            "accepts": len(accepts),
            "slow_accepts": sum(a > threshold for a in accepts),
            "p95_accept_s": p95,
            "gate_open": gate,
            "fill_ratio_low": gate and ratio is not None and ratio < self.cfg.fill_ratio_min,
            "accept_p95_high": gate and p95 is not None and p95 > threshold,
        }

    def check_rules(self, venue: str, now: float) -> dict[str, object]:
        stats = self.stats(venue, now)
        for rule, key in (
            (AlertName.FILL_RATIO_LOW, "fill_ratio_low"),
            (AlertName.ACCEPT_P95_HIGH, "accept_p95_high"),
        ):
            if stats[key] and (venue, rule) not in self.active:
                self.active.add((venue, rule))
                self.trips.append((rule, venue))
                self.details.append(self.detail(rule, venue, stats))
            elif not stats[key]:
                self.active.discard((venue, rule))
        return stats

    def detail(self, rule: str, venue: str, s: dict[str, object]) -> str:
        """The pause request's detail, from the brute-force statistics."""
        over = f"over {self.cfg.qos_window_s}s"
        if rule == AlertName.FILL_RATIO_LOW:
            return (
                f"venue={venue} fill_ratio={s['fill_ratio']:.4f} < {self.cfg.fill_ratio_min} "
                f"{over} (n={s['submitted']} submitted, {s['results']} results)"
            )
        p95_ms = float(s["p95_accept_s"]) * 1000  # type: ignore[arg-type]
        return (
            f"venue={venue} p95_accept_time_ms={p95_ms:.0f} > "
            f"{self.cfg.p95_accept_time_ms_max} {over} "
            f"(slow={s['slow_accepts']}/{s['accepts']} accepts, n={s['submitted']} submitted)"
        )


stakes = st.integers(1, 50_000).map(lambda cents: cents / 100)
accept_times = st.one_of(
    st.none(),
    st.floats(0, 6),
    st.sampled_from([0.2, 0.9, 1.5, 1.5000001, 2.5]),  # 1.5 s is the threshold: not slow
)
shares = st.one_of(st.floats(0, 1), st.sampled_from([0.0, 1.0]))
events = st.one_of(
    st.tuples(st.just("submit"), st.sampled_from(VENUES)),
    st.tuples(st.just("result"), st.sampled_from(VENUES), stakes, shares, accept_times),
    st.tuples(st.just("tick"), st.sampled_from(VENUES)),
)
# integer gaps and windows put events exactly on the window edge (now - window_s)
gaps = st.one_of(
    st.just(0.0),
    st.integers(0, 3).map(float),
    st.floats(0, 2),
    st.integers(5, 60).map(float),
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(gaps, events), min_size=10, max_size=150),
    st.integers(1, 60),
    st.integers(1, 6),
    st.sampled_from([0.3, 0.5, 0.85, 1.0]),
)
def test_guard_matches_brute_force(
    stream: list[tuple[float, tuple[object, ...]]], window_s: int, min_orders: int, fill_min: float
) -> None:
    cfg = ExecConfig(
        qos_window_s=window_s,
        min_orders_in_window=min_orders,
        fill_ratio_min=fill_min,
        p95_accept_time_ms_max=1500,
    )
    sink = Recorder()
    guard = QosGuard(cfg, sink)
    brute = Brute(cfg)
    now = 1000.0
    for gap, ev in stream:
        now += gap
        kind, venue = ev[0], str(ev[1])
        if kind == "submit":
            guard.on_submit(venue, now)
            brute.submits[venue].append(now)
        elif kind == "result":
            stake, share, accept = float(ev[2]), float(ev[3]), ev[4]  # type: ignore[arg-type]
            filled = stake * share
            accepted = accept if filled > 0 else None
            guard.on_result(venue, now, stake, filled, accepted)  # type: ignore[arg-type]
            brute.results[venue].append((now, round(stake * 1e6), round(filled * 1e6), accepted))  # type: ignore[arg-type]
        else:
            guard.evaluate(venue, now)
        expected = brute.check_rules(venue, now)
        got = guard.stats(venue).__dict__
        assert {k: got[k] for k in expected} == expected
        assert [(reason, detail.split()[0]) for reason, detail in sink.requests] == [
            (rule, f"venue={v}") for rule, v in brute.trips
        ]
    assert [detail for _, detail in sink.requests] == brute.details
    event(f"trips: {min(len(brute.trips), 3)}+")
    event(f"p95 trips: {any(r == AlertName.ACCEPT_P95_HIGH for r, _ in brute.trips)}")


micro_stakes = st.integers(1, 50_000_000_000)


@settings(max_examples=500)
@given(
    st.lists(st.tuples(micro_stakes, shares, accept_times), max_size=60),
    st.integers(0, 8),
    st.integers(1, 6),
    st.sampled_from([0.3, 0.5, 0.85, 1.0]),
    st.sampled_from([0.9, 1.5, 2.0]),
)
def test_rules_match_their_definitions(
    results: list[tuple[int, float, float | None]],
    submitted: int,
    min_orders: int,
    fill_min: float,
    threshold_s: float,
) -> None:
    """The rules over running sums equal the statistics recomputed from the window's events."""
    rules = QosRules(
        window_s=60.0, threshold_s=threshold_s, min_orders=min_orders, fill_ratio_min=fill_min
    )
    requested = sum(stake for stake, _, _ in results)
    filled = sum(round(stake * share) for stake, share, _ in results)
    accepts = [a for _, _, a in results if a is not None]
    excess = sum(rules.slow_weight(a) for _, _, a in results)
    p95 = nearest_rank_p95(accepts)
    slow = sum(a > threshold_s for a in accepts)

    gate = submitted >= min_orders
    assert rules.gate_open(submitted) is gate
    assert rules.verdict(submitted, requested, filled, excess) == (
        gate and requested > 0 and filled / requested < fill_min,
        gate and p95 is not None and p95 > threshold_s,
    )
    assert excess == 20 * slow - len(accepts)  # what the window keeps, and derives `slow` from
    event(f"gate open: {gate}")
    event(f"p95 above T: {p95 is not None and p95 > threshold_s}")
