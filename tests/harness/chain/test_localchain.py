"""LocalChains: real chain ids, 6-decimal tokens, mint/transfer, feed, stalls, outages, stop."""

from __future__ import annotations

import os
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from arbqos.chain.abi import (
    DECIMALS,
    LATEST_ROUND_DATA,
    decode_latest_round_data,
    decode_uint,
    encode_balance_of,
)
from arbqos.chain.rpc import JsonRpcClient, RpcFailure
from arbqos.config import load_config
from arbqos_harness.chain.localchain import (
    DEFAULT_BLOCK_TIMES,
    DEPLOYER,
    LOCAL_CHAIN_IDS,
    WALLETS,
    LocalChains,
    to_raw,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]

SX_WALLET = WALLETS["sx"][1]
AZURO_WALLET = WALLETS["azuro"][1]
OUTSIDER = "0x000000000000000000000000000000000000bEEF"


async def read_balance(chains: LocalChains, chain: str, owner: str) -> int:
    """Raw token balance read through arbqos's read-only client."""
    async with httpx.AsyncClient() as http:
        rpc = JsonRpcClient([chains.rpc_url(chain)], chain=chain, http=http)
        return decode_uint(await rpc.eth_call(chains.tokens[chain], encode_balance_of(owner)))


async def test_nodes_serve_the_real_chain_ids(local_chains: LocalChains) -> None:
    async with httpx.AsyncClient() as http:
        for chain, expected in LOCAL_CHAIN_IDS.items():
            rpc = JsonRpcClient([local_chains.rpc_url(chain)], chain=chain, http=http)
            assert await rpc.chain_id() == expected
            number, timestamp = await rpc.latest_block()
            assert number >= 1
            # no older than the nodes; chains mining empty blocks keep up with the wall clock
            # (SX Rollup mines only on a transaction, so its last block may be old)
            assert timestamp >= local_chains.created_at - 5
            if DEFAULT_BLOCK_TIMES[chain] is not None:
                assert timestamp >= time.time() - 120
            assert await rpc.gas_price_wei() > 0
    assert local_chains.rpc_url("polygon").startswith("http://127.0.0.1:")


async def test_tokens_have_six_decimals_on_the_wallet_chains(local_chains: LocalChains) -> None:
    assert set(local_chains.tokens) == {"sx_rollup", "polygon"}
    async with httpx.AsyncClient() as http:
        for chain, token in local_chains.tokens.items():
            rpc = JsonRpcClient([local_chains.rpc_url(chain)], chain=chain, http=http)
            assert decode_uint(await rpc.eth_call(token, DECIMALS)) == 6


async def test_mint_and_transfer_move_exact_amounts(local_chains: LocalChains) -> None:
    before = await read_balance(local_chains, "sx_rollup", SX_WALLET)
    local_chains.mint("sx_rollup", SX_WALLET, "123.456789")
    assert await read_balance(local_chains, "sx_rollup", SX_WALLET) == before + 123_456_789
    local_chains.transfer_from_wallet("sx_rollup", SX_WALLET, OUTSIDER, 100)
    assert await read_balance(local_chains, "sx_rollup", SX_WALLET) == before + 23_456_789
    # From an address anvil does not hold a key for: impersonated.
    local_chains.transfer_from_wallet("sx_rollup", OUTSIDER, AZURO_WALLET, "0.5")
    assert await read_balance(local_chains, "sx_rollup", AZURO_WALLET) >= 500_000


async def test_set_token_balance_mints_or_sends_away(local_chains: LocalChains) -> None:
    local_chains.set_token_balance("polygon", AZURO_WALLET, 40)
    assert local_chains.token_balance("polygon", AZURO_WALLET) == Decimal(40)
    local_chains.set_token_balance("polygon", AZURO_WALLET, "12.5")
    assert await read_balance(local_chains, "polygon", AZURO_WALLET) == 12_500_000
    assert local_chains.token_balance("polygon", DEPLOYER) >= Decimal("27.5")


def test_only_the_deployer_mints(local_chains: LocalChains) -> None:
    from eth_abi.abi import encode

    from arbqos.chain.abi import selector
    from arbqos_harness.chain.localchain import AdminRpcError

    data = selector("mint(address,uint256)") + encode(["address", "uint256"], [SX_WALLET, 1])
    with pytest.raises(AdminRpcError):
        local_chains.admin("sx_rollup").transact(SX_WALLET, local_chains.tokens["sx_rollup"], data)


async def test_feed_set_and_read_round_trip(local_chains: LocalChains) -> None:
    assert local_chains.feed is not None
    async with httpx.AsyncClient() as http:
        rpc = JsonRpcClient([local_chains.rpc_url("arbitrum")], chain="arbitrum", http=http)
        initial = decode_latest_round_data(await rpc.eth_call(local_chains.feed, LATEST_ROUND_DATA))
        assert initial.answer == 0
        assert initial.started_at < time.time() - 3600
        local_chains.set_feed(1, 1_790_000_000)
        down = decode_latest_round_data(await rpc.eth_call(local_chains.feed, LATEST_ROUND_DATA))
        assert (down.answer, down.started_at) == (1, 1_790_000_000)
        assert down.round_id == initial.round_id + 1 == down.answered_in_round
        assert down.updated_at >= down.started_at
        local_chains.set_feed(0, initial.started_at)
        up = decode_latest_round_data(await rpc.eth_call(local_chains.feed, LATEST_ROUND_DATA))
        assert (up.answer, up.started_at) == (0, initial.started_at)


