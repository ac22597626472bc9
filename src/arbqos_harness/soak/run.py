"""`arbqos soak`: the demo stack under healthy traffic for hours, sampled, then a verdict.

Nothing is injected. Every `sample_s` the RSS and CPU of every process of the stack are read
from /proc by PID (`samples.csv`), the orchestrator's state is polled and a crash ends the
run; at the end of every latency window the venue request and accept-time p95 come from the
run's Prometheus (`latency.csv`). At the end the heartbeat log is copied and audited
(`arbqos.probes.audit`), pauses are read from the orchestrator's journal, and the verdict,
`summary.json`, `soak.png` and the `RESULT soak ...` line are written.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from arbqos.clock import format_ts, parse_ts
from arbqos.config import LoadedConfig
from arbqos.log import configure_logging
from arbqos.probes.audit import audit_files
from arbqos.wire import JournalEntryOut
from arbqos_harness.demo.breach import log_files
from arbqos_harness.demo.runconfig import DemoTuning
from arbqos_harness.demo.session import stop_on_signals
from arbqos_harness.demo.stack import DemoStack, StackError, StackOptions
from arbqos_harness.soak.latency import LatencyPoint, drifts, window_points
from arbqos_harness.soak.plan import SoakPlan
from arbqos_harness.soak.procstat import ProcessSampler, ProcSample
from arbqos_harness.soak.report import PauseEvent, SoakReport

EXIT_OK, EXIT_FAILURE = 0, 1
QUERY_DELAY_S = 3.0
"""Wait this long after a window ends before asking Prometheus about it (last scrapes)."""


def run_soak(
    loaded: LoadedConfig,
    plan: SoakPlan,
    out_dir: Path,
    *,
    stream: TextIO | None = None,
    env: Mapping[str, str] | None = None,
    runs_dir: Path | None = None,
) -> int:
    """Start the stack, soak it for `plan.duration_s`, stop it, write the report; 0 on PASS."""
    out = stream or sys.stdout
    out_dir.mkdir(parents=True, exist_ok=True)
    options = StackOptions(
        tuning=_tuning(plan.heartbeat_interval_s),
        engine_rate=plan.rate,
        prefix="soak",
        runs_dir=runs_dir or StackOptions().runs_dir,
    )
    out.write(plan.describe() + "\n")
    stop = threading.Event()
    with stop_on_signals(stop) as received:
        stack = DemoStack(loaded.config, options, out=out, env=os.environ if env is None else env)
        with (stack.run.logs_dir / "soak.log").open("a", encoding="utf-8") as log:
            configure_logging(stream=log)
            try:
                stack.start(cancel=stop)
            except (StackError, RuntimeError, OSError, TimeoutError, ValueError) as err:
                out.write(f"arbqos soak: the stack did not start: {err}\n")
                return EXIT_FAILURE
            recorder = Recorder(stack, plan, out_dir, out)
            try:
                recorder.run(stop)
            finally:
                out.write("stopping every process of the stack...\n")
                out.flush()
                leftovers = stack.stop()
                if leftovers:
                    out.write(f"killed PIDs {leftovers} that did not stop when asked\n")
        if received:
            recorder.stopped_early = f"stopped by {received[0]}"
    report = recorder.finish()
    for line in report.lines():
        out.write(line + "\n")
    out.write(f"wrote {out_dir} (samples, latency, heartbeat log and audit, summary, plot)\n")
    out.write(f"run directory: {stack.run.root}\n")
    out.write(report.result_line() + "\n")
    out.flush()
    return EXIT_OK if report.ok else EXIT_FAILURE


class Recorder:
    """Samples the running stack on a schedule and keeps what the verdict needs."""

    def __init__(self, stack: DemoStack, plan: SoakPlan, out_dir: Path, out: TextIO) -> None:
        self.stack = stack
        self.plan = plan
        self.out_dir = out_dir
        self.out = out
        self.sampler = ProcessSampler(plan.window_s, plan.warmup_s)
        self.points: list[LatencyPoint] = []
        self.paused_polls: list[str] = []
        self.crashed: list[str] = []
        self.stopped_early: str | None = None
        self.started_wall = time.time()
        self.elapsed_s = 0.0
        self.journal: list[JournalEntryOut] = []
        self.journal_error: str | None = None

    def run(self, stop: threading.Event) -> None:
        """Sample until the duration is over, `stop` is set or a process crashes."""
        plan = self.plan
        started = time.monotonic()
        self.started_wall = time.time()
        next_sample = 0.0
        window = 0
        with (self.out_dir / "samples.csv").open("w", newline="", encoding="utf-8") as handle:
            samples = csv.writer(handle)
            samples.writerow(["ts", "elapsed_s", "process", "pid", "rss_mb", "cpu_pct"])
            while True:
                self.elapsed_s = time.monotonic() - started
                if self.elapsed_s >= plan.duration_s:
                    break
                if stop.is_set():
                    self.stopped_early = self.stopped_early or "stopped"
                    break
                if self.elapsed_s >= next_sample:
                    next_sample += plan.sample_s
                    self._write(samples, self.sampler.sample(self._pids(), self.elapsed_s))
                    handle.flush()
                    if self._check():
                        break
                window_end = plan.warmup_s + (window + 1) * plan.window_s
                if window_end <= plan.duration_s and self.elapsed_s >= window_end + QUERY_DELAY_S:
                    self._latency(window + 1, self.started_wall + window_end)
                    window += 1
                wake = min(next_sample, window_end + QUERY_DELAY_S, plan.duration_s)
                stop.wait(max(0.05, wake - (time.monotonic() - started)))
            self.elapsed_s = min(time.monotonic() - started, plan.duration_s)
            self._write(samples, self.sampler.sample(self._pids(), self.elapsed_s))
        self.sampler.finish(self.elapsed_s)
        while self.stopped_early is None and window < plan.windows_after_warmup:
            window_end = plan.warmup_s + (window + 1) * plan.window_s  # ended with the soak
            if stop.wait(max(0.0, started + window_end + QUERY_DELAY_S - time.monotonic())):
                break
            self._latency(window + 1, self.started_wall + window_end)
            window += 1
        try:
            self.journal = self.stack.journal(limit=1000, kind="transition")
        except Exception as err:  # judged in _pauses
            self.journal_error = f"{type(err).__name__}: {err}"

    def _pids(self) -> dict[str, int]:
        stack = self.stack
        pids = {name: stack.children.get(name).pid for name in stack.children.names}
        pids.update({f"anvil-{chain}": pid for chain, pid in _anvil_pids(stack).items()})
        pids["soak-runner"] = os.getpid()
        return pids

    def _write(self, writer: Any, rows: list[ProcSample]) -> None:
        now = format_ts(self.stack.clock.now_utc())
        for row in rows:
            cpu = "" if row.cpu_pct is None else f"{row.cpu_pct:.2f}"
            writer.writerow(
                [now, f"{row.elapsed_s:.1f}", row.name, row.pid, f"{row.rss_mb:.2f}", cpu]
            )

    def _check(self) -> bool:
        """Note crashes and paused polls; True when the soak must end now."""
        crashes = self.stack.crashed()
        if crashes:
            self.crashed = [c.name for c in crashes]
            for crash in crashes:
                self.out.write(crash.report() + "\n")
            self.stopped_early = "a process of the stack exited"
            return True
        try:
            state: str = self.stack.status().state
        except Exception as err:  # the orchestrator is judged by its journal at the end
            state = f"unreachable ({type(err).__name__})"
        if state != "running":
            self.paused_polls.append(f"{format_ts(self.stack.clock.now_utc())} {state}")
        return False

    def _latency(self, number: int, window_end: float) -> None:
        try:
            points = window_points(self._query, window_end, self.plan.window_s)
        except (OSError, RuntimeError, ValueError, KeyError) as err:
            self.out.write(f"window {number}: Prometheus did not answer ({err}); skipped\n")
            return
        self.points += points
        accept = ", ".join(
            f"{p.series.split()[1]} {1000 * p.p95_s:.0f} ms"
            for p in points
            if p.series.startswith("accept") and p.p95_s is not None
        )
        growth = self.sampler.growth_pct()
        worst = max(growth.items(), key=lambda kv: kv[1], default=("-", 0.0))
        self.out.write(
            f"[{self.elapsed_s:7.0f} s] window {number}/{self.plan.windows_after_warmup}: "
            f"accept p95 {accept or '-'}; RSS growth max {worst[1]:+.1f} % ({worst[0]}); "
            f"non-running polls {len(self.paused_polls)}\n"
        )
        self.out.flush()

    def _query(self, expr: str, at: float) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.stack.prom.get("/api/v1/query", query=expr, time=at)[
            "result"
        ]
        return result

    def finish(self) -> SoakReport:
        """Write latency.csv, the heartbeat log and audit, summary.json and the plot."""
        with (self.out_dir / "latency.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["window_end", "elapsed_s", "series", "p95_ms", "count"])
            for p in self.points:
                p95 = "" if p.p95_s is None else f"{1000 * p.p95_s:.2f}"
                elapsed = f"{p.window_end - self.started_wall:.0f}"
                writer.writerow([_ts(p.window_end), elapsed, p.series, p95, f"{p.count:.0f}"])
        ticks, gaps, max_gap = self._heartbeat()
        report = SoakReport(
            plan=self.plan,
            elapsed_s=self.elapsed_s,
            pauses=self._pauses(),
            heartbeat_ticks=ticks,
            heartbeat_gaps=gaps,
            heartbeat_max_gap_s=max_gap,
            rss_growth_pct=self.sampler.growth_pct(),
            drifts=drifts(self.points),
            crashed=self.crashed,
            stopped_early=self.stopped_early,
        ).judge()
        body = report.to_json()
        body["run_directory"] = str(self.stack.run.root)
        body["non_running_polls"] = self.paused_polls[:100]
        body["rss_windows_mb"] = self.sampler.windows
        (self.out_dir / "summary.json").write_text(json.dumps(body, indent=2), encoding="utf-8")
        try:
            from arbqos_harness.soak.plot import plot_soak

            plot_soak(self.out_dir, report)
        except Exception as err:  # the verdict stands without a picture
            self.out.write(f"no soak.png: {type(err).__name__}: {err}\n")
        return report

    def _heartbeat(self) -> tuple[int, int, float]:
        """Copy the heartbeat log (rotated files first), audit it; (ticks, gaps, max gap)."""
        config = self.stack.config.heartbeat
        live = Path(config.log_path)
        files = log_files(live)
        copied = self.out_dir / "heartbeat.log"
        with copied.open("w", encoding="utf-8") as target:
            for path in files:
                target.write(path.read_text(encoding="utf-8", errors="replace"))
        interval = config.interval_s
        result = audit_files([copied], limit_s=1.5 * interval, interval_s=interval)
        lines = [f"$ arbqos heartbeat-audit heartbeat.log  (interval {interval:g} s)"]
        lines += [*result.lines(), f"malformed lines: {len(result.malformed)}"]
        (self.out_dir / "heartbeat_audit.txt").write_text("\n".join(lines) + "\n", "utf-8")
        return result.ticks, len(result.gaps), result.max_gap_s

    def _pauses(self) -> list[PauseEvent]:
        """running -> paused transitions the orchestrator journaled since the soak started."""
        if self.journal_error is not None:  # fail closed: unreadable is not "no pause"
            return [PauseEvent("?", [f"journal unreadable: {self.journal_error}"])]
        found = []
        for entry in reversed(self.journal):
            try:
                at = parse_ts(entry.ts).timestamp()
            except ValueError:
                continue
            if at >= self.started_wall and entry.state_after == "paused":
                found.append(PauseEvent(entry.ts, list(entry.data.get("reasons", []))))
        if not found and self.paused_polls:  # not journaled, but not running either
            ts, _, state = self.paused_polls[0].partition(" ")
            found.append(PauseEvent(ts, [f"state {state} when polled"]))
        return found


def _tuning(interval_s: float) -> DemoTuning:
    """Demo timings at the soak's heartbeat interval, retries scaled to fit in it."""
    base = DemoTuning()
    timeout_s = min(base.probe_timeout_s, interval_s / 3)
    retries = 2  # failure_threshold - 1 at the default threshold of 3
    retry_s = min(base.retry_interval_s, (interval_s - timeout_s) / retries)
    return replace(
        base, heartbeat_interval_s=interval_s, probe_timeout_s=timeout_s, retry_interval_s=retry_s
    )


def _anvil_pids(stack: DemoStack) -> dict[str, int]:
    chains = stack.chains
    if chains is None:
        return {}
    found = {}
    for chain in chains.chains:
        try:
            found[chain] = chains.pid(chain)
        except RuntimeError:
            continue
    return found


def _ts(unix: float) -> str:
    return format_ts(datetime.fromtimestamp(unix, UTC))
