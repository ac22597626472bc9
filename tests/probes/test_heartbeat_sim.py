"""A simulated day of heartbeat ticks in virtual time: random failures and hangs, then the audit."""

from __future__ import annotations

import asyncio
import io
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from arbqos.clock import Clock, parse_ts
from arbqos.eventlog import EventLog
from arbqos.probes.audit import run_audit
from arbqos.probes.base import ProbeResult, ProbeRunner, tick_margin
from arbqos.probes.heartbeat import Heartbeat
from arbqos.probes.schedule import LoopClock, TickSchedule, VirtualTimeLoop, run_virtual
from arbqos.registry.local import RuntimeRegistry
from arbqos.registry.model import ChainHealth

pytestmark = pytest.mark.timeout(60)

INTERVAL_S, TIMEOUT_S = 30.0, 10.0
DAY_TICKS = 2880
NOON = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class SimTarget:
    """A simulated target; chain targets report ChainHealth."""

    name: str
    chain: str | None = None
    kind: str = "sim"


class SimWorld:
    """Draws each probe's fate: fast ok, slow ok, error, slow past the timeout, or a hang."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fates: dict[str, int] = {}

    async def probe(
        self, target: SimTarget, *, http: httpx.AsyncClient, clock: Clock
    ) -> ProbeResult:
        roll = self.rng.random()
        fate = (
            "hang"
            if roll < 0.03
            else "too_slow"
            if roll < 0.06
            else "error"
            if roll < 0.15
            else "ok"
        )
        self.fates[fate] = self.fates.get(fate, 0) + 1
        if fate == "hang":
            await asyncio.Event().wait()
        if fate == "too_slow":
            await asyncio.sleep(self.rng.uniform(TIMEOUT_S, 3 * TIMEOUT_S))
        await asyncio.sleep(self.rng.uniform(0.002, 0.9 * TIMEOUT_S))
        ok = fate == "ok"
        health = None
        if target.chain is not None:
            status = "up" if ok else "down"
            health = ChainHealth(target.chain, ok, ok, status, observed_at=clock.now_utc())
        return ProbeResult(ok, "simulated " + fate, clock.now_utc(), chain=health)


class Recorder:
    """A reporter that keeps reports; can freeze the process after a given tick."""

    def __init__(self, freeze_after: int | None = None, freeze_s: float = 0.0) -> None:
        self.reports: list[Mapping[str, Any]] = []
        self._freeze = (freeze_after, freeze_s)

    def submit(self, report: Mapping[str, Any]) -> None:
        self.reports.append(report)
        if report["tick"] == self._freeze[0]:
            loop = asyncio.get_running_loop()
            assert isinstance(loop, VirtualTimeLoop)
            loop.freeze(self._freeze[1])


TARGETS = [
    SimTarget("sx_rollup", "sx_rollup"),
    SimTarget("arbitrum", "arbitrum"),
    SimTarget("polygon", "polygon"),
    SimTarget("sx_api"),
    SimTarget("azuro_api"),
    SimTarget("azuro_subgraph"),
]


async def _simulate(
    tmp_path: Path, registry: CollectorRegistry, world: SimWorld, recorder: Recorder, ticks: int
) -> int:
    clock = LoopClock(NOON, loop_start=0.0)
    log = EventLog(tmp_path / "heartbeat.log", clock, config_hash="ab" * 32, retention_days=3)
    async with httpx.AsyncClient() as http:
        runner = ProbeRunner(
            registry, probers={"sim": world.probe}, http=http, clock=clock, timeout_s=TIMEOUT_S
        )
        heartbeat = Heartbeat(
            TARGETS,
            runner=runner,
            clock=clock,
            interval_s=INTERVAL_S,
            config_hash=log.config_hash,
            event_log=log,
            registry=registry,
            runtime=RuntimeRegistry(registry),
            reporter=recorder,
        )
        done = await heartbeat.run(max_ticks=ticks)
    log.close()
    return done


def _audit(paths: list[Path], **kwargs: Any) -> tuple[int, list[str], str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_audit(paths, max_gap_s=None, interval_s=INTERVAL_S, out=out, err=err, **kwargs)
    return code, out.getvalue().splitlines(), err.getvalue()


def _records(paths: list[Path], event: str | None = "tick") -> list[dict[str, Any]]:
    lines = [json.loads(line) for path in paths for line in path.read_text().splitlines()]
    return [line for line in lines if event is None or line["event"] == event]


@pytest.mark.deep
def test_a_simulated_day_has_no_gap(tmp_path: Path, registry: CollectorRegistry) -> None:
    world, recorder = SimWorld(seed=20261126), Recorder()
    assert run_virtual(_simulate(tmp_path, registry, world, recorder, DAY_TICKS)) == DAY_TICKS
    rotated = tmp_path / "heartbeat.log.2026-11-26"
    live = tmp_path / "heartbeat.log"
    assert rotated.exists() and live.exists()  # the day crossed UTC midnight
    records = _records([rotated, live])
    assert [r["tick"] for r in records] == list(range(1, DAY_TICKS + 1))
    limit_ms = (TIMEOUT_S + tick_margin(TIMEOUT_S)) * 1000
    schedule = TickSchedule(origin=0.0, interval_s=INTERVAL_S)
    for index, record in enumerate(records):
        assert record["lateness_ms"] == 0.0
        assert record["duration_ms"] <= limit_ms
        offset = (parse_ts(record["scheduled_ts"]) - NOON).total_seconds()
        assert offset == pytest.approx(schedule.due(index), abs=0.001)
    assert world.fates["hang"] > 100 and world.fates["too_slow"] > 100
    timeouts = sum(
        entry["detail"] == "timeout after 10 s" for r in records for entry in r["targets"].values()
    )
    assert timeouts == world.fates["hang"] + world.fates["too_slow"]
    degraded = registry.get_sample_value("arb_heartbeat_ticks_total", {"result": "degraded"})
    ok = registry.get_sample_value("arb_heartbeat_ticks_total", {"result": "ok"})
    assert degraded is not None and ok is not None and degraded + ok == DAY_TICKS
    assert degraded == sum(not r["ok"] for r in records) and ok > 0
    assert len(recorder.reports) == DAY_TICKS
    code, out, err = _audit([live, rotated])  # order of files does not matter
    assert code == 0, (out, err)
    assert out[-1].startswith(f"ticks={DAY_TICKS} gaps=0 duplicates=0 max_gap_s=")
    assert "coverage_pct=100.00" in out[-1] and len(out) == 1
    assert err == ""


def test_audit_finds_a_gap_and_a_duplicate_injected_into_a_log(
    tmp_path: Path, registry: CollectorRegistry
) -> None:
    world = SimWorld(seed=7)
    assert run_virtual(_simulate(tmp_path, registry, world, Recorder(), 120)) == 120
    live = tmp_path / "heartbeat.log"
    everything = live.read_text().splitlines()
    lines = [line for line in everything if json.loads(line)["event"] == "tick"]
    assert len(everything) > len(lines)  # state_change lines too, which the audit ignores
    dropped = set(lines[40:43])  # drop ticks 41-43, repeat tick 100
    kept = [line for line in everything if line not in dropped] + [lines[99]]
    live.write_text("\n".join(kept) + "\n")
    before, after = json.loads(lines[39]), json.loads(lines[43])
    seconds = (parse_ts(after["ts"]) - parse_ts(before["ts"])).total_seconds()
    code, out, _ = _audit([live])
    assert code == 1
    assert out[0] == f"gap {before['ts']} {after['ts']} {seconds:.3f}"
    assert len(out) == 2
    first, last = json.loads(lines[0]), json.loads(lines[-1])
    span = (parse_ts(last["ts"]) - parse_ts(first["ts"])).total_seconds()
    coverage = 100 * 117 / (round(span / INTERVAL_S) + 1)
    assert out[1] == (
        f"ticks=118 gaps=1 duplicates=1 max_gap_s={seconds:.3f} "
        f"coverage_pct={coverage:.2f} span_s={span:.3f}"
    )


def test_a_frozen_process_skips_slots_instead_of_bursting(
    tmp_path: Path, registry: CollectorRegistry
) -> None:
    recorder = Recorder(freeze_after=5, freeze_s=95.0)
    assert run_virtual(_simulate(tmp_path, registry, SimWorld(seed=3), recorder, 8)) == 8
    records = _records([tmp_path / "heartbeat.log"])
    ticks = [r["tick"] for r in records]
    assert ticks == [1, 2, 3, 4, 5, 8, 9, 10]  # slots of ticks 6 and 7 passed while frozen
    late = records[5]
    assert late["skipped_slots"] == 2
    scheduled = (parse_ts(late["scheduled_ts"]) - NOON).total_seconds()
    assert scheduled == pytest.approx(7 * INTERVAL_S)
    assert late["lateness_ms"] == pytest.approx(
        (4 * INTERVAL_S + records[4]["duration_ms"] / 1000 + 95.0 - 7 * INTERVAL_S) * 1000,
        abs=1,
    )
    assert all("skipped_slots" not in r for r in records[6:])
    assert all(r["lateness_ms"] == 0.0 for r in records[6:])
    lateness_sum = registry.get_sample_value("arb_heartbeat_tick_lateness_seconds_sum")
    assert lateness_sum == pytest.approx(late["lateness_ms"] / 1000, abs=0.001)
    code, out, _ = _audit([tmp_path / "heartbeat.log"])
    assert code == 1
    assert out[0].startswith(f"gap {records[4]['ts']} {records[5]['ts']} ")
