"""How fast a guard breach stops the engine, in-process and at the real orchestrator.

Starts `arbqos orchestrator` on a free loopback port, connects the engine's side with
`arbqos.engine.connect()` (repository config, logging configured as JSON lines like the
services, to /dev/null; status polled every 50 ms instead of 250 ms so that many "running"
answers arrive while each pause is in flight: the adversarial case), then, per breach:

1. sends legs filled at 10 % of their stake, each after asking `trading_allowed()`; the leg
   that opens the guard's gate (`exec.min_orders_in_window` = 5) breaches
   `exec.fill_ratio_min`, inside its own `tracker.submit()`;
2. times breach -> `trading_allowed()` False (the clock starts just before that submit), and
   breach -> the orchestrator acknowledged the guard's pause (it answers after committing
   `paused`);
3. keeps calling `trading_allowed()` until the acknowledgement and for three status polls
   after it, counting every True: a leg that would have gone out;
4. resumes (admin token, force) and waits for the gate to reopen; the tracker's clock (a
   FakeClock) then jumps past the QoS window so the next breach starts from an empty window.

200 breaches ask like an engine that waits on I/O between legs (the loop sleeps 50 us
between questions, letting the pause notifier's thread run); the latency figures come from
them. 50 more ask in a pure CPU loop that never lets go of the GIL: the adversarial case for
legs leaking through (counted too); it starves the notifier's thread, so its pause latency is
printed apart, as a warning about engines that busy-loop.

Prints: RESULT engine_stop local_p50_us=<a> local_p99_us=<x> orchestrator_p50_ms=<b>
orchestrator_p99_ms=<y> legs_after_breach=<n> breaches=<m>
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from arbqos.clock import FakeClock
from arbqos.engine import EngineQos, connect
from arbqos.log import configure_logging
from arbqos.sdk import OrchestratorClient
from arbqos_harness.process import ManagedProcess, free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[1]
ADMIN_TOKEN = os.urandom(24).hex()
PAUSE_TOKEN = os.urandom(24).hex()
BREACHES = 200
SPIN_BREACHES = 50
MIN_ORDERS = 5
POLL_S = 0.05
YIELD_S = 50e-6


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))]


def send_leg(qos: EngineQos) -> None:
    """One leg filled at 10 % of its stake."""
    qos.tracker.submit("sx", "live", 10.0, 0.5).result("partial", filled_usd=1.0)


def wait_for(predicate: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"engine_stop: {what} within {timeout_s} s")
        time.sleep(0.0005)


def one_breach(
    qos: EngineQos, admin: OrchestratorClient, n: int, *, pause_s: float
) -> tuple[float, float, int]:
    """(breach -> closed seconds, breach -> acknowledged seconds, legs allowed after)."""
    for _ in range(MIN_ORDERS - 1):
        if not qos.trading_allowed():
            raise SystemExit(f"engine_stop: closed before the breach: {qos.why_not()}")
        send_leg(qos)
    if not qos.trading_allowed():
        raise SystemExit(f"engine_stop: closed before the breach: {qos.why_not()}")
    start = time.perf_counter()
    leg = qos.tracker.submit("sx", "live", 10.0, 0.5)  # the gate opens: the guard breaches
    allowed = 0
    while qos.trading_allowed():
        allowed += 1
    closed = time.perf_counter() - start
    while qos.guard_requests[1] < n:
        allowed += qos.trading_allowed()
        if pause_s:
            time.sleep(pause_s)
        if time.perf_counter() - start > 10:
            raise SystemExit("engine_stop: the orchestrator did not acknowledge within 10 s")
    acknowledged = time.perf_counter() - start
    leg.result("partial", filled_usd=1.0)
    until = time.perf_counter() + 3 * POLL_S
    while time.perf_counter() < until:
        allowed += qos.trading_allowed()
        if pause_s:
            time.sleep(pause_s)
    admin.resume(force=True, detail="bench")
    wait_for(qos.trading_allowed, 5, "the gate did not reopen after the resume")
    return closed, acknowledged, allowed


@dataclass
class Figures:
    local: list[float] = field(default_factory=list)
    remote: list[float] = field(default_factory=list)
    spin_remote: list[float] = field(default_factory=list)
    after: int = 0


def measure(url: str) -> Figures:
    clock = FakeClock()
    overrides = [
        f"endpoints.orchestrator_url={url}",
        f"alerting.engine_target=127.0.0.1:{free_port()}",
        f"exec.min_orders_in_window={MIN_ORDERS}",
        "exec.fill_ratio_min=0.9",
        f"orchestrator.client_cache_s={POLL_S}",
    ]
    env = {"ARBQOS_PAUSE_TOKEN": PAUSE_TOKEN}
    figures = Figures()
    with (
        connect(ROOT / "config", env=env, overrides=overrides, bank=2_000.0, clock=clock) as qos,
        OrchestratorClient(url, ADMIN_TOKEN) as admin,
    ):
        wait_for(qos.trading_allowed, 5, "trading not allowed at start")
        window_s = qos.config.exec.qos_window_s
        for n in range(1, BREACHES + SPIN_BREACHES + 1):
            spin = n > BREACHES
            closed, acknowledged, allowed = one_breach(
                qos, admin, n, pause_s=0.0 if spin else YIELD_S
            )
            if spin:
                figures.spin_remote.append(acknowledged)
            else:
                figures.local.append(closed)
                figures.remote.append(acknowledged)
            figures.after += allowed
            clock.advance(window_s + 1)  # every leg so far leaves the guard's window
    return figures


def main() -> int:
    """Start the orchestrator, measure, print the figures and the RESULT line."""
    devnull = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    configure_logging(stream=devnull)
    with tempfile.TemporaryDirectory(prefix="arbqos-bench-") as tmp:
        work = Path(tmp)
        port = free_port()
        argv = [str(ROOT / ".venv" / "bin" / "arbqos"), "orchestrator"]
        argv += ["--config-dir", str(ROOT / "config"), "--port", str(port)]
        argv += ["--state-dir", str(work / "state")]
        env = {"ARBQOS_ADMIN_TOKEN": ADMIN_TOKEN, "ARBQOS_PAUSE_TOKEN": PAUSE_TOKEN}
        with ManagedProcess("orchestrator", argv, work / "logs", env=env, cwd=work) as proc:
            try:
                wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout_s=30)
            except TimeoutError:
                print(proc.tail(), file=sys.stderr)
                raise
            figures = measure(f"http://127.0.0.1:{port}")
    local_us = [x * 1e6 for x in figures.local]
    remote_ms = [x * 1e3 for x in figures.remote]
    spin_ms = [x * 1e3 for x in figures.spin_remote]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    breaches = len(local_us) + len(spin_ms)
    print(f"machine: {os.cpu_count()} cores, load average {load} at the end")
    print(
        f"breach -> trading_allowed() False: p50={statistics.median(local_us):.1f} us "
        f"p99={percentile(local_us, 99):.1f} us max={max(local_us):.1f} us"
    )
    print(
        f"breach -> orchestrator paused (acknowledged): p50={statistics.median(remote_ms):.2f} "
        f"ms p99={percentile(remote_ms, 99):.2f} ms max={max(remote_ms):.2f} ms"
    )
    print(
        f"the same while the engine thread never releases the GIL ({len(spin_ms)} breaches): "
        f"p50={statistics.median(spin_ms):.2f} ms p99={percentile(spin_ms, 99):.2f} ms"
    )
    print(f"legs allowed after a breach: {figures.after} over {breaches} breaches")
    print(
        f"RESULT engine_stop local_p50_us={statistics.median(local_us):.1f} "
        f"local_p99_us={percentile(local_us, 99):.1f} "
        f"orchestrator_p50_ms={statistics.median(remote_ms):.2f} "
        f"orchestrator_p99_ms={percentile(remote_ms, 99):.2f} "
        f"legs_after_breach={figures.after} breaches={breaches}"
    )
    return 0 if figures.after == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
