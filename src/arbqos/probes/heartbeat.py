"""The heartbeat: every interval, probe all targets at once and log, export and report the tick."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from prometheus_client import CollectorRegistry

from arbqos.clock import Clock, format_ts
from arbqos.eventlog import EventLog
from arbqos.metrics.definitions import HEARTBEAT_RESULTS, TICK_LATENESS_BUCKETS_S
from arbqos.metrics.registry import counter, gauge, histogram
from arbqos.probes.base import ProbeResult, ProbeRunner, Target, failed_result
from arbqos.probes.report import Reporter
from arbqos.probes.schedule import TickSchedule
from arbqos.registry.model import RuntimeRegistryAPI

logger = logging.getLogger(__name__)


def tick_margin(timeout_s: float) -> float:
    """Slack after the probe timeout before a tick abandons a probe that ignores cancellation."""
    return min(max(0.2 * timeout_s, 0.01), 1.0)


@dataclass(frozen=True)
class TickOutcome:
    """What one tick did: its number, whether every target was ok, and the log record."""

    tick: int
    ok: bool
    results: dict[str, ProbeResult]
    lateness_s: float
    duration_s: float
    record: dict[str, Any]


class _TickMetrics:
    """The heartbeat's own series: last tick time, lateness, ticks by result."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.last_tick = gauge(registry, "arb_heartbeat_last_tick_timestamp_seconds")
        self.lateness = histogram(
            registry, "arb_heartbeat_tick_lateness_seconds", TICK_LATENESS_BUCKETS_S
        )
        self.ticks = counter(registry, "arb_heartbeat_ticks_total")
        for result in HEARTBEAT_RESULTS:
            self.ticks.labels(result)


