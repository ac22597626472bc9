"""RemoteRuntimeRegistry against the real `arbqos orchestrator` process."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from arbqos.registry import ChainHealth, RemoteRegistryError, RemoteRuntimeRegistry, WalletBalance
from tests.registry.conftest import real_orchestrator

PAUSE_TOKEN = "registry-test-pause-" + "p" * 24
ADMIN_TOKEN = "registry-test-admin-" + "a" * 24
T0 = datetime(2026, 11, 26, 13, 50, 58, 123000, tzinfo=UTC)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


@pytest.fixture
def orchestrator(tmp_path: Path) -> Iterator[str]:
    """A real orchestrator on a free loopback port with a fresh state directory."""
    with real_orchestrator(tmp_path, pause_token=PAUSE_TOKEN, admin_token=ADMIN_TOKEN) as url:
        yield url


async def test_remote_registry_round_trip(orchestrator: str) -> None:
    async with httpx.AsyncClient() as http:
        remote = RemoteRuntimeRegistry(orchestrator, http, PAUSE_TOKEN)
        health = ChainHealth(
            "sx_rollup",
            rpc_up=True,
            sequencer_up=True,
            sequencer_status="up",
            head_block=4_162_000,
            head_age_s=2.5,
            gas_price_gwei=0.1,
            rpc_endpoint=1,
            detail="ok",
            observed_at=T0,
        )
        await remote.set_chain_health(health)
        assert (await remote.sequencer_health())["sx_rollup"] == health
        balances = {
            "sx": WalletBalance("sx", "sx_rollup", "USDC", 120.5, 120.5, False, T0),
            "azuro": WalletBalance("azuro", "polygon", "USDT", 9.0, 9.0, True, T0),
        }
        await remote.set_balances(balances)
        assert await remote.get_bank() == balances
        snapshot = await remote.snapshot()
        assert re.fullmatch(r"[0-9a-f]{64}", snapshot.config_hash)
        old = snapshot.balance_freshness("sx")  # observed at T0, long ago: kept but stale
        assert old is not None and old.stale and old.age_s is not None and old.age_s > 3600
        now = datetime.now(UTC)
        await remote.set_chain_health(replace(health, chain="polygon", observed_at=now))
        live = (await remote.snapshot()).chain_freshness("polygon")
        assert live is not None and not live.stale and live.age_s is not None and live.age_s < 30
        metrics = (await http.get(orchestrator + "/metrics")).text
        assert 'arb_wallet_balance_usd{chain="polygon",token="USDT",wallet="azuro"} 9.0' in metrics


async def test_wrong_token_is_refused_with_the_fix(orchestrator: str) -> None:
    async with httpx.AsyncClient() as http:
        remote = RemoteRuntimeRegistry(orchestrator, http, "not-the-token")
        with pytest.raises(RemoteRegistryError, match="set ARBQOS_PAUSE_TOKEN") as err:
            await remote.set_balances({"sx": WalletBalance("sx", "sx_rollup", "USDC", 1.0)})
        assert err.value.status in (401, 403)
        assert await remote.get_bank() == {}  # reads need no token
