"""RemoteRuntimeRegistry against a loopback orchestrator stand-in: round trips and clear errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from arbqos.registry import (
    ChainHealth,
    RemoteRegistryError,
    RemoteRuntimeRegistry,
    RuntimeRegistryAPI,
    WalletBalance,
)
from arbqos_harness.process import free_port
from tests.registry.conftest import TOKEN, StandIn
from tests.sdk.served import serve_orchestrator
from tests.services.conftest import PAUSE_TOKEN
from tests.support.wait import returns_within

T0 = datetime(2026, 11, 26, 13, 50, 58, 123000, tzinfo=UTC)


async def test_round_trip_through_the_orchestrator_routes(stand_in: StandIn) -> None:
    async with httpx.AsyncClient() as http:
        remote: RuntimeRegistryAPI = RemoteRuntimeRegistry(stand_in.url, http, TOKEN)
        health = ChainHealth(
            "arbitrum",
            rpc_up=True,
            sequencer_up=False,
            sequencer_status="down",
            head_block=123,
            head_age_s=4.5,
            gas_price_gwei=0.01,
            rpc_endpoint=0,
            observed_at=T0,
        )
        await remote.set_chain_health(health)
        assert (await remote.sequencer_health()) == {"arbitrum": health}
        balances = {
            "sx": WalletBalance("sx", "sx_rollup", "USDC", 120.5, 120.5, False, T0),
            "azuro": WalletBalance("azuro", "polygon", "USDT", 9.0, 9.0, True, T0),
        }
        await remote.set_balances(balances)
        assert await remote.get_bank() == balances
        snapshot = await remote.snapshot()
        assert snapshot.config_hash == "c" * 64
        assert snapshot.chains["arbitrum"].sequencer_status == "down"
    assert (await stand_in.runtime.get_bank())["sx"].balance_usd == 120.5


async def test_reads_need_no_token_writes_do(stand_in: StandIn) -> None:
    async with httpx.AsyncClient() as http:
        remote = RemoteRuntimeRegistry(stand_in.url, http, None)
        assert await remote.get_bank() == {}
        with pytest.raises(RemoteRegistryError, match="needs the pause token") as missing:
            await remote.set_chain_health(ChainHealth("polygon", rpc_up=True, sequencer_up=True))
        assert missing.value.status is None
        remote = RemoteRuntimeRegistry(stand_in.url, http, "stale-token")
        with pytest.raises(
            RemoteRegistryError, match=r"HTTP 401.*token refused; set ARBQOS_PAUSE_TOKEN"
        ) as err:
            await remote.set_chain_health(ChainHealth("polygon", rpc_up=True, sequencer_up=True))
        assert err.value.status == 401


async def test_slow_orchestrator_times_out(stand_in: StandIn) -> None:
    stand_in.delay_s = 3.0  # longer than the backstop: only the client's timeout ends it
    async with httpx.AsyncClient() as http:
        remote = RemoteRuntimeRegistry(stand_in.url, http, TOKEN, timeout_s=0.3)
        with pytest.raises(RemoteRegistryError, match=r"no answer within 0\.3 s"):
            await returns_within(remote.snapshot(), 2.5, "snapshot of a slow orchestrator")


async def test_garbage_answer_is_named(stand_in: StandIn) -> None:
    stand_in.garbage = True
    async with httpx.AsyncClient() as http:
        remote = RemoteRuntimeRegistry(stand_in.url, http, TOKEN)
        with pytest.raises(RemoteRegistryError, match="answer is not JSON"):
            await remote.get_bank()


async def test_wrong_body_or_path_is_named(stand_in: StandIn) -> None:
    async with httpx.AsyncClient() as http:
        remote = RemoteRuntimeRegistry(stand_in.url + "/api", http, TOKEN)
        with pytest.raises(RemoteRegistryError, match="/api/v1/registry: HTTP 404") as err:
            await remote.snapshot()
        assert err.value.status == 404
        stand_in.wrong_shape = True
        remote = RemoteRuntimeRegistry(stand_in.url, http, TOKEN)
        with pytest.raises(RemoteRegistryError, match="not a registry snapshot"):
            await remote.snapshot()


async def test_closed_port_fails_fast() -> None:
    async with httpx.AsyncClient() as http:
        remote = RemoteRuntimeRegistry(f"http://127.0.0.1:{free_port()}", http, TOKEN, timeout_s=2)
        with pytest.raises(RemoteRegistryError, match=r"ConnectError.*orchestrator is running"):
            await remote.sequencer_health()


async def test_values_the_orchestrator_would_refuse_fail_before_any_request() -> None:
    async with httpx.AsyncClient() as http:
        remote = RemoteRuntimeRegistry("http://127.0.0.1:9", http, TOKEN)
        with pytest.raises(ValueError, match=r"chain health of '\.\./admin': chain: Input"):
            await remote.set_chain_health(ChainHealth("../admin", rpc_up=True, sequencer_up=True))
        negative = WalletBalance("sx", "sx_rollup", "USDC", -1.0)
        with pytest.raises(ValueError, match="balance of wallet 'sx': balance_usd"):
            await remote.set_balances({"sx": negative})


async def test_round_trip_through_the_real_orchestrator(tmp_path: Path) -> None:
    health = ChainHealth("sx_rollup", rpc_up=False, sequencer_up=False, detail="timeout")
    balances = {"azuro": WalletBalance("azuro", "polygon", "USDT", 9.0, 9.0, True, T0)}
    with serve_orchestrator(tmp_path / "state") as served:
        async with httpx.AsyncClient() as http:
            remote = RemoteRuntimeRegistry(served.url, http, PAUSE_TOKEN)
            await remote.set_chain_health(health)
            await remote.set_balances(balances)
            snapshot = await remote.snapshot()
        served_now = await served.service.runtime.snapshot()
        assert replace(snapshot, freshness={}) == replace(served_now, freshness={})
        assert {k: f.stale for k, f in snapshot.freshness.items()} == {
            "chains.sx_rollup": True,  # no observation time: age unknown, not live
            "balances.azuro": True,  # read at T0, long ago
        }
    assert snapshot.chains == {"sx_rollup": health} and snapshot.balances == balances
    assert snapshot.config_sources == "default"
