"""Chain probes against real anvil nodes and the deployed uptime feed (local chains harness)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from arbqos.clock import SystemClock
from arbqos.config.schema import ArbqosConfig, HeartbeatConfig
from arbqos.probes.base import ProbeResult, ProbeRunner
from arbqos.probes.targets import PROBERS, build_targets
from arbqos_harness.chain.localchain import LocalChains
from arbqos_harness.process import ManagedProcess, find_tool, free_port, wait_for_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]

DAY_S = 86400


@pytest.fixture
def feed(local_chains: LocalChains) -> Iterator[LocalChains]:
    """The session chains with the uptime feed "up for a day" (other tests may have moved it)."""
    local_chains.set_feed(0, int(time.time()) - DAY_S)
    yield local_chains
    local_chains.set_feed(0, int(time.time()) - DAY_S)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def _config(chains: LocalChains, tmp_path: Path, **heartbeat: object) -> ArbqosConfig:
    hb = HeartbeatConfig(log_path=str(tmp_path / "hb.log"), probe_timeout_s=5, **heartbeat)
    return chains.config(ArbqosConfig(heartbeat=hb))


async def _probe(cfg: ArbqosConfig, http: httpx.AsyncClient, name: str) -> ProbeResult:
    runner = ProbeRunner(None, probers=PROBERS, http=http, clock=SystemClock(), timeout_s=5)
    (target,) = [t for t in build_targets(cfg, http) if t.name == name]
    return await runner.run(target)


async def test_every_chain_up_on_real_nodes(feed: LocalChains, tmp_path: Path, http) -> None:
    cfg = _config(feed, tmp_path)
    for name in ("sx_rollup", "arbitrum", "polygon"):
        result = await _probe(cfg, http, name)
        assert result.ok, (name, result.detail)
        assert result.chain is not None and result.chain.rpc_up and result.chain.sequencer_up
        head = int(feed.admin(name).call("eth_blockNumber"), 16)
        assert result.chain.head_block is not None and abs(result.chain.head_block - head) <= 3
        assert result.chain.gas_price_gwei is not None and result.chain.gas_price_gwei > 0
        assert result.chain.head_age_s is not None and result.chain.head_age_s >= 0
    result = await _probe(cfg, http, "arbitrum")
    assert result.data["feed_answer"] == 0
    assert result.detail.startswith("uptime feed up since ")


@pytest.mark.parametrize(
    ("answer", "started_ago", "status", "detail"),
    [
        (1, 30, "down", "uptime feed reports sequencer down since "),
        (0, 60, "recovering", "sequencer up since "),
        (0, None, "unknown", "uptime feed round invalid (startedAt 0)"),
    ],
)
async def test_uptime_feed_states_on_anvil(
    feed: LocalChains,
    tmp_path: Path,
    http,
    answer: int,
    started_ago: int | None,
    status: str,
    detail: str,
) -> None:
    started_at = 0 if started_ago is None else int(time.time()) - started_ago
    feed.set_feed(answer, started_at)
    result = await _probe(_config(feed, tmp_path), http, "arbitrum")
    assert not result.ok
    assert result.chain is not None
    assert result.chain.rpc_up
    assert result.chain.sequencer_status == status
    assert not result.chain.sequencer_up
    assert result.detail.startswith(detail)
    assert result.data == {"feed_answer": answer, "feed_started_at": started_at}


async def test_recovery_ends_after_the_grace(feed: LocalChains, tmp_path: Path, http) -> None:
    feed.set_feed(0, int(time.time()) - 120)
    endpoints = {"sequencer_grace_s": 60}
    cfg = _config(feed, tmp_path)
    cfg = cfg.model_copy(update={"endpoints": cfg.endpoints.model_copy(update=endpoints)})
    result = await _probe(cfg, http, "arbitrum")
    assert result.ok and result.chain is not None and result.chain.sequencer_status == "up"


async def test_wrong_chain_id_from_a_real_node(
    local_chains: LocalChains, tmp_path: Path, http
) -> None:
    port = free_port()
    argv = [find_tool("anvil"), "--host", "127.0.0.1", "--port", str(port), "--chain-id", "1"]
    with ManagedProcess("anvil-mainnet-id", argv, tmp_path):
        wait_for_port("127.0.0.1", port, timeout_s=20)
        cfg = _config(local_chains, tmp_path)
        sx = cfg.endpoints.chains["sx_rollup"].model_copy(
            update={"rpc_urls": [f"http://127.0.0.1:{port}"]}
        )
        chain_map = {**cfg.endpoints.chains, "sx_rollup": sx}
        cfg = cfg.model_copy(
            update={"endpoints": cfg.endpoints.model_copy(update={"chains": chain_map})}
        )
        result = await _probe(cfg, http, "sx_rollup")
    assert not result.ok
    assert result.detail.startswith("wrong chain id 1 (expected 4162)")
    assert result.chain is not None and not result.chain.rpc_up and not result.chain.sequencer_up


async def test_sx_rollup_down_only_after_stall_probes_without_blocks(
    local_chains: LocalChains, tmp_path: Path, http
) -> None:
    # SX Rollup makes blocks only for transactions: the local node does the same.
    cfg = _config(local_chains, tmp_path, sx_stall_probes=3)
    (target,) = [t for t in build_targets(cfg, http) if t.name == "sx_rollup"]
    runner = ProbeRunner(None, probers=PROBERS, http=http, clock=SystemClock(), timeout_s=5)
    statuses = []
    for _ in range(4):
        result = await runner.run(target)
        assert result.chain is not None
        statuses.append(result.chain.sequencer_status)
    assert statuses == ["up", "up", "up", "down"]
    local_chains.mine("sx_rollup")
    result = await runner.run(target)  # blocks again: recovering for the grace, from the block
    assert result.chain is not None and result.chain.rpc_up
    assert result.chain.sequencer_status == "recovering" and not result.ok


async def test_stalled_arbitrum_head_is_down(feed: LocalChains, tmp_path: Path, http) -> None:
    chains = feed
    cfg = _config(chains, tmp_path)
    arbitrum = cfg.endpoints.chains["arbitrum"].model_copy(update={"head_age_max_s": 2.0})
    chain_map = {**cfg.endpoints.chains, "arbitrum": arbitrum}
    cfg = cfg.model_copy(
        update={"endpoints": cfg.endpoints.model_copy(update={"chains": chain_map})}
    )
    chains.stall("arbitrum")
    try:
        time.sleep(2.5)
        result = await _probe(cfg, http, "arbitrum")
        assert not result.ok
        assert result.chain is not None and result.chain.sequencer_status == "down"
        assert result.chain.rpc_up
        assert result.detail.startswith("stalled: head age")
    finally:
        chains.resume("arbitrum")
    chains.mine("arbitrum")
    result = await _probe(cfg, http, "arbitrum")
    assert result.ok, result.detail


async def test_rpc_down_and_back(local_chains: LocalChains, tmp_path: Path, http) -> None:
    cfg = _config(local_chains, tmp_path)
    local_chains.stop_node("polygon")
    try:
        result = await _probe(cfg, http, "polygon")
        assert not result.ok and result.detail.startswith("rpc failed: connect")
        assert result.chain is not None and not result.chain.rpc_up
    finally:
        local_chains.start_node("polygon")
    result = await _probe(cfg, http, "polygon")
    assert result.ok, result.detail
