"""The in-process RuntimeRegistry mirrors state into the contract gauges and keeps good balances."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry

from arbqos.clock import FakeClock
from arbqos.config import AlertingConfig, ArbqosConfig, BalanceWatcherConfig, HeartbeatConfig
from arbqos.registry import ChainHealth, RegistrySnapshot, RuntimeRegistry, WalletBalance
from arbqos.registry.freshness import Freshness, StaleLimits

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class ScriptedBank:
    """A bank source that returns prepared reads in order."""

    def __init__(self, reads: list[dict[str, WalletBalance]]) -> None:
        self.reads = reads

    async def read_balances(self) -> dict[str, WalletBalance]:
        return self.reads.pop(0)


async def test_chain_health_updates_every_chain_gauge(registry: CollectorRegistry) -> None:
    reg = RuntimeRegistry(registry, config_hash="ab" * 32)
    await reg.set_chain_health(
        ChainHealth(
            "arbitrum",
            rpc_up=True,
            sequencer_up=False,
            sequencer_status="down",
            head_block=123,
            head_age_s=4.5,
            gas_price_gwei=0.01,
            observed_at=T0,
        )
    )
    labels = {"chain": "arbitrum"}
    assert registry.get_sample_value("arb_rpc_up", labels) == 1
    assert registry.get_sample_value("arb_sequencer_up", labels) == 0
    assert registry.get_sample_value("arb_chain_head_block", labels) == 123
    assert registry.get_sample_value("arb_chain_head_age_seconds", labels) == 4.5
    assert registry.get_sample_value("arb_gas_price_gwei", labels) == 0.01
    health = await reg.sequencer_health()
    assert health["arbitrum"].sequencer_status == "down"


async def test_failed_read_keeps_last_good_balance_and_its_time(
    registry: CollectorRegistry,
) -> None:
    good = WalletBalance("sx", "sx_rollup", "USDC", 42.0, 42.0, observed_at=T0)
    failed = WalletBalance("sx", "sx_rollup", "USDC", None, error="timeout")
    reg = RuntimeRegistry(registry, bank_source=ScriptedBank([{"sx": good}, {"sx": failed}]))
    assert (await reg.get_bank())["sx"].balance_usd == 42.0
    after = (await reg.get_bank())["sx"]
    assert after.balance_usd == 42.0
    assert after.observed_at == T0
    assert after.error == "timeout"
    labels = {"wallet": "sx", "chain": "sx_rollup", "token": "USDC"}
    assert registry.get_sample_value("arb_wallet_balance_usd", labels) == 42.0


async def test_snapshot_round_trips_through_json() -> None:
    reg = RuntimeRegistry(None, config_hash="cd" * 32, config_sources="default,file")
    await reg.set_chain_health(
        ChainHealth("polygon", rpc_up=True, sequencer_up=True, observed_at=T0)
    )
    await reg.set_balances({"azuro": WalletBalance("azuro", "polygon", "USDT", 9.5, 9.5, low=True)})
    snapshot = await reg.snapshot()
    body = snapshot.to_json()
    assert body["chains"]["polygon"]["observed_at"] == "2026-11-26T12:00:00.000Z"
    assert body["gas_price_gwei"] == {"polygon": None}
    assert RegistrySnapshot.from_json(body) == snapshot


async def test_snapshot_carries_ages_and_marks_values_past_their_limit_stale() -> None:
    clock = FakeClock(T0)
    limits = StaleLimits(chains_s=15.0, balances_s=15.0)
    reg = RuntimeRegistry(None, clock=clock, limits=limits)
    await reg.set_chain_health(
        ChainHealth("arbitrum", rpc_up=True, sequencer_up=True, observed_at=T0)
    )
    await reg.set_balances(
        {
            "sx": WalletBalance("sx", "sx_rollup", "USDC", 42.0, 42.0, observed_at=T0),
            "azuro": WalletBalance("azuro", "polygon", "USDT", None, error="timeout"),
        }
    )
    clock.advance(10)
    fresh = await reg.snapshot()
    assert fresh.chain_freshness("arbitrum") == Freshness(10.0, False)
    assert fresh.balance_freshness("sx") == Freshness(10.0, False)
    assert fresh.balance_freshness("azuro") == Freshness(None, True)  # never read: no age
    clock.advance(5.5)
    body = (await reg.snapshot()).to_json()
    assert (body["chains"]["arbitrum"]["age_s"], body["chains"]["arbitrum"]["stale"]) == (
        15.5,
        True,
    )
    assert (body["balances"]["sx"]["age_s"], body["balances"]["sx"]["stale"]) == (15.5, True)
    assert body["balances"]["sx"]["balance_usd"] == 42.0  # the value stays, marked stale
    assert body["stale_after_s"] == {"chains": 15.0, "balances": 15.0}
    assert RegistrySnapshot.from_json(body) == await reg.snapshot()


def test_limits_come_from_the_config_and_a_future_observation_is_not_negative() -> None:
    cfg = ArbqosConfig(
        heartbeat=HeartbeatConfig(interval_s=20, probe_timeout_s=2),
        balance_watcher=BalanceWatcherConfig(poll_interval_s=10, read_timeout_s=2),
        alerting=AlertingConfig(heartbeat_stale_intervals=4),
    )
    assert StaleLimits.of(cfg) == StaleLimits(chains_s=80.0, balances_s=40.0)
    assert Freshness.of(T0 + timedelta(seconds=3), T0, 20.0) == Freshness(0.0, False)


def test_an_answer_without_ages_parses_as_unknown_freshness() -> None:
    """An orchestrator from before ages: the client says it does not know, not "fresh"."""
    body = {
        "chains": {"polygon": {"chain": "polygon", "rpc_up": True, "sequencer_up": True}},
        "balances": {},
        "config_hash": "",
    }
    snapshot = RegistrySnapshot.from_json(body)
    assert snapshot.chains["polygon"].rpc_up
    assert snapshot.chain_freshness("polygon") is None
    assert snapshot.stale_after is None
