"""Benchmark the real `arbqos orchestrator`: webhook-to-committed-pause latency, status throughput.

Starts the service on a free loopback port with a fresh state directory, then:
1. sends GET /v1/status at a paced 200 requests/s in the background and, meanwhile, times
   Alertmanager webhooks that each fire a new alert while running, so every timed answer
   follows a durable SQLite commit of the pause (WAL, synchronous=FULL); after each one the
   alert resolves and an admin resumes, ready for the next;
2. drives GET /v1/status closed-loop at several concurrency levels and keeps the highest
   throughput that had no error.

The load client speaks HTTP/1.1 keep-alive over raw asyncio streams, so it costs far less CPU
than the server it measures (both share this machine's cores).
Ends with: RESULT orchestrator pause_p50_ms=<x> pause_p99_ms=<y> status_rps_max=<z>
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from arbqos_harness.process import ManagedProcess, free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[1]
ADMIN_TOKEN = os.urandom(24).hex()
PAUSE_TOKEN = os.urandom(24).hex()
PAUSES = 300
STATUS_RPS = 200
PACED_CONNECTIONS = 64
CONCURRENCY = (1, 4, 16, 32, 64)
WINDOW_S = 3.0


class Connection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def request(
        self, method: str, path: str, body: bytes = b"", token: str = ""
    ) -> tuple[int, bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\n"
        if token:
            head += f"Authorization: Bearer {token}\r\n"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        payload = await self.reader.readexactly(length)
        return int(status_line.split()[1]), payload

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


def webhook(i: int, status: str = "firing") -> bytes:
    """An alert with a new identity for each `i`, so each firing one adds a pause reason."""
    alert = {
        "status": status,
        "labels": {
            "alertname": "ArbFillRatioLow",
            "venue": "sx",
            "episode": f"bench{i}",
            "severity": "critical",
            "action": "pause",
        },
        "annotations": {"summary": "bench"},
        "startsAt": "2026-11-26T13:56:03.87Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-26T14:00:00Z",
        "generatorURL": "",
        "fingerprint": f"{i:016x}",
    }
    body = {
        "receiver": "orchestrator",
        "status": status,
        "alerts": [alert],
        "groupLabels": {},
        "commonLabels": alert["labels"],
        "commonAnnotations": {},
        "externalURL": "",
        "version": "4",
        "groupKey": f"bench{i}",
        "truncatedAlerts": 0,
    }
    return json.dumps(body).encode()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))]


async def paced_status(port: int, rps: float, stop: asyncio.Event) -> tuple[list[float], int]:
    """GET /v1/status at a fixed rate (open loop, one request in flight per connection)."""
    latencies: list[float] = []
    errors = 0
    interval = 1 / rps
    conns = [await Connection.open(port) for _ in range(PACED_CONNECTIONS)]
    free: asyncio.Queue[Connection] = asyncio.Queue()
    for conn in conns:
        free.put_nowait(conn)
    tasks: set[asyncio.Task[None]] = set()

    async def one(scheduled: float) -> None:
        nonlocal errors
        conn = await free.get()
        try:
            status, _ = await conn.request("GET", "/v1/status")
            if status != 200:
                errors += 1
        except (OSError, asyncio.IncompleteReadError):
            errors += 1
        finally:
            latencies.append(time.perf_counter() - scheduled)
            free.put_nowait(conn)

    start = time.perf_counter()
    n = 0
    while not stop.is_set():
        scheduled = start + n * interval
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        task = asyncio.create_task(one(scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        n += 1
    await asyncio.gather(*tasks)
    for conn in conns:
        await conn.close()
    return latencies, errors


async def pause_latencies(port: int) -> list[float]:
    """Time firing webhooks from running state; each answer follows the committed pause.

    Each cycle: firing (timed, running -> paused), resolved, admin resume, so every timed
    webhook makes the full transition and the state holds one reason at most.
    """
    conn = await Connection.open(port)
    latencies = []
    for i in range(PAUSES):
        started = time.perf_counter()
        status, payload = await conn.request("POST", "/v1/alertmanager", webhook(i), PAUSE_TOKEN)
        latencies.append(time.perf_counter() - started)
        answer = json.loads(payload)
        if status != 200 or answer["results"][0]["action"] != "paused":
            raise SystemExit(f"webhook {i} not applied: HTTP {status} {payload[:200]!r}")
        status, payload = await conn.request(
            "POST", "/v1/alertmanager", webhook(i, "resolved"), PAUSE_TOKEN
        )
        if status != 200 or json.loads(payload)["results"][0]["action"] != "reason_resolved":
            raise SystemExit(f"resolve {i} not applied: HTTP {status} {payload[:200]!r}")
        status, payload = await conn.request("POST", "/v1/resume", b"{}", ADMIN_TOKEN)
        if status != 200 or json.loads(payload)["state"] != "running":
            raise SystemExit(f"resume {i} refused: HTTP {status} {payload[:200]!r}")
    await conn.close()
    return latencies


async def closed_loop(port: int, concurrency: int, seconds: float) -> tuple[float, int, float]:
    """Return (requests/s, errors, p99 seconds) of GET /v1/status with `concurrency` workers."""
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        conn = await Connection.open(port)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                status, _ = await conn.request("GET", "/v1/status")
            except (OSError, asyncio.IncompleteReadError):
                errors += 1
                conn = await Connection.open(port)
                continue
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors += 1
        await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, errors, percentile(latencies, 99)


async def measure(port: int) -> dict[str, Any]:
    """Run every measurement against the service on `port`."""
    stop = asyncio.Event()
    background = asyncio.create_task(paced_status(port, STATUS_RPS, stop))
    await asyncio.sleep(1.0)
    pauses = await pause_latencies(port)
    stop.set()
    status_latencies, status_errors = await background
    levels = {c: await closed_loop(port, c, WINDOW_S) for c in CONCURRENCY}
    conn = await Connection.open(port)
    _, payload = await conn.request("GET", "/v1/journal?kind=transition&limit=1000", b"")
    await conn.close()
    pauses_journaled = sum(
        1 for e in json.loads(payload)["entries"] if e["action"] == "alertmanager"
    )
    if pauses_journaled != PAUSES:
        raise SystemExit(f"expected {PAUSES} committed pauses, journal shows {pauses_journaled}")
    return {
        "pauses": pauses,
        "status_latencies": status_latencies,
        "status_errors": status_errors,
        "levels": levels,
    }


def main() -> int:
    """Start the service, measure, print the figures and the RESULT line."""
    with tempfile.TemporaryDirectory(prefix="arbqos-bench-") as tmp:
        work = Path(tmp)
        port = free_port()
        argv = [
            str(ROOT / ".venv" / "bin" / "arbqos"),
            "orchestrator",
            "--config-dir",
            str(ROOT / "config"),
            "--port",
            str(port),
            "--state-dir",
            str(work / "state"),
        ]
        env = {"ARBQOS_ADMIN_TOKEN": ADMIN_TOKEN, "ARBQOS_PAUSE_TOKEN": PAUSE_TOKEN}
        with ManagedProcess("orchestrator", argv, work / "logs", env=env, cwd=work) as proc:
            try:
                wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout_s=30)
            except TimeoutError:
                print(proc.tail(), file=sys.stderr)
                raise
            figures = asyncio.run(measure(port))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load} at the end")
    pauses_ms = [x * 1000 for x in figures["pauses"]]
    status_ms = [x * 1000 for x in figures["status_latencies"]]
    print(
        f"pause (POST /v1/alertmanager -> committed reason, n={len(pauses_ms)}, "
        f"with status at {STATUS_RPS} rps): p50={statistics.median(pauses_ms):.2f} ms "
        f"p99={percentile(pauses_ms, 99):.2f} ms max={max(pauses_ms):.2f} ms"
    )
    print(
        f"status at {STATUS_RPS} rps (n={len(status_ms)}, errors={figures['status_errors']}): "
        f"p50={statistics.median(status_ms):.2f} ms p99={percentile(status_ms, 99):.2f} ms"
    )
    best = 0.0
    for concurrency, (rps, errors, p99) in figures["levels"].items():
        print(
            f"status closed loop, {concurrency} connections: {rps:.0f} rps, "
            f"errors={errors}, p99={p99 * 1000:.2f} ms"
        )
        if errors == 0:
            best = max(best, rps)
    print(
        f"RESULT orchestrator pause_p50_ms={statistics.median(pauses_ms):.2f} "
        f"pause_p99_ms={percentile(pauses_ms, 99):.2f} status_rps_max={best:.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
