"""The heartbeat in real time against loopback fakes: cadence, log, metrics, reports, --once."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from arbqos.clock import SystemClock, parse_ts
from arbqos.config.manager import ConfigManager
from arbqos.config.schema import ArbqosConfig
from arbqos.eventlog import EventLog
from arbqos.probes.base import ProbeRunner
from arbqos.probes.confirm import ConfirmPolicy
from arbqos.probes.heartbeat import Heartbeat
from arbqos.probes.heartbeat_main import last_logged_tick, run_heartbeat
from arbqos.probes.report import OrchestratorReporter
from arbqos.probes.targets import PROBERS, build_targets
from arbqos.registry.local import RuntimeRegistry
from arbqos.registry.model import ChainHealth
from arbqos.tokens import read_pause_token
from arbqos_harness.process import free_port
from tests.probes.conftest import FakeWorld
from tests.sdk.served import serve_orchestrator
from tests.services.conftest import PAUSE_TOKEN
from tests.support.servers import HangingServer
from tests.support.wait import eventually_async, returns_within

pytestmark = pytest.mark.timeout(60)

TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ALL = ["sx_rollup", "arbitrum", "polygon", "sx_api", "azuro_api", "azuro_subgraph"]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def _heartbeat(
    cfg: ArbqosConfig,
    http: httpx.AsyncClient,
    registry: CollectorRegistry,
    *,
    token: str | None = "pause-token",
    retry_initial_s: float = 1.0,
    policy: ConfirmPolicy | None = None,
    report_timeout_s: float = 0.2,
) -> tuple[Heartbeat, OrchestratorReporter, EventLog]:
    clock = SystemClock()
    log = EventLog(Path(cfg.heartbeat.log_path), clock, config_hash="c0ffee" * 10 + "abcd")
    reporter = OrchestratorReporter(
        http,
        url=cfg.endpoints.orchestrator_url,
        token=token,
        timeout_s=report_timeout_s,
        retry_initial_s=retry_initial_s,
    )
    runner = ProbeRunner(
        registry, probers=PROBERS, http=http, clock=clock, timeout_s=cfg.heartbeat.probe_timeout_s
    )
    heartbeat = Heartbeat(
        build_targets(cfg, http),
        runner=runner,
        clock=clock,
        interval_s=cfg.heartbeat.interval_s,
        config_hash=log.config_hash,
        event_log=log,
        registry=registry,
        runtime=RuntimeRegistry(registry),
        reporter=reporter,
        policy=policy,
    )
    return heartbeat, reporter, log


def _lines(path: Path, event: str = "tick") -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [line for line in lines if line["event"] == event]


async def test_misbehaving_endpoints_never_make_a_tick_late(
    world: FakeWorld, tmp_path: Path, http, registry: CollectorRegistry
) -> None:
    # sx never answers and arbitrum drips an answer over minutes: a tick that waited on
    # either could not end, so six ticks done in the backstop prove the timeout cut them.
    # Lateness figures under load are measured by bench/heartbeat.py.
    interval, timeout = 0.5, 0.25
    world.sx.mode = "hang"
    world.arbitrum.mode = "drip"
    world.arbitrum.drip_interval_s = 5.0
    world.polygon.chain_id = 1  # wrong chain id
    world.venues.mode = "garbage"
    cfg = world.config(tmp_path / "heartbeat.log", interval_s=interval, probe_timeout_s=timeout)
    heartbeat, reporter, log = _heartbeat(cfg, http, registry)
    assert await returns_within(heartbeat.run(max_ticks=6), 30, "six ticks") == 6
    assert world.sx_server.holding >= 1  # sx still holds requests it never answered
    log.close()
    lines = _lines(tmp_path / "heartbeat.log")
    assert [line["tick"] for line in lines] == [1, 2, 3, 4, 5, 6]
    for line in lines:
        assert TS.match(line["ts"]) and TS.match(line["scheduled_ts"])
        assert line["event"] == "tick" and line["config_hash"] == log.config_hash
        assert set(line["targets"]) == set(ALL)
        assert line["ok"] is False
        for name, entry in line["targets"].items():
            assert entry["ok"] is False, name
            assert entry["latency_ms"] <= line["duration_ms"]
            assert entry["detail"]
        assert line["targets"]["sx_rollup"]["rpc_up"] is False
        assert "timeout" in line["targets"]["arbitrum"]["detail"].lower()
    # Each failure names its cause (a starved CI loop may turn a quick one into a timeout).
    details = [line["targets"][name]["detail"] for line in lines for name in ALL]
    assert any(d.startswith("wrong chain id 1 (expected 137)") for d in details)
    assert any(d == "/metadata answer is not a JSON object" for d in details)
    assert any(d == "HTTP 200, answer is not JSON" for d in details)
    scheduled = [parse_ts(line["scheduled_ts"]) for line in lines]
    offsets = [(s - scheduled[0]).total_seconds() for s in scheduled]
    assert offsets == pytest.approx([k * interval for k in range(6)], abs=0.003)  # no drift
    sample = registry.get_sample_value
    assert sample("arb_heartbeat_ticks_total", {"result": "degraded"}) == 6
    assert sample("arb_heartbeat_ticks_total", {"result": "ok"}) == 0
    assert sample("arb_heartbeat_tick_lateness_seconds_count") == 6
    assert sample("arb_heartbeat_last_tick_timestamp_seconds") == pytest.approx(time.time(), abs=5)
    for chain in ("sx_rollup", "arbitrum", "polygon"):
        assert sample("arb_rpc_up", {"chain": chain}) == 0
        assert sample("arb_sequencer_up", {"chain": chain}) == 0
    for name in ALL:
        assert sample("arb_probe_success", {"target": name}) == 0
        assert sample("arb_probe_duration_seconds_count", {"target": name}) == 6
    await reporter.aclose()


async def test_healthy_tick_logs_chain_facts_and_reports(
    world: FakeWorld, tmp_path: Path, http, registry: CollectorRegistry
) -> None:
    # A generous timeout: this test is about what a healthy tick records, not about speed.
    cfg = world.config(tmp_path / "heartbeat.log", probe_timeout_s=0.9)
    heartbeat, reporter, log = _heartbeat(cfg, http, registry)
    outcome = await heartbeat.tick(1)
    assert outcome.ok, {k: r.detail for k, r in outcome.results.items()}
    assert await reporter.flush(2.0)
    log.close()
    (line,) = _lines(tmp_path / "heartbeat.log")
    sx = line["targets"]["sx_rollup"]
    assert sx["rpc_up"] is True and sx["sequencer_status"] == "up" and sx["head_block"] == 1000
    assert line["targets"]["arbitrum"]["feed_answer"] == 0
    assert line["targets"]["azuro_subgraph"]["has_indexing_errors"] is False
    (report,) = world.orchestrator.reports
    assert world.orchestrator.auth == ["Bearer pause-token"]
    assert set(report) == {"ts", "tick", "config_hash", "interval_s", "chains", "targets"}
    assert report["tick"] == 1 and report["interval_s"] == 1.0 and report["ts"] == line["ts"]
    assert set(report["chains"]) == {"sx_rollup", "arbitrum", "polygon"}
    health = ChainHealth.from_json(report["chains"]["arbitrum"])
    assert health.sequencer_up and health.chain == "arbitrum"
    assert report["targets"]["sx_api"] == {
        "ok": True,
        "latency_ms": line["targets"]["sx_api"]["latency_ms"],
        "detail": line["targets"]["sx_api"]["detail"],
        "state": "up",
        "attempt_ok": True,
    }
    assert registry.get_sample_value("arb_chain_head_block", {"chain": "polygon"}) == 81_234_600
    assert registry.get_sample_value("arb_gas_price_gwei", {"chain": "sx_rollup"}) == 0.01
    assert registry.get_sample_value("arb_heartbeat_ticks_total", {"result": "ok"}) == 1


async def test_the_real_orchestrator_accepts_the_reports_the_heartbeat_builds(
    world: FakeWorld, tmp_path: Path, http, registry: CollectorRegistry
) -> None:
    world.arbitrum.mode = "hang"  # a down chain: the report carries a failed probe's health
    cfg = world.config(tmp_path / "heartbeat.log", probe_timeout_s=0.2)
    with serve_orchestrator(tmp_path / "state") as served:
        endpoints = cfg.endpoints.model_copy(update={"orchestrator_url": served.url})
        cfg = cfg.model_copy(update={"endpoints": endpoints})
        heartbeat, reporter, log = _heartbeat(
            cfg, http, registry, token=PAUSE_TOKEN, policy=ConfirmPolicy.single()
        )
        outcome = await heartbeat.tick(1)
        assert await reporter.flush(2.0), reporter.last_error
        log.close()
        status = served.service.status()
        held = await served.service.runtime.snapshot()
    assert reporter.delivered == 1
    assert status["heartbeat"]["last_report"]["tick"] == 1
    assert status["state"] == "paused"  # arbitrum's sequencer reported down
    sent = {name: r.chain.to_json() for name, r in outcome.results.items() if r.chain}
    assert {name: h.to_json() for name, h in held.chains.items()} == sent  # to the millisecond
    assert len(sent) == 3 and sent["arbitrum"]["sequencer_up"] is False


async def test_sx_rollup_stall_is_reported_confirmed_then_recovering_then_up(
    world: FakeWorld, tmp_path: Path, http, registry: CollectorRegistry
) -> None:
    cfg = world.config(
        tmp_path / "heartbeat.log", sx_stall_probes=2, sx_stall_grace_s=1.5, targets=["sx_rollup"]
    )
    policy = ConfirmPolicy.from_config(cfg.heartbeat)
    heartbeat, reporter, log = _heartbeat(cfg, http, registry, retry_initial_s=0.05, policy=policy)
    stop = asyncio.Event()
    task = asyncio.ensure_future(heartbeat.run(stop=stop))

    async def reported(check: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            found = [r["chains"].get("sx_rollup") for r in world.orchestrator.reports[-1:]]
            if found and found[0] is not None and check(found[0]):
                return found[0]
            await asyncio.sleep(0.02)
        raise AssertionError(f"not reported within 10 s: {what}")

    try:
        await reported(lambda h: h["sequencer_status"] == "up", "confirmed up")
        stalled = await reported(lambda h: h["sequencer_status"] == "down", "stall confirmed")
        assert stalled["rpc_up"] is True and stalled["sequencer_up"] is False
        assert "stalled: no new block" in stalled["detail"]
        assert registry.get_sample_value("arb_sequencer_up", {"chain": "sx_rollup"}) == 0
        assert registry.get_sample_value("arb_rpc_up", {"chain": "sx_rollup"}) == 1
        world.sx.head += 1  # blocks again: recovering (still down for trading) for the grace
        recovering = await reported(lambda h: h["sequencer_status"] == "recovering", "grace")
        assert recovering["sequencer_up"] is False and "after a stall" in recovering["detail"]
        world.sx.head += 1
        await reported(lambda h: h["sequencer_status"] == "up", "up after the grace")
    finally:
        stop.set()
        await task
        await reporter.aclose()
        log.close()
    changes = [
        (c["to"], c["changed"].get("sequencer_status", [None, None])[1])
        for c in _lines(tmp_path / "heartbeat.log", "state_change")
    ]
    assert changes[:2] == [("up", "up"), ("down", "down")]
    assert ("up", "recovering") in changes


async def test_orchestrator_down_then_back_gets_the_latest_state(
    world: FakeWorld, tmp_path: Path, http, registry: CollectorRegistry, serve: Callable[..., Any]
) -> None:
    port = free_port()
    cfg = world.config(tmp_path / "heartbeat.log", interval_s=0.2, probe_timeout_s=0.1)
    endpoints = cfg.endpoints.model_copy(update={"orchestrator_url": f"http://127.0.0.1:{port}"})
    cfg = cfg.model_copy(update={"endpoints": endpoints})
    heartbeat, reporter, log = _heartbeat(cfg, http, registry, retry_initial_s=0.05)
    assert await heartbeat.run(max_ticks=4) == 4
    assert reporter.failures >= 1 and reporter.delivered == 0
    lines = _lines(tmp_path / "heartbeat.log")
    assert [line["tick"] for line in lines] == [1, 2, 3, 4]
    serve(world.orchestrator.handle, port=port)  # the orchestrator comes back
    assert await reporter.flush(3.0)
    assert [r["tick"] for r in world.orchestrator.reports] == [4]
    log.close()


async def test_stop_event_ends_the_run_between_ticks(
    world: FakeWorld, tmp_path: Path, http, registry: CollectorRegistry
) -> None:
    # The next tick is an hour away: only a stop that ends the wait lets run() return.
    cfg = world.config(tmp_path / "heartbeat.log", interval_s=3600.0, probe_timeout_s=0.2)
    heartbeat, reporter, log = _heartbeat(cfg, http, registry)
    stop = asyncio.Event()
    task = asyncio.ensure_future(heartbeat.run(stop=stop))
    await eventually_async(lambda: _ticks(registry) == 1, what="the first tick")
    stop.set()
    assert await returns_within(task, 10, "run() after stop") == 1
    await reporter.aclose()
    log.close()


async def test_a_hung_orchestrator_never_holds_up_a_tick(
    world: FakeWorld,
    tmp_path: Path,
    http,
    registry: CollectorRegistry,
    hanging_server: HangingServer,
) -> None:
    # The report may wait 60 s for an answer that never comes; ticks go on meanwhile.
    cfg = world.config(tmp_path / "heartbeat.log", interval_s=0.2, probe_timeout_s=0.1)
    endpoints = cfg.endpoints.model_copy(update={"orchestrator_url": hanging_server.url})
    cfg = cfg.model_copy(update={"endpoints": endpoints})
    heartbeat, reporter, log = _heartbeat(cfg, http, registry, report_timeout_s=60.0)
    assert await returns_within(heartbeat.run(max_ticks=4), 20, "four ticks") == 4
    assert hanging_server.held == 1 and reporter.delivered == 0  # the first report, still held
    assert [line["tick"] for line in _lines(tmp_path / "heartbeat.log")] == [1, 2, 3, 4]
    await reporter.aclose()
    log.close()


def _ticks(registry: CollectorRegistry) -> float:
    results = ("ok", "degraded")
    values = (
        registry.get_sample_value("arb_heartbeat_ticks_total", {"result": r}) for r in results
    )
    return sum(v or 0.0 for v in values)


def _write_config(write_config: Callable[..., Path], cfg: ArbqosConfig) -> Path:
    data = cfg.model_dump(mode="json")
    return write_config({name: data[name] for name in ("endpoints", "heartbeat", "orchestrator")})


def test_once_exit_codes_and_tick_numbering(
    world: FakeWorld,
    tmp_path: Path,
    write_config: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    log_path = tmp_path / "monitoring" / "heartbeat.log"
    config_dir = _write_config(write_config, world.config(log_path))
    env = {"ARBQOS_PAUSE_TOKEN": "pause-token"}

    def once() -> int:
        registry = CollectorRegistry()
        manager = ConfigManager.load(config_dir, env=env, service="heartbeat", registry=registry)
        return run_heartbeat(manager, registry=registry, once=True, env=env)

    assert once() == 0
    world.sx.chain_id = 4161
    assert once() == 1
    lines = _lines(log_path)
    assert [line["tick"] for line in lines] == [1, 2]
    assert [line["ok"] for line in lines] == [True, False]
    assert last_logged_tick(log_path) == 2
    printed = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [p["tick"] for p in printed] == [1, 2]
    assert [r["tick"] for r in world.orchestrator.reports] == [1, 2]
    assert world.orchestrator.reports[1]["chains"]["sx_rollup"]["rpc_up"] is False


def test_pause_token_sources(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    assert read_pause_token({"ARBQOS_PAUSE_TOKEN": "direct"}) == "direct"
    assert read_pause_token({"ARBQOS_PAUSE_TOKEN_FILE": str(token_file)}) == "from-file"
    assert read_pause_token({}) is None
    with pytest.raises(ValueError, match=r"ARBQOS_PAUSE_TOKEN_FILE=.*cannot read the token file"):
        read_pause_token({"ARBQOS_PAUSE_TOKEN_FILE": str(tmp_path / "missing")})


def test_bad_token_file_exits_2(
    world: FakeWorld, tmp_path: Path, write_config: Callable[..., Path]
) -> None:
    config_dir = _write_config(write_config, world.config(tmp_path / "hb.log"))
    registry = CollectorRegistry()
    manager = ConfigManager.load(config_dir, env={}, service="heartbeat", registry=registry)
    env = {"ARBQOS_PAUSE_TOKEN_FILE": str(tmp_path / "nope")}
    assert run_heartbeat(manager, registry=registry, once=True, env=env) == 2


def test_last_logged_tick_reads_rotated_files(tmp_path: Path) -> None:
    log_path = tmp_path / "heartbeat.log"
    assert last_logged_tick(log_path) is None
    rotated = tmp_path / "heartbeat.log.2026-11-25"
    rotated.write_text(
        '{"ts":"2026-11-25T23:59:30.000Z","event":"tick","config_hash":"x","tick":41}\n'
    )
    assert last_logged_tick(log_path) == 41
    log_path.write_text(
        '{"ts":"2026-11-26T00:00:00.000Z","event":"tick","config_hash":"x","tick":42}\n{"trunc'
    )
    assert last_logged_tick(log_path) == 42
