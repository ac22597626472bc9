"""OnchainBank: balances in USD, decimals and chain id checked once, failures named and bounded."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping

import httpx
import pytest
from prometheus_client import CollectorRegistry

from arbqos.bank import (
    BALANCE_MAX_USD,
    DecimalsMismatch,
    OnchainBank,
    build_bank,
    error_kind,
    implausible,
)
from arbqos.chain.abi import BALANCE_OF, DECIMALS
from arbqos.chain.rpc import JsonRpcClient
from arbqos.clock import FakeClock
from arbqos.config.schema import ArbqosConfig, BalanceWatcherConfig, RiskConfig, WalletConfig
from arbqos.registry import RuntimeRegistry
from arbqos_harness.chain.localchain import WALLETS, LocalChains
from tests.bank.conftest import AZURO, SX, FakeTokenChain, wallets
from tests.support.wait import returns_within


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def make_bank(
    fakes: Mapping[str, FakeTokenChain],
    http: httpx.AsyncClient,
    clock: FakeClock,
    configured: Mapping[str, WalletConfig] | None = None,
    *,
    chain_ids: Mapping[str, int] | None = None,
    timeout_s: float = 2.0,
) -> OnchainBank:
    clients = {
        chain: JsonRpcClient([fake.url], chain=chain, http=http, timeout_s=timeout_s)
        for chain, fake in fakes.items()
    }
    return OnchainBank(
        configured or wallets(),
        clients,
        chain_ids=chain_ids or {"sx_rollup": 4162, "polygon": 137},
        clock=clock,
        read_timeout_s=timeout_s,
    )


async def test_reads_every_wallet_in_usd(
    token_chains: dict[str, FakeTokenChain], http: httpx.AsyncClient, fake_clock: FakeClock
) -> None:
    token_chains["sx_rollup"].set_balance(SX, 250_500_000)
    token_chains["polygon"].set_balance(AZURO, 14_990_000)
    balances = await make_bank(token_chains, http, fake_clock).read_balances()
    assert balances["sx"].balance_usd == pytest.approx(250.5)
    assert balances["sx"].balance_units == pytest.approx(250.5)
    assert (balances["sx"].chain, balances["sx"].token) == ("sx_rollup", "USDC")
    assert balances["azuro"].balance_usd == pytest.approx(14.99)
    assert balances["azuro"].observed_at == fake_clock.now_utc()
    assert balances["azuro"].error is None


async def test_chain_id_and_decimals_are_checked_once(
    token_chains: dict[str, FakeTokenChain], http: httpx.AsyncClient, fake_clock: FakeClock
) -> None:
    bank = make_bank(token_chains, http, fake_clock)
    for _ in range(3):
        await bank.read_balances()
    sx = token_chains["sx_rollup"]
    assert sx.count("eth_chainId") == 1
    assert sx.count("eth_call", DECIMALS) == 1
    assert sx.count("eth_call", BALANCE_OF) == 3


async def test_decimals_mismatch_names_wallet_config_and_chain_values(
    token_chains: dict[str, FakeTokenChain], http: httpx.AsyncClient, fake_clock: FakeClock
) -> None:
    token_chains["sx_rollup"].set_balance(SX, 10**18)
    token_chains["polygon"].set_balance(AZURO, 20_000_000)
    bank = make_bank(token_chains, http, fake_clock, wallets(sx={"decimals": 18}))
    for _ in range(2):
        balances = await bank.read_balances()
        error = balances["sx"].error or ""
        assert balances["sx"].balance_usd is None
        assert error_kind(error) == "decimals_mismatch"
        assert "wallet sx" in error
        assert "risk.wallets.sx.decimals = 18" in error
        assert "decimals() = 6" in error
        assert balances["azuro"].balance_usd == pytest.approx(20.0)
    assert token_chains["sx_rollup"].count("eth_call", BALANCE_OF) == 0
    assert token_chains["sx_rollup"].count("eth_call", DECIMALS) == 2  # asked again each read
    mismatch = DecimalsMismatch("sx", "USDC", 18, 6)
    assert (mismatch.wallet, mismatch.configured, mismatch.onchain) == ("sx", 18, 6)


async def test_one_wrong_decimals_answer_is_asked_again_at_the_next_read(
    token_chains: dict[str, FakeTokenChain],
    http: httpx.AsyncClient,
    fake_clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sx = token_chains["sx_rollup"]
    sx.set_balance(SX, 42_000_000)
    bank = make_bank(token_chains, http, fake_clock)
    sx.decimals = 18  # a flaky RPC (or a proxy upgrade in progress) answers wrong
    with caplog.at_level(logging.INFO, logger="arbqos.bank.onchain"):
        for _ in range(3):
            wrong = await bank.read_balances()
            assert error_kind(wrong["sx"].error) == "decimals_mismatch"
        sx.decimals = 6
        for _ in range(2):
            right = await bank.read_balances()
            assert right["sx"].error is None
            assert right["sx"].balance_usd == pytest.approx(42.0)
    assert sx.count("eth_call", DECIMALS) == 4  # three wrong answers, then verified once
    messages = [r.getMessage() for r in caplog.records]
    assert sum("decimals() = 18" in m for m in messages) == 1  # logged once per change
    assert sum("now matches the config" in m for m in messages) == 1


@pytest.mark.parametrize(
    ("raw", "why"),
    [(2**256 - 1, "a lying chain"), (10**13 + 1, "just above 1e7 USD at 6 decimals")],
)
async def test_a_balance_above_the_ceiling_is_an_implausible_read(
    token_chains: dict[str, FakeTokenChain],
    http: httpx.AsyncClient,
    fake_clock: FakeClock,
    raw: int,
    why: str,
) -> None:
    token_chains["sx_rollup"].set_balance(SX, 250_000_000)
    bank = make_bank(token_chains, http, fake_clock)
    runtime = RuntimeRegistry(CollectorRegistry(), bank_source=bank)
    assert (await runtime.get_bank())["sx"].balance_usd == pytest.approx(250.0)
    token_chains["sx_rollup"].set_balance(SX, raw)
    read = (await bank.read_balances())["sx"]
    assert read.balance_usd is None, why
    assert error_kind(read.error) == "implausible"
    assert "above balance_watcher.balance_max_usd = 1e+07 USD" in (read.error or "")
    kept = (await runtime.get_bank())["sx"]
    assert kept.balance_usd == pytest.approx(250.0)  # the last good balance stays
    assert error_kind(kept.error) == "implausible"
    token_chains["sx_rollup"].set_balance(SX, 10**13)  # exactly the ceiling is believable
    assert (await bank.read_balances())["sx"].balance_usd == pytest.approx(1e7)


def test_implausible_refuses_non_finite_and_negative_values() -> None:
    assert implausible(0.0, 1e7) is None and implausible(1e7, 1e7) is None
    for value in (1e7 * (1 + 1e-9), float("inf"), float("nan"), -0.01):
        assert error_kind(implausible(value, 1e7)) == "implausible"


def test_the_ceiling_default_matches_the_schema() -> None:
    assert BalanceWatcherConfig().balance_max_usd == BALANCE_MAX_USD


async def test_wrong_chain_id_is_refused(
    token_chains: dict[str, FakeTokenChain], http: httpx.AsyncClient, fake_clock: FakeClock
) -> None:
    token_chains["polygon"].chain_id = 1
    balances = await make_bank(token_chains, http, fake_clock).read_balances()
    assert error_kind(balances["azuro"].error) == "wrong_chain"
    assert "serves chain id 1" in (balances["azuro"].error or "")
    assert "expects 137" in (balances["azuro"].error or "")
    assert token_chains["polygon"].count("eth_call") == 0


async def test_failed_read_keeps_last_good_balance_and_its_time(
    token_chains: dict[str, FakeTokenChain], http: httpx.AsyncClient, fake_clock: FakeClock
) -> None:
    token_chains["polygon"].set_balance(AZURO, 30_000_000)
    bank = make_bank(token_chains, http, fake_clock)
    runtime = RuntimeRegistry(CollectorRegistry(), bank_source=bank)
    first = await runtime.get_bank()
    good_at = first["azuro"].observed_at
    fake_clock.advance(120)
    token_chains["polygon"].mode = "down"
    later = await runtime.get_bank()
    assert later["azuro"].balance_usd == pytest.approx(30.0)
    assert later["azuro"].observed_at == good_at
    assert error_kind(later["azuro"].error) == "http_5xx"
    assert later["sx"].error is None
    assert later["sx"].observed_at == fake_clock.now_utc()


async def test_a_flooding_rpc_is_a_too_large_read_and_keeps_the_last_balance(
    token_chains: dict[str, FakeTokenChain], http: httpx.AsyncClient, fake_clock: FakeClock
) -> None:
    token_chains["polygon"].set_balance(AZURO, 30_000_000)
    runtime = RuntimeRegistry(
        CollectorRegistry(), bank_source=make_bank(token_chains, http, fake_clock)
    )
    await runtime.get_bank()
    token_chains["polygon"].mode = "huge"
    later = (await runtime.get_bank())["azuro"]
    assert error_kind(later.error) == "too_large"
    assert "read past" in (later.error or "") and "limit 1048576 bytes" in (later.error or "")
    assert later.balance_usd == pytest.approx(30.0)


async def test_hung_rpc_is_cut_at_the_read_timeout(
    token_chains: dict[str, FakeTokenChain], http: httpx.AsyncClient, fake_clock: FakeClock
) -> None:
    token_chains["sx_rollup"].mode = "hang"
    bank = make_bank(token_chains, http, fake_clock, timeout_s=0.2)
    balances = await returns_within(bank.read_balances(), 10, "read_balances()")
    assert token_chains["sx_rollup"].server.holding >= 1  # never answered, still held
    assert error_kind(balances["sx"].error) == "timeout"
    assert balances["azuro"].error is None


async def test_address_without_token_code_is_a_bad_answer(
    token_chains: dict[str, FakeTokenChain], http: httpx.AsyncClient, fake_clock: FakeClock
) -> None:
    token_chains["sx_rollup"].mode = "no_code"
    balances = await make_bank(token_chains, http, fake_clock).read_balances()
    assert error_kind(balances["sx"].error) == "bad_answer"
    assert "token contract on sx_rollup" in (balances["sx"].error or "")


async def test_token_that_is_no_stablecoin_is_valued_at_its_price(
    token_chains: dict[str, FakeTokenChain], http: httpx.AsyncClient, fake_clock: FakeClock
) -> None:
    token_chains["polygon"].set_balance(AZURO, 2_000_000)
    configured = wallets(azuro={"token": "WPOL", "stablecoin": False, "usd_price": 0.25})
    balances = await make_bank(token_chains, http, fake_clock, configured).read_balances()
    assert balances["azuro"].balance_units == pytest.approx(2.0)
    assert balances["azuro"].balance_usd == pytest.approx(0.5)


@pytest.mark.slow
async def test_onchain_bank_reads_anvil_tokens(
    local_chains: LocalChains, fake_clock: FakeClock
) -> None:
    local_chains.set_token_balance("sx_rollup", WALLETS["sx"][1], "321.5")
    local_chains.set_token_balance("polygon", WALLETS["azuro"][1], 42)
    async with httpx.AsyncClient() as client:
        bank = build_bank(local_chains.config(), http=client, clock=fake_clock)
        balances = await bank.read_balances()
    assert balances["sx"].balance_usd == pytest.approx(321.5)
    assert balances["azuro"].balance_usd == pytest.approx(42.0)


@pytest.mark.slow
async def test_decimals_mismatch_on_anvil_names_both_values(
    local_chains: LocalChains, fake_clock: FakeClock
) -> None:
    base = local_chains.config()
    wrong = {
        **base.risk.wallets,
        "azuro": base.risk.wallets["azuro"].model_copy(update={"decimals": 18}),
    }
    config = base.model_copy(update={"risk": RiskConfig(wallets=wrong)})
    async with httpx.AsyncClient() as client:
        balances = await build_bank(config, http=client, clock=fake_clock).read_balances()
    error = balances["azuro"].error or ""
    assert "wallet azuro" in error
    assert "= 18" in error
    assert "decimals() = 6" in error
    assert balances["sx"].error is None


def test_build_bank_refuses_sources_it_cannot_read(fake_clock: FakeClock) -> None:
    config = ArbqosConfig().model_copy(
        update={"risk": RiskConfig().model_copy(update={"bank_source": "venue_api"})}
    )
    with pytest.raises(ValueError, match="onchain or static"):
        build_bank(config, http=httpx.AsyncClient(), clock=fake_clock)
