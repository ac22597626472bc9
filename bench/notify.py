"""Notification cost for the caller and delivery latency, with one channel hanging.

A Notifier has two channels: a loopback sink in a child process (`python -m
arbqos_harness.sink`, real apprise JSON delivery) and a port that accepts connections and never
answers (every send hangs until apprise's 4 s read timeout). N distinct critical notices are
submitted 20 ms apart. `submit_us` is how long `submit()` held the caller; `deliver_ms` is
the sink's receive time minus the submit time (wall clocks of the same machine, ms
resolution). Ends with:

    RESULT notify notices=<n> delivered=<n> submit_us_p50=<x> submit_us_max=<y>
        deliver_ms_p50=<x> deliver_ms_max=<y>

Usage: .venv/bin/python bench/notify.py [--notices 200] [--spacing 0.02]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry

from arbqos.clock import SystemClock, parse_ts
from arbqos.notify import Notice, NoticeKind, Notifier, NotifyMetrics, Routes, parse_channels
from arbqos_harness.process import free_port, wait_for_port


def main() -> int:
    """Run the benchmark and print its RESULT line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=200)
    parser.add_argument("--spacing", type=float, default=0.02)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "notifications.log"
        port = free_port()
        sink = subprocess.Popen(
            [sys.executable, "-m", "arbqos_harness.sink", "--port", str(port), "--log", str(log)],
            stdout=subprocess.DEVNULL,
        )
        black_hole = socket.socket()
        black_hole.bind(("127.0.0.1", 0))
        black_hole.listen(1024)  # accepts in the kernel, never reads, never answers
        try:
            wait_for_port("127.0.0.1", port)
            result = run(args.notices, args.spacing, port, black_hole.getsockname()[1], log)
        finally:
            sink.terminate()
            sink.wait(10)
            black_hole.close()
    print(result)
    return 0


def run(notices: int, spacing: float, port: int, hung_port: int, log: Path) -> str:
    """Submit `notices` notices and measure; return the RESULT line."""
    urls = f"json://127.0.0.1:{port}/ok\njson://127.0.0.1:{hung_port}/hung\n"
    notifier = Notifier(
        parse_channels(urls).channels,
        Routes(),
        metrics=NotifyMetrics(CollectorRegistry()),
        clock=SystemClock(),
        queue_size=notices,
    ).start()
    submitted: dict[str, datetime] = {}
    held_us: list[float] = []
    for n in range(notices):
        notice = Notice(NoticeKind.ALERT_FIRING, f"Bench{n}", summary=f"bench notice {n}")
        submitted[f"CRITICAL firing: bench notice {n}"] = datetime.now(UTC)
        started = time.perf_counter()
        notifier.submit(notice)
        held_us.append((time.perf_counter() - started) * 1e6)
        time.sleep(spacing)
    deadline = time.monotonic() + 30
    lines: list[str] = []
    while time.monotonic() < deadline:
        lines = log.read_text().splitlines() if log.exists() else []
        if len(lines) >= notices:
            break
        time.sleep(0.05)
    notifier.close(timeout_s=0.5)
    latencies = []
    for line in lines:
        record = json.loads(line)
        sent = submitted[record["json"]["title"]]
        latencies.append((parse_ts(record["ts"]) - sent).total_seconds() * 1000)
    return (
        f"RESULT notify notices={notices} delivered={len(latencies)} "
        f"submit_us_p50={statistics.median(held_us):.1f} submit_us_max={max(held_us):.1f} "
        f"deliver_ms_p50={statistics.median(latencies):.1f} "
        f"deliver_ms_max={max(latencies):.1f}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
