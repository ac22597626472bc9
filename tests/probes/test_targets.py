"""Each heartbeat target against loopback fakes: healthy answers, lies, stalls, dead endpoints."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry

from arbqos.chain.rpc import READ_ONLY_METHODS
from arbqos.clock import SystemClock
from arbqos.config.schema import ArbqosConfig
from arbqos.probes.base import ProbeResult, ProbeRunner, Target
from arbqos.probes.targets import PROBERS, SxRollupTarget, build_targets
from arbqos_harness.process import free_port
from tests.probes.conftest import FakeWorld
from tests.support.wait import returns_within

pytestmark = pytest.mark.timeout(30)

TIMEOUT_S = 0.3
"""The deadline of the misbehaving-endpoint cases."""
ANSWER_TIMEOUT_S = 0.9
"""The deadline when the fake answers: ample on a loaded machine, never the subject."""


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def _targets(cfg: ArbqosConfig, http: httpx.AsyncClient) -> dict[str, Target]:
    return {t.name: t for t in build_targets(cfg, http)}


async def _probe(
    world: FakeWorld,
    tmp_path: Path,
    http: httpx.AsyncClient,
    name: str,
    timeout_s: float = ANSWER_TIMEOUT_S,
    **heartbeat: object,
) -> ProbeResult:
    cfg = world.config(tmp_path / "hb.log", probe_timeout_s=timeout_s, **heartbeat)
    runner = ProbeRunner(
        CollectorRegistry(), probers=PROBERS, http=http, clock=SystemClock(), timeout_s=timeout_s
    )
    return await runner.run(_targets(cfg, http)[name])


async def test_healthy_world_every_target_ok(world: FakeWorld, tmp_path: Path, http) -> None:
    cfg = world.config(tmp_path / "hb.log")
    registry = CollectorRegistry()
    runner = ProbeRunner(registry, probers=PROBERS, http=http, clock=SystemClock(), timeout_s=1)
    targets = build_targets(cfg, http)
    assert [t.name for t in targets] == [
        "sx_rollup",
        "arbitrum",
        "polygon",
        "sx_api",
        "azuro_api",
        "azuro_subgraph",
    ]
    runner.prepare(targets)
    for target in targets:
        result = await runner.run(target)
        assert result.ok, (target.name, result.detail)
        assert result.latency_seconds > 0
        assert registry.get_sample_value("arb_probe_success", {"target": target.name}) == 1
        count = registry.get_sample_value(
            "arb_probe_duration_seconds_count", {"target": target.name}
        )
        assert count == 1


async def test_sx_rollup_reads_head_age_and_gas(world: FakeWorld, tmp_path: Path, http) -> None:
    world.sx.head_age_s = 7200  # two hours without a block: SX makes no empty blocks
    result = await _probe(world, tmp_path, http, "sx_rollup")
    assert result.ok, result.detail
    assert result.chain is not None
    assert result.chain.rpc_up and result.chain.sequencer_up
    assert result.chain.sequencer_status == "up"
    assert result.chain.head_block == 1000
    assert result.chain.head_age_s == pytest.approx(7200, abs=2)
    assert result.chain.gas_price_gwei == pytest.approx(0.01)
    assert world.sx.calls[0] == "eth_chainId"


async def test_wrong_chain_id_is_a_failure_with_rpc_down(
    world: FakeWorld, tmp_path: Path, http
) -> None:
    world.sx.chain_id = 1
    result = await _probe(world, tmp_path, http, "sx_rollup")
    assert not result.ok
    assert result.chain is not None and not result.chain.rpc_up and not result.chain.sequencer_up
    assert "wrong chain id 1 (expected 4162)" in result.detail
    assert "endpoints.chains.sx_rollup.rpc_urls" in result.detail


@pytest.mark.parametrize(
    "message", ["sequencer temporarily not available", "rpc: context deadline exceeded"]
)
async def test_sx_sequencer_errors_mean_down(
    world: FakeWorld, tmp_path: Path, http, message: str
) -> None:
    world.sx.rpc_error = message
    result = await _probe(world, tmp_path, http, "sx_rollup")
    assert not result.ok
    assert result.chain is not None
    assert result.chain.sequencer_status == "down" and not result.chain.sequencer_up
    assert not result.chain.rpc_up
    assert result.detail.startswith("sequencer error from RPC")


async def test_sx_down_after_stall_probes_without_a_new_block(
    world: FakeWorld, tmp_path: Path, http
) -> None:
    cfg = world.config(tmp_path / "hb.log", sx_stall_probes=3)
    target = _targets(cfg, http)["sx_rollup"]
    assert isinstance(target, SxRollupTarget)
    runner = ProbeRunner(None, probers=PROBERS, http=http, clock=SystemClock(), timeout_s=1)
    statuses = []
    for _ in range(4):
        result = await runner.run(target)
        assert result.chain is not None
        statuses.append(result.chain.sequencer_status)
    assert statuses == ["up", "up", "up", "down"]
    assert "no new block for 3 probes (limit 3)" in result.detail
    world.sx.head += 1
    result = await runner.run(target)  # blocks again: recovering for sx_stall_grace_s
    assert not result.ok and result.chain is not None and result.chain.rpc_up
    assert result.chain.sequencer_status == "recovering" and not result.chain.sequencer_up
    assert "after a stall" in result.detail and "grace 120s" in result.detail


async def test_sx_recovering_after_a_stall_turns_up_when_the_grace_ends(
    world: FakeWorld, tmp_path: Path, http
) -> None:
    cfg = world.config(tmp_path / "hb.log", sx_stall_probes=2, sx_stall_grace_s=0.6)
    target = _targets(cfg, http)["sx_rollup"]
    runner = ProbeRunner(None, probers=PROBERS, http=http, clock=SystemClock(), timeout_s=1)
    statuses = []
    for step in ("first", "same", "same", "new", "new", "wait", "new"):
        if step == "new":
            world.sx.head += 1
        if step == "wait":
            time.sleep(0.7)
            continue
        result = await runner.run(target)
        assert result.chain is not None
        statuses.append(result.chain.sequencer_status)
    assert statuses == ["up", "up", "down", "recovering", "recovering", "up"]
    assert result.ok and result.chain.sequencer_up
    assert "recovered_at" in result.data


async def test_rpc_failover_to_second_url(world: FakeWorld, tmp_path: Path, http) -> None:
    cfg = world.config(tmp_path / "hb.log")
    closed = f"http://127.0.0.1:{free_port()}"
    chains = dict(cfg.endpoints.chains)
    chains["polygon"] = chains["polygon"].model_copy(
        update={"rpc_urls": [closed, world.polygon_server.url]}
    )
    cfg = cfg.model_copy(update={"endpoints": cfg.endpoints.model_copy(update={"chains": chains})})
    runner = ProbeRunner(None, probers=PROBERS, http=http, clock=SystemClock(), timeout_s=1)
    result = await runner.run(_targets(cfg, http)["polygon"])
    assert result.ok, result.detail
    assert result.chain is not None and result.chain.rpc_endpoint == 1


@pytest.mark.parametrize(
    ("answer", "started_ago", "status"),
    [
        (0, 7200, "up"),
        (1, 30, "down"),
        (0, 250, "recovering"),
        (0, 350, "up"),
        (2, 7200, "unknown"),
    ],
)
async def test_arbitrum_uptime_feed(
    world: FakeWorld, tmp_path: Path, http, answer: int, started_ago: int, status: str
) -> None:
    world.feed.answer = answer
    world.feed.started_at = int(time.time()) - started_ago
    result = await _probe(world, tmp_path, http, "arbitrum")
    assert result.chain is not None
    assert result.chain.sequencer_status == status
    assert result.chain.sequencer_up is (status == "up")
    assert result.chain.rpc_up
    assert result.ok is (status == "up")
    assert result.data["feed_answer"] == answer


async def test_arbitrum_grace_counts_from_started_at_not_updated_at(
    world: FakeWorld, tmp_path: Path, http
) -> None:
    now = int(time.time())
    world.feed.answer = 0
    world.feed.started_at = now - 7200  # flipped to up two hours ago
    world.feed.updated_at = now - 5  # refreshed with the same status just now
    result = await _probe(world, tmp_path, http, "arbitrum")
    assert result.chain is not None and result.chain.sequencer_status == "up"
    world.feed.started_at = now - 200  # flipped 200 s ago
    world.feed.updated_at = now - 200
    result = await _probe(world, tmp_path, http, "arbitrum")
    assert result.chain is not None and result.chain.sequencer_status == "recovering"
    assert "grace 300s" in result.detail  # the default grace of a betting bot


async def test_arbitrum_invalid_round_fails(world: FakeWorld, tmp_path: Path, http) -> None:
    world.feed.started_at = 0
    result = await _probe(world, tmp_path, http, "arbitrum")
    assert not result.ok
    assert result.chain is not None and result.chain.sequencer_status == "unknown"
    assert "invalid (startedAt 0)" in result.detail


async def test_arbitrum_stalled_head_is_down_even_with_feed_up(
    world: FakeWorld, tmp_path: Path, http
) -> None:
    world.arbitrum.head_age_s = 300
    result = await _probe(world, tmp_path, http, "arbitrum")
    assert not result.ok
    assert result.chain is not None and result.chain.sequencer_status == "down"
    assert result.detail.startswith("stalled: head age")


async def test_arbitrum_feed_missing_is_unknown(world: FakeWorld, tmp_path: Path, http) -> None:
    world.arbitrum.feed = None  # the configured address answers a revert
    result = await _probe(world, tmp_path, http, "arbitrum")
    assert not result.ok
    assert result.chain is not None and result.chain.sequencer_status == "unknown"
    assert "uptime feed unreadable" in result.detail


async def test_polygon_stale_head_fails(world: FakeWorld, tmp_path: Path, http) -> None:
    world.polygon.head_age_s = 61
    result = await _probe(world, tmp_path, http, "polygon")
    assert not result.ok and "stalled" in result.detail


async def test_sx_api_metadata_rules(world: FakeWorld, tmp_path: Path, http) -> None:
    assert (await _probe(world, tmp_path, http, "sx_api")).ok
    world.venues.metadata = {"status": "failure", "data": {}}
    result = await _probe(world, tmp_path, http, "sx_api")
    assert not result.ok and "status 'failure'" in result.detail
    world.venues.metadata = {"status": "success", "data": {"executorAddress": ""}}
    result = await _probe(world, tmp_path, http, "sx_api")
    assert not result.ok and "no data.executorAddress" in result.detail


async def test_azuro_api_404_is_healthy_500_is_not(world: FakeWorld, tmp_path: Path, http) -> None:
    result = await _probe(world, tmp_path, http, "azuro_api")
    assert result.ok and result.data["http_status"] == 404
    path = world.venue_server.requests[-1].path
    assert path == "/azuro/bet/orders/0x0000000000000000000000000000000000000000_0"
    world.venues.order_status = 500
    result = await _probe(world, tmp_path, http, "azuro_api")
    assert not result.ok and "HTTP 500" in result.detail


async def test_subgraph_lag_and_indexing_errors(world: FakeWorld, tmp_path: Path, http) -> None:
    result = await _probe(world, tmp_path, http, "azuro_subgraph")
    assert result.ok and result.data["lag_s"] == pytest.approx(5, abs=2)
    world.venues.meta_age_s = 301
    result = await _probe(world, tmp_path, http, "azuro_subgraph")
    assert not result.ok and "too far behind (limit 300s)" in result.detail
    world.venues.meta_age_s = 5
    world.venues.meta["data"]["_meta"]["hasIndexingErrors"] = True
    result = await _probe(world, tmp_path, http, "azuro_subgraph")
    assert not result.ok and "indexing errors" in result.detail


@pytest.mark.parametrize("old_graph_node", [False, True])
async def test_subgraph_without_timestamp_uses_polygon_head(
    world: FakeWorld, tmp_path: Path, http, old_graph_node: bool
) -> None:
    world.venues.meta_age_s = None
    world.venues.old_graph_node = old_graph_node
    world.polygon.head = 81_234_567 + 150
    result = await _probe(world, tmp_path, http, "azuro_subgraph")
    assert result.ok, result.detail
    assert result.data["lag_blocks"] == 150
    world.polygon.head += 1
    result = await _probe(world, tmp_path, http, "azuro_subgraph")
    assert not result.ok and "151 blocks behind" in result.detail


@pytest.mark.parametrize("mode", ["hang", "drip", "500", "garbage", "close"])
@pytest.mark.parametrize("name", ["sx_rollup", "arbitrum", "sx_api", "azuro_subgraph"])
async def test_misbehaving_endpoint_is_a_failure_within_the_timeout(
    world: FakeWorld, tmp_path: Path, http, mode: str, name: str
) -> None:
    fake = {
        "sx_rollup": world.sx,
        "arbitrum": world.arbitrum,
        "sx_api": world.venues,
        "azuro_subgraph": world.venues,
    }[name]
    fake.mode = mode
    fake.drip_interval_s = 5.0  # a dripped answer would take minutes; `hang` never comes
    started = time.monotonic()
    probe = _probe(world, tmp_path, http, name, TIMEOUT_S)
    result = await returns_within(probe, 10, f"{name} probe")
    elapsed = time.monotonic() - started
    assert not result.ok, result.detail
    assert result.detail
    assert result.latency_seconds <= elapsed
    if mode in ("drip", "hang"):  # the RPC client's deadline or the runner's hard timeout
        assert "timeout" in result.detail.lower()
    if mode == "hang":  # the probe answered while the server still held its request
        server = {"sx_rollup": world.sx_server, "arbitrum": world.arbitrum_server}
        assert server.get(name, world.venue_server).holding >= 1
    if result.chain is not None:
        assert not result.chain.rpc_up and not result.chain.sequencer_up


async def test_probe_that_raises_is_recorded_not_fatal(http) -> None:
    async def broken(target: object, **_: object) -> ProbeResult:
        raise RuntimeError("bug in a probe")

    class Broken:
        name, kind, chain = "polygon", "broken", "polygon"

    registry = CollectorRegistry()
    runner = ProbeRunner(
        registry, probers={"broken": broken}, http=http, clock=SystemClock(), timeout_s=1
    )
    result = await runner.run(Broken())
    assert not result.ok and result.detail == "probe error RuntimeError: bug in a probe"
    assert result.chain is not None and not result.chain.rpc_up
    assert registry.get_sample_value("arb_probe_success", {"target": "polygon"}) == 0


async def test_only_read_only_rpc_methods_are_sent(world: FakeWorld, tmp_path: Path, http) -> None:
    cfg = world.config(tmp_path / "hb.log")
    runner = ProbeRunner(None, probers=PROBERS, http=http, clock=SystemClock(), timeout_s=1)
    for target in build_targets(cfg, http):
        await runner.run(target)
    sent = set(world.sx.calls + world.arbitrum.calls + world.polygon.calls)
    assert sent == {"eth_chainId", "eth_getBlockByNumber", "eth_gasPrice", "eth_call"}
    assert sent <= READ_ONLY_METHODS


@pytest.mark.parametrize("mode", ["huge", "huge_stream"])
@pytest.mark.parametrize(
    "name", ["sx_rollup", "arbitrum", "polygon", "sx_api", "azuro_api", "azuro_subgraph"]
)
async def test_an_answer_above_the_size_limit_is_a_failed_attempt(
    world: FakeWorld, tmp_path: Path, http, mode: str, name: str
) -> None:
    for fake in (world.sx, world.arbitrum, world.polygon, world.venues):
        fake.mode = mode
    # Time enough for the first megabyte to arrive even on a loaded machine.
    cfg = world.config(tmp_path / "hb.log", interval_s=3.0, probe_timeout_s=2.0)
    runner = ProbeRunner(None, probers=PROBERS, http=http, clock=SystemClock(), timeout_s=2.0)
    result = await runner.run(_targets(cfg, http)[name])
    assert not result.ok
    how = "announced 52428800 bytes" if mode == "huge" else "read past"
    assert f"answer too large: {how}" in result.detail, result.detail
    assert "limit 1048576 bytes" in result.detail
    if result.chain is not None:
        assert not result.chain.rpc_up
