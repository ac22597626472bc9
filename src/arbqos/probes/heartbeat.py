"""The heartbeat: every interval, probe all targets at once, confirm their state, log and report.

Each tick starts one round per target (`rounds.py`): the tick's attempt, then retries while the
target's state is unconfirmed. Rounds run beside the schedule and never move it.
"""

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
from arbqos.probes.base import ProbeResult, ProbeRunner, Target
from arbqos.probes.confirm import ConfirmPolicy, TargetState
from arbqos.probes.report import Reporter
from arbqos.probes.rounds import Rounds
from arbqos.probes.schedule import TickSchedule
from arbqos.probes.tracking import StateChange, TargetTrack
from arbqos.registry.model import RuntimeRegistryAPI

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TickOutcome:
    """What one tick did: its number, whether every first attempt was ok, and the log record."""

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
    """Probe every target concurrently on a drift-free schedule; confirm before reporting.

    Tick k is due at `origin + k * interval_s`. Every attempt runs under the runner's hard
    timeout (below the interval), so a tick's attempts end within `timeout + tick_margin` and a
    hung endpoint never delays the next tick. A tick writes one `tick` line (the raw result of
    each target's attempt plus its confirmed state), a retry one `retry` line, and a confirmed
    change one `state_change` line (reported at once when a retry confirmed it, else with the
    tick). The metrics of each attempt are raw (`arb_probe_success`); the RuntimeRegistry
    (`arb_rpc_up`, `arb_sequencer_up`) and the reports carry the confirmed state. With
    `policy=None` each attempt decides alone (no retries, as `--once` needs). `clock` must tell
    the loop's time (see `ProbeRunner`).

    >>> heartbeat = Heartbeat(targets, runner=runner, clock=clock, interval_s=30,
    ...                       config_hash=manager.hash, event_log=log, registry=registry,
    ...                       policy=ConfirmPolicy.from_config(cfg.heartbeat))
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
        policy: ConfirmPolicy | None = None,
    ) -> None:
        if runner.timeout_s >= interval_s:
            raise ValueError(
                f"probe timeout {runner.timeout_s:g} s must be below the interval {interval_s:g} s "
                "(heartbeat.probe_timeout_s < heartbeat.interval_s)"
            )
        self.runner = runner
        self.interval_s = interval_s
        self.config_hash = config_hash
        self.first_tick = first_tick
        self.policy = policy or ConfirmPolicy.single()
        self._clock = clock
        self._log = event_log
        self._runtime = runtime
        self.reporter = reporter
        self.registry = registry
        self._metrics = _TickMetrics(registry) if registry is not None else None
        self._tracks: dict[str, TargetTrack] = {}
        self._rounds = Rounds(runner, clock, sink=self._observe, needs_retry=self._unsettled)
        self.targets: list[Target] = []
        self._set_targets(targets)
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
        policy: ConfirmPolicy | None = None,
    ) -> None:
        """Swap in targets, timings and policy of a reloaded config; kept targets keep their state.

        Takes effect at the next `run()`.
        """
        if timeout_s >= interval_s:
            raise ValueError(
                f"probe timeout {timeout_s:g} s must be below the interval {interval_s:g} s"
            )
        self.runner.timeout_s = timeout_s
        self._set_targets(targets)
        self.interval_s = interval_s
        self.config_hash = config_hash
        self.reporter = reporter
        if policy is not None:
            self.policy = policy

    def state(self, name: str) -> TargetState:
        """The confirmed state of target `name`."""
        return self._tracks[name].health.state

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
        skipped (never run in a burst) and counted in the log line as `skipped_slots`. The
        retries of the last tick run until its next slot would have been due.
        """
        start = self._clock.monotonic() if origin is None else origin
        schedule = TickSchedule(origin=start, interval_s=self.interval_s)
        next_index = 0
        done = 0
        try:
            while max_ticks is None or done < max_ticks:
                await self._wait_until(schedule.due(next_index), stop)
                if stop is not None and stop.is_set():
                    break
                slot = schedule.slot_at(now=self._clock.monotonic(), next_index=next_index)
                number = self.first_tick + slot.index
                try:
                    await self.tick(
                        number,
                        due=slot.due,
                        skipped=slot.skipped,
                        next_due=schedule.due(slot.index + 1),
                    )
                except Exception:  # the loop boundary: one broken tick must not stop the heartbeat
                    logger.exception("heartbeat tick %d failed", number)
                next_index = slot.index + 1
                done += 1
            if stop is None:
                await self._rounds.settle()
        finally:
            await self._rounds.stop()
        return done

    async def tick(
        self,
        number: int,
        *,
        due: float | None = None,
        skipped: int = 0,
        next_due: float | None = None,
    ) -> TickOutcome:
        """Run one tick now: one attempt per target, then log, export and report.

        With `next_due`, unconfirmed targets are retried until then in the background.
        """
        start = self._clock.monotonic()
        started_at = self._clock.now_utc()
        due = start if due is None else due
        lateness = start - due
        firsts = await self._rounds.start(
            self.targets, tick=number, due=due, next_due=next_due, policy=self.policy
        )
        duration = self._clock.monotonic() - start
        results = {name: first.result for name, first in firsts.items()}
        ok = all(r.ok for r in results.values())
        down = TargetState.DOWN
        self.last_tick, self.last_due = number, due
        fields: dict[str, Any] = {
            "tick": number,
            "scheduled_ts": format_ts(started_at - timedelta(seconds=lateness)),
            "lateness_ms": round(lateness * 1000, 3),
            "duration_ms": round(duration * 1000, 3),
            "ok": ok,
            "down": sorted(n for n, t in self._tracks.items() if t.health.state is down),
        }
        if skipped:
            fields["skipped_slots"] = skipped
        fields["targets"] = {name: first.fields for name, first in firsts.items()}
        record = self._write("tick", fields)
        if self._metrics is not None:
            self._metrics.lateness.observe(max(lateness, 0.0))
            self._metrics.ticks.labels("ok" if ok else "degraded").inc()
            self._metrics.last_tick.set(self._clock.now_utc().timestamp())
        if self.reporter is not None:
            self.reporter.submit(self._report(number, record.get("ts")))
        if skipped:
            logger.warning(
                "heartbeat tick %d started %.3f s late; %d slot(s) skipped",
                number,
                lateness + skipped * self.interval_s,
                skipped,
                extra={"tick": number, "skipped_slots": skipped},
            )
        return TickOutcome(number, ok, results, lateness, duration, record)

    async def _observe(
        self, target: Target, result: ProbeResult, tick: int, attempt: int
    ) -> dict[str, Any]:
        """Count an attempt; export it, log a retry and any confirmed change; return the fields."""
        track = self._tracks[target.name]
        change = track.observe(result, self.policy)
        health = track.confirmed_chain()
        if self._runtime is not None and health is not None:
            await self._runtime.set_chain_health(health)
        fields = track.log_fields()
        if attempt > 1:
            self._write(
                "retry", {"tick": tick, "attempt": attempt, "target": target.name, **fields}
            )
        if change is not None:
            self._announce(change, track, tick, attempt)
        return fields

    def _unsettled(self, name: str) -> bool:
        return self._tracks[name].needs_retry

    def _announce(self, change: StateChange, track: TargetTrack, number: int, attempt: int) -> None:
        """Log a confirmed change; one confirmed by a retry is reported at once.

        A change confirmed by the tick's own attempt goes out with the tick's report, which
        follows within the probe timeout.
        """
        detail = track.latest.detail if track.latest is not None else ""
        where = {"tick": number, "attempt": attempt}
        self._write("state_change", {**where, **change.fields(), "detail": detail})
        level = logging.WARNING if track.confirmed() is False else logging.INFO
        logger.log(
            level,
            "target %s confirmed %s after %d attempt(s) in a row: %s",
            change.target,
            change.after["state"],
            track.health.in_row,
            detail,
            extra={"target": change.target, "tick": number, "attempt": attempt},
        )
        if self.reporter is not None and attempt > 1:
            self.reporter.submit(self._report(number, None))

    def _set_targets(self, targets: Sequence[Target]) -> None:
        names = [t.name for t in targets]
        if len(set(names)) != len(names):
            raise ValueError(f"target names must be unique, got {names}")
        self.runner.prepare(list(targets))
        self.targets = list(targets)
        self._tracks = {n: self._tracks.get(n) or TargetTrack(n) for n in names}

    def _write(self, event: str, fields: dict[str, Any]) -> dict[str, Any]:
        if self._log is None:
            return {"event": event, "config_hash": self.config_hash, **fields}
        try:
            return self._log.write(event, fields)
        except OSError:  # a full disk must not stop probing, metrics or reports
            logger.exception("cannot write the heartbeat log %s", self._log.path)
            return {"event": event, "config_hash": self.config_hash, **fields}

    def _report(self, number: int, ts: str | None) -> dict[str, Any]:
        """The orchestrator's view: confirmed chain health and target states, right now."""
        tracks = [t for t in self._tracks.values() if t.latest is not None]
        chains = {t.name: t.confirmed_chain() for t in tracks}
        return {
            "ts": ts or format_ts(self._clock.now_utc()),
            "tick": number,
            "config_hash": self.config_hash,
            "interval_s": self.interval_s,
            "chains": {name: h.to_json() for name, h in chains.items() if h is not None},
            "targets": {t.name: t.report_entry() for t in tracks},
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
