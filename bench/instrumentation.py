"""Cost of one order lifecycle through ExecutionTracker + QosGuard vs the bare client calls.

A lifecycle is `submit()` + `Leg.result("filled")`: submitted, requested, resolved and
filled stake, result counter, accept time, quote-to-fill time, slippage and stake fraction,
plus two guard events. The baseline makes the same nine prometheus_client calls on pre-bound
children with the same values; before timing, the bench checks that one lifecycle through
each changes exactly the same series, so a metric added to the tracker cannot go unnoticed.
The guard runs with a 1 s window so eviction works in steady state; its notifier points at a
closed loopback port and is never triggered (no breach). After timing, the bench checks that
both guards evicted, never saturated and never tripped, so the figures are those of the
steady-state path.

Batches of each variant are interleaved in a freshly shuffled order every round (a fixed
order lets one variant inherit the caches another left behind, always the same way) and
timed with the thread's CPU clock, so other processes on the machine disturb the figures
little. The medians are reported; the median of the per-round ratios (tracked / baseline of
the same round, so that slow drifts of the shared machine cancel out) is printed beside
them as a check.

Prints: RESULT instrumentation us_per_order=<x> baseline_us=<y> ratio=<x/y> guard_us_per_event=<z>
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry

from arbqos.clock import SystemClock
from arbqos.config.schema import ArbqosConfig, ExecConfig
from arbqos.guard import PauseNotifier, QosGuard
from arbqos.instrument import ExecutionMetrics, ExecutionTracker
from arbqos_harness.process import free_port

ORDERS = 2_000
REPEATS = 75
SEED = 20261126
STAKE = 50.0
QUOTED = 0.52
FILLED_PROB = 0.5212  # +12 bps
ACCEPT_S = 1.2
QUOTE_AGE_S = 0.5


def bare(registry: CollectorRegistry, config: ArbqosConfig) -> Callable[[int], None]:
    """The nine prometheus_client calls a lifecycle makes, on pre-bound children."""
    lane = ExecutionMetrics(registry, config).lanes["sx"]["live"]
    submitted, requested, fraction = lane.submitted, lane.requested, lane.fraction
    filled_result, resolved = lane.results["filled"], lane.resolved
    filled, accept = lane.filled, lane.accept
    q2f, slippage = lane.quote_to_fill, lane.slippage
    frac = STAKE / 2_000.0
    slip = (FILLED_PROB - QUOTED) * 10_000.0

    def run(n: int) -> None:
        for _ in range(n):
            submitted.inc()
            requested.inc(STAKE)
            fraction.observe(frac)
            filled_result.inc()
            resolved.inc(STAKE)
            filled.inc(STAKE)
            accept.observe(ACCEPT_S)
            q2f.observe(ACCEPT_S + QUOTE_AGE_S)
            slippage.observe(slip)

    return run


def tracked(tracker: ExecutionTracker) -> Callable[[int], None]:
    """The same lifecycle through the tracker (and the guard behind it)."""
    mono = time.monotonic

    def run(n: int) -> None:
        submit = tracker.submit
        for _ in range(n):
            leg = submit("sx", "live", STAKE, QUOTED, quoted_at=mono() - QUOTE_AGE_S)
            leg.result("filled", filled_prob=FILLED_PROB, accepted_at=leg.submitted_at + ACCEPT_S)

    return run


def guard_only(guard: QosGuard) -> Callable[[int], None]:
    """Two guard events per iteration: a submit and a filled result."""
    mono = time.monotonic

    def run(n: int) -> None:
        on_submit, on_result = guard.on_submit, guard.on_result
        for _ in range(n):
            t = mono()
            on_submit("sx", t)
            on_result("sx", t, STAKE, STAKE, ACCEPT_S)

    return run


def changed_series(registry: CollectorRegistry, run: Callable[[int], None]) -> set[str]:
    """The series (name and labels) whose value one lifecycle of `run` changes."""

    def values() -> dict[str, float]:
        return {
            f"{s.name}{sorted(s.labels.items())}": s.value
            for metric in registry.collect()
            for s in metric.samples
        }

    before = values()
    run(1)
    return {key for key, value in values().items() if before.get(key) != value}


def check_same_calls(config: ArbqosConfig) -> None:
    """Exit unless the baseline touches exactly the series the tracker touches."""
    baseline_registry, tracker_registry = CollectorRegistry(), CollectorRegistry()
    baseline = changed_series(baseline_registry, bare(baseline_registry, config))
    tracker = ExecutionTracker(tracker_registry, config, bank=2_000.0)
    through_tracker = changed_series(tracker_registry, tracked(tracker))
    if baseline != through_tracker:
        raise SystemExit(
            "the baseline no longer makes the calls the tracker makes; update bare(): "
            f"only tracker {sorted(through_tracker - baseline)}, "
            f"only baseline {sorted(baseline - through_tracker)}"
        )


def check_steady_state(guards: list[QosGuard], fed: int) -> None:
    """Exit unless every guard evicted, never hit `max_events` and never asked to pause."""
    for guard in guards:
        window = guard.bind("sx")
        if guard.requests_sent or window.saturated or not len(window.result_times) < fed:
            raise SystemExit(
                f"the guard left its steady state ({guard.requests_sent} pause requests, "
                f"{window.saturated} events dropped at max_events, {len(window.result_times)} "
                f"of {fed} results in the window); the figures are not comparable"
            )


def timed_us(run: Callable[[int], None], n: int) -> float:
    """CPU microseconds (this thread) per iteration of one timed batch."""
    started = time.thread_time()
    run(n)
    return (time.thread_time() - started) / n * 1e6


def main() -> None:
    """Interleave the variants, take medians, print the RESULT line."""
    config = ArbqosConfig(exec=ExecConfig(qos_window_s=1))
    check_same_calls(config)
    no_guard = ExecutionTracker(CollectorRegistry(), config, bank=2_000.0)
    notifier = PauseNotifier(f"http://127.0.0.1:{free_port()}", token="bench")
    guard, bare_guard = QosGuard(config.exec, notifier), QosGuard(config.exec, notifier)
    tracker = ExecutionTracker(
        CollectorRegistry(), config, clock=SystemClock(), bank=2_000.0, guard=guard
    )
    variants = {
        "baseline": bare(CollectorRegistry(), config),
        "tracked": tracked(tracker),
        "no_guard": tracked(no_guard),
        "guard": guard_only(bare_guard),
    }
    for run in variants.values():  # warm up, fill the guard windows
        run(ORDERS)
    samples: dict[str, list[float]] = {name: [] for name in variants}
    order = list(variants)
    shuffle = random.Random(SEED).shuffle
    for _ in range(REPEATS):
        shuffle(order)
        for name in order:
            samples[name].append(timed_us(variants[name], ORDERS))
    notifier.close(drain_timeout_s=0)
    check_steady_state([guard, bare_guard], fed=ORDERS * (REPEATS + 1))
    us_per_order = statistics.median(samples["tracked"])
    baseline = statistics.median(samples["baseline"])
    guard_us = statistics.median(samples["guard"]) / 2
    for name, values in samples.items():
        print(
            f"{name:9s} min {min(values):6.2f}  median {statistics.median(values):6.2f}  "
            f"max {max(values):6.2f} us per iteration ({REPEATS} batches of {ORDERS})"
        )
    no_guard_us = statistics.median(samples["no_guard"])
    print(f"without the guard: ratio={no_guard_us / baseline:.3f}")
    paired = [t / b for t, b in zip(samples["tracked"], samples["baseline"], strict=True)]
    quartiles = statistics.quantiles(paired, n=4)
    print(
        f"per-round ratio: median {statistics.median(paired):.3f} "
        f"(quartiles {quartiles[0]:.3f} / {quartiles[2]:.3f})"
    )
    print(
        f"RESULT instrumentation us_per_order={us_per_order:.2f} baseline_us={baseline:.2f} "
        f"ratio={us_per_order / baseline:.3f} guard_us_per_event={guard_us:.2f}"
    )


if __name__ == "__main__":
    main()
