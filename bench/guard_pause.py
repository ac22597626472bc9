"""Benchmark the guard's pause path against the real `arbqos orchestrator` process.

Each episode builds a fresh guard and tracker (a new breach episode), submits five Azuro legs
whose accepts all exceed a 50 ms p95 threshold, and times:
- hot path: how long the breaching `leg.result()` call takes to return (the guard only hands
  the pause to the notifier's thread; the engine never waits on the network);
- recorded: breach to the pause the orchestrator committed (the `since` of the guard reason,
  UTC wall clock, same machine);
- visible: breach to `GET /v1/status` first showing the guard reason (polled every 2 ms).
Then an admin resumes with force and the next episode starts.
Ends with: RESULT guard_pause hot_path_p50_us=... recorded_p50_ms=... visible_p50_ms=...
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry

from arbqos.clock import parse_ts
from arbqos.config.schema import ArbqosConfig, ExecConfig
from arbqos.guard import PauseNotifier, QosGuard
from arbqos.instrument import ExecutionTracker
from arbqos_harness.process import ManagedProcess, free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[1]
ADMIN_TOKEN = os.urandom(24).hex()
PAUSE_TOKEN = os.urandom(24).hex()
EPISODES = 40
CONFIG = ArbqosConfig(exec=ExecConfig(min_orders_in_window=5, p95_accept_time_ms_max=50))


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def episode(base: str, http: httpx.Client) -> tuple[float, float, float]:
    """One breach: (hot path s, breach to recorded pause s, breach to visible pause s)."""
    with PauseNotifier(base, token=PAUSE_TOKEN) as notifier:
        tracker = ExecutionTracker(
            CollectorRegistry(), CONFIG, guard=QosGuard(CONFIG.exec, notifier)
        )
        legs = [tracker.submit("azuro", "live", 10.0, 0.5) for _ in range(5)]
        time.sleep(0.06)  # every accept takes more than the 50 ms threshold
        wall, started = time.time(), time.perf_counter()
        legs[0].result("filled")
        hot = time.perf_counter() - started
        deadline = time.monotonic() + 5
        while True:
            status = http.get("/v1/status").json()
            guard = [r for r in status["reasons"] if r["source"] == "guard"]
            if guard:
                visible = time.perf_counter() - started
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"no guard pause 5 s after the breach: {status}")
            time.sleep(0.002)
        notifier.wait_idle(2.0)
    recorded = parse_ts(guard[0]["since"]).timestamp() - wall
    resumed = http.post(
        "/v1/resume", json={"force": True}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    if resumed.status_code != 200:
        raise RuntimeError(f"resume failed: HTTP {resumed.status_code} {resumed.text}")
    return hot, recorded, visible


def main() -> int:
    """Start the orchestrator, run the episodes, print the figures."""
    logging.getLogger("arbqos").setLevel(logging.ERROR)  # one breach warning per episode
    with tempfile.TemporaryDirectory(prefix="arbqos-bench-guard-") as tmp:
        workdir = Path(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        argv = [
            sys.executable,
            "-m",
            "arbqos",
            "orchestrator",
            "--config-dir",
            str(ROOT / "config"),
        ]
        argv += ["--port", str(port), "--state-dir", str(workdir / "state")]
        env = {"ARBQOS_PAUSE_TOKEN": PAUSE_TOKEN, "ARBQOS_ADMIN_TOKEN": ADMIN_TOKEN}
        with ManagedProcess("orchestrator", argv, workdir, env=env, cwd=workdir) as proc:
            try:
                wait_for_http(f"{base}/healthz", timeout_s=30)
            except TimeoutError:
                print(proc.tail(), file=sys.stderr)
                raise
            with httpx.Client(base_url=base, timeout=5) as http:
                runs = [episode(base, http) for _ in range(EPISODES)]
    hot = [r[0] * 1e6 for r in runs]
    recorded = [r[1] * 1e3 for r in runs]
    visible = [r[2] * 1e3 for r in runs]
    print(
        f"{EPISODES} breach episodes against the real orchestrator:\n"
        f"  hot path (breaching result() returns): p50 {statistics.median(hot):.0f} µs, "
        f"max {max(hot):.0f} µs\n"
        f"  breach -> pause committed: p50 {statistics.median(recorded):.1f} ms, "
        f"p99 {percentile(recorded, 99):.1f} ms, max {max(recorded):.1f} ms\n"
        f"  breach -> visible in /v1/status: p50 {statistics.median(visible):.1f} ms, "
        f"p99 {percentile(visible, 99):.1f} ms"
    )
    print(
        f"RESULT guard_pause hot_path_p50_us={statistics.median(hot):.0f} "
        f"hot_path_max_us={max(hot):.0f} recorded_p50_ms={statistics.median(recorded):.1f} "
        f"recorded_p99_ms={percentile(recorded, 99):.1f} recorded_max_ms={max(recorded):.1f} "
        f"visible_p50_ms={statistics.median(visible):.1f} "
        f"visible_p99_ms={percentile(visible, 99):.1f} episodes={EPISODES}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