def test_tx_count_counts_every_transaction(local_chains: LocalChains) -> None:
    before = {chain: local_chains.tx_count(chain) for chain in local_chains.chains}
    local_chains.mint("polygon", AZURO_WALLET, 1)
    local_chains.mint("polygon", AZURO_WALLET, 1)
    local_chains.set_feed(0)
    after = {chain: local_chains.tx_count(chain) for chain in local_chains.chains}
    assert after["polygon"] - before["polygon"] == 2
    assert after["arbitrum"] - before["arbitrum"] == 1
    assert after["sx_rollup"] == before["sx_rollup"]


def test_stall_stops_blocks_and_resume_restarts_them(local_chains: LocalChains) -> None:
    admin = local_chains.admin("arbitrum")
    start = int(admin.call("eth_blockNumber"), 16)
    time.sleep(1.3)
    assert int(admin.call("eth_blockNumber"), 16) > start, "arbitrum makes a block every second"
    local_chains.stall("arbitrum")
    try:
        stalled = int(admin.call("eth_blockNumber"), 16)
        time.sleep(1.5)
        assert int(admin.call("eth_blockNumber"), 16) == stalled
        local_chains.mine("arbitrum", 3)
        assert int(admin.call("eth_blockNumber"), 16) == stalled + 3
    finally:
        local_chains.resume("arbitrum")
    resumed = int(admin.call("eth_blockNumber"), 16)
    time.sleep(1.3)
    assert int(admin.call("eth_blockNumber"), 16) > resumed


async def test_stop_node_is_an_outage_and_start_node_keeps_state(
    local_chains: LocalChains,
) -> None:
    local_chains.mint("sx_rollup", SX_WALLET, 7)
    balance = await read_balance(local_chains, "sx_rollup", SX_WALLET)
    count = local_chains.tx_count("sx_rollup")
    pid = local_chains.pid("sx_rollup")
    local_chains.stop_node("sx_rollup")
    try:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
        async with httpx.AsyncClient() as http:
            rpc = JsonRpcClient([local_chains.rpc_url("sx_rollup")], chain="sx_rollup", http=http)
            with pytest.raises(RpcFailure) as failure:
                await rpc.chain_id()
            assert failure.value.kind == "connect"
    finally:
        local_chains.start_node("sx_rollup")
    assert local_chains.pid("sx_rollup") != pid
    assert await read_balance(local_chains, "sx_rollup", SX_WALLET) == balance
    assert local_chains.tx_count("sx_rollup") == count
    local_chains.mint("sx_rollup", SX_WALLET, 1)
    assert await read_balance(local_chains, "sx_rollup", SX_WALLET) == balance + 1_000_000


def test_stop_kills_every_process(tmp_path: Path) -> None:
    chains = LocalChains.start(tmp_path, chains=("polygon", "arbitrum"))
    pids = [chains.pid(chain) for chain in chains.chains]
    for pid in pids:
        os.kill(pid, 0)
    chains.stop()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert chains.tokens.keys() == {"polygon"}
    with pytest.raises(RuntimeError, match="not running"):
        chains.pid("polygon")


def test_config_and_overrides_point_at_the_nodes(local_chains: LocalChains, tmp_path: Path) -> None:
    config = local_chains.config()
    for chain in LOCAL_CHAIN_IDS:
        endpoint = config.endpoints.chains[chain]
        assert endpoint.rpc_urls == [local_chains.rpc_url(chain)]
        assert endpoint.chain_id == LOCAL_CHAIN_IDS[chain]
    assert config.risk.wallets["sx"].token_address == local_chains.tokens["sx_rollup"]
    assert config.risk.wallets["azuro"].token_address == local_chains.tokens["polygon"]
    assert config.risk.wallets["sx"].address == SX_WALLET
    assert config.endpoints.sequencer_uptime_feed == local_chains.feed

    (tmp_path / "config").mkdir()
    loaded = load_config(tmp_path / "config", {}, local_chains.overrides())
    assert loaded.config.endpoints == config.endpoints
    assert loaded.config.risk.wallets == config.risk.wallets


def test_to_raw_converts_token_units_exactly() -> None:
    assert to_raw("12.345678") == 12_345_678
    assert to_raw(15) == 15_000_000
    assert to_raw(Decimal("0.000001")) == 1
    with pytest.raises(ValueError, match="multiple"):
        to_raw("0.0000001")
    with pytest.raises(ValueError, match="non-negative"):
        to_raw(-1)