class Heartbeat:
    """Probe every target concurrently on a drift-free schedule; one log line per tick.

    Tick k is due at `origin + k * interval_s`. Every probe runs under the runner's hard
    timeout (below the interval), so a tick ends within `timeout + tick_margin(timeout)` and a
    hung endpoint never delays the next one. Each tick writes one `tick` line to the event log,
    updates the metrics and the RuntimeRegistry, and hands a report to the reporter, which
    sends it in the background. `clock` must tell the loop's time (see `ProbeRunner`).

    >>> heartbeat = Heartbeat(targets, runner=runner, clock=clock, interval_s=30,
    ...                       config_hash=manager.hash, event_log=log, registry=registry)
    >>> await heartbeat.run(stop=stop_event)
    """

    def __init__(
        self,
        targets: Sequence[Target],
        *,
        runner: ProbeRunner,
        clock: Clock,
        interval_s: float,
        config_hash: str,
        event_log: EventLog | None = None,
        registry: CollectorRegistry | None = None,
        runtime: RuntimeRegistryAPI | None = None,
        reporter: Reporter | None = None,
        first_tick: int = 1,
    ) -> None:
        if runner.timeout_s >= interval_s:
            raise ValueError(
                f"probe timeout {runner.timeout_s:g} s must be below the interval {interval_s:g} s "
                "(heartbeat.probe_timeout_s < heartbeat.interval_s)"
            )
        names = [t.name for t in targets]
        if len(set(names)) != len(names):
            raise ValueError(f"target names must be unique, got {names}")
        runner.prepare(list(targets))
        self.targets = list(targets)
        self.runner = runner
        self.interval_s = interval_s
        self.config_hash = config_hash
        self.first_tick = first_tick
        self._clock = clock
        self._log = event_log
        self._runtime = runtime
        self.reporter = reporter
        self.registry = registry
        self._metrics = _TickMetrics(registry) if registry is not None else None
        self._orphans: set[asyncio.Task[ProbeResult]] = set()
        self.last_tick: int | None = None
        self.last_due: float | None = None

    def reconfigure(
        self,
        targets: Sequence[Target],
        *,
        interval_s: float,
        timeout_s: float,
        config_hash: str,
        reporter: Reporter | None,
    ) -> None:
        """Swap in targets and timings of a reloaded config; takes effect at the next `run()`."""
        if timeout_s >= interval_s:
            raise ValueError(
                f"probe timeout {timeout_s:g} s must be below the interval {interval_s:g} s"
            )
        self.runner.timeout_s = timeout_s
        self.runner.prepare(list(targets))
        self.targets = list(targets)
        self.interval_s = interval_s
        self.config_hash = config_hash
        self.reporter = reporter

    async def run(
        self,
        *,
        stop: asyncio.Event | None = None,
        max_ticks: int | None = None,
        origin: float | None = None,
    ) -> int:
        """Tick until `stop` is set or `max_ticks` ran; return the number of ticks run.

        The first tick is due at `origin` (monotonic; default now). A tick that starts more than
        a whole interval late takes the latest slot already due; the slots in between are
        skipped (never run in a burst) and counted in the log line as `skipped_slots`.
        """
        start = self._clock.monotonic() if origin is None else origin
        schedule = TickSchedule(origin=start, interval_s=self.interval_s)
        next_index = 0
        done = 0
        while max_ticks is None or done < max_ticks:
            await self._wait_until(schedule.due(next_index), stop)
            if stop is not None and stop.is_set():
                break
            slot = schedule.slot_at(now=self._clock.monotonic(), next_index=next_index)
            try:
                await self.tick(self.first_tick + slot.index, due=slot.due, skipped=slot.skipped)
            except Exception:  # the loop boundary: one broken tick must not stop the heartbeat
                logger.exception("heartbeat tick %d failed", self.first_tick + slot.index)
            next_index = slot.index + 1
            done += 1
        return done

    async def tick(self, number: int, *, due: float | None = None, skipped: int = 0) -> TickOutcome:
        """Run one tick now: probe all targets, then log, export and report."""
        start = self._clock.monotonic()
        started_at = self._clock.now_utc()
        due = start if due is None else due
        lateness = start - due
        results = await self._probe_all()
        duration = self._clock.monotonic() - start
        ok = all(r.ok for r in results.values())
        self.last_tick, self.last_due = number, due
        for result in results.values():
            if self._runtime is not None and result.chain is not None:
                await self._runtime.set_chain_health(result.chain)
        fields: dict[str, Any] = {
            "tick": number,
            "scheduled_ts": format_ts(started_at - timedelta(seconds=lateness)),
            "lateness_ms": round(lateness * 1000, 3),
            "duration_ms": round(duration * 1000, 3),
            "ok": ok,
        }
        if skipped:
            fields["skipped_slots"] = skipped
        fields["targets"] = {name: r.log_fields() for name, r in results.items()}
        record = self._write(fields)
        if self._metrics is not None:
            self._metrics.lateness.observe(max(lateness, 0.0))
            self._metrics.ticks.labels("ok" if ok else "degraded").inc()
            self._metrics.last_tick.set(self._clock.now_utc().timestamp())
        if self.reporter is not None:
            self.reporter.submit(self._report(number, results, record))
        if skipped:
            logger.warning(
                "heartbeat tick %d started %.3f s late; %d slot(s) skipped",
                number,
                lateness + skipped * self.interval_s,
                skipped,
                extra={"tick": number, "skipped_slots": skipped},
            )
        return TickOutcome(number, ok, results, lateness, duration, record)

    async def _probe_all(self) -> dict[str, ProbeResult]:
        """Probe every target concurrently; abandon any still running past timeout + margin."""
        tasks = {t.name: asyncio.ensure_future(self.runner.run(t)) for t in self.targets}
        margin = tick_margin(self.runner.timeout_s)
        limit = self.runner.timeout_s + margin
        _, pending = await asyncio.wait(tasks.values(), timeout=self.runner.timeout_s + margin / 2)
        if pending:
            # On a starved loop the probes' own timeouts may have fired in the same loop pass
            # as this wait; give their cancellation a few passes to turn into results.
            await asyncio.wait(pending, timeout=margin / 2)
        results: dict[str, ProbeResult] = {}
        for target in self.targets:
            task = tasks[target.name]
            if task.done() and not task.cancelled():
                results[target.name] = task.result()
                continue
            task.cancel()
            self._orphans.add(task)
            task.add_done_callback(self._orphans.discard)
            detail = f"abandoned: still running {limit:g} s after the tick started"
            results[target.name] = failed_result(target, detail, self._clock.now_utc())
        return results

    def _write(self, fields: dict[str, Any]) -> dict[str, Any]:
        if self._log is None:
            return {"event": "tick", "config_hash": self.config_hash, **fields}
        try:
            return self._log.write("tick", fields)
        except OSError:  # a full disk must not stop probing, metrics or reports
            logger.exception("cannot write the heartbeat log %s", self._log.path)
            return {"event": "tick", "config_hash": self.config_hash, **fields}

    def _report(
        self, number: int, results: dict[str, ProbeResult], record: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "ts": record.get("ts") or format_ts(self._clock.now_utc()),
            "tick": number,
            "config_hash": self.config_hash,
            "interval_s": self.interval_s,
            "chains": {
                name: r.chain.to_json() for name, r in results.items() if r.chain is not None
            },
            "targets": {name: r.summary() for name, r in results.items()},
        }

    async def _wait_until(self, due: float, stop: asyncio.Event | None) -> None:
        """Sleep until `due` (monotonic) or until `stop` is set."""
        delay = due - self._clock.monotonic()
        if delay <= 0:
            return
        if stop is None:
            await self._clock.sleep(delay)
            return
        sleeper = asyncio.ensure_future(self._clock.sleep(delay))
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            stopper.cancel()
