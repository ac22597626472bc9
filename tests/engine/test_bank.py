"""The bank: every wallet fresh, or unknown (and said why); a failed read keeps the last one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from arbqos.clock import FakeClock
from arbqos.config import ArbqosConfig
from arbqos.engine import BankReading, read_bank
from arbqos.engine.bank import BankKeeper
from arbqos.instrument import ExecutionTracker
from arbqos.registry import RegistrySnapshot, RuntimeRegistry, WalletBalance

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
WALLETS = ("sx", "azuro")


def balance(wallet: str, usd: float | None, age_s: float = 10.0) -> WalletBalance:
    chain = "sx_rollup" if wallet == "sx" else "polygon"
    return WalletBalance(wallet, chain, "USDC", usd, observed_at=NOW - timedelta(seconds=age_s))


@pytest.mark.parametrize(
    ("balances", "expected"),
    [
        ([balance("sx", 300.0), balance("azuro", 200.0)], BankReading(500.0)),
        ([balance("sx", 300.0)], BankReading(None, missing=("azuro",))),
        ([balance("sx", 300.0), balance("azuro", None)], BankReading(None, missing=("azuro",))),
        ([balance("sx", 300.0, 901), balance("azuro", 2.0)], BankReading(None, stale=("sx",))),
        ([balance("sx", 300.0, 900), balance("azuro", 2.0)], BankReading(302.0)),
        ([balance("sx", 0.0), balance("azuro", 0.0)], BankReading(None)),
    ],
    ids=["fresh", "one missing", "one never read", "one too old", "at the limit", "empty"],
)
def test_the_bank_is_known_only_when_every_wallet_is_fresh(
    balances: list[WalletBalance], expected: BankReading
) -> None:
    got = read_bank({b.wallet: b for b in balances}, WALLETS, now=NOW, max_age_s=900)
    assert got == expected


def test_why_unknown_names_the_wallets() -> None:
    reading = BankReading(None, missing=("azuro",), stale=("sx",))
    assert reading.why_unknown() == "no balance for azuro; balance too old for sx"


class Broken:
    """A registry whose reads fail (or hang) after it answered `good` once."""

    def __init__(self, good: dict[str, WalletBalance], *, hang: bool = False) -> None:
        self.good: dict[str, WalletBalance] | None = good
        self.hang = hang

    async def get_bank(self) -> dict[str, WalletBalance]:
        if self.good is not None:
            good, self.good = self.good, None
            return good
        if self.hang:
            await asyncio.sleep(60)
        raise ConnectionError("registry unreachable")

    async def snapshot(self) -> RegistrySnapshot:  # the rest of RuntimeRegistryAPI
        return RegistrySnapshot()

    async def set_chain_health(self, health: object) -> None:
        return None

    async def sequencer_health(self) -> dict[str, object]:
        return {}

    async def set_balances(self, balances: object) -> None:
        return None


def keeper(clock: FakeClock) -> tuple[BankKeeper, ExecutionTracker]:
    tracker = ExecutionTracker(CollectorRegistry(), ArbqosConfig(), clock=clock)
    return BankKeeper(tracker, WALLETS, max_age_s=900, timeout_s=0.2, clock=clock), tracker


async def test_the_keeper_sets_the_trackers_bank_from_the_registry() -> None:
    clock = FakeClock(NOW)
    runtime = RuntimeRegistry(None)
    await runtime.set_balances({"sx": balance("sx", 300.0), "azuro": balance("azuro", 200.0)})
    bank, tracker = keeper(clock)
    assert (await bank.refresh(runtime)).usd == 500.0
    assert tracker.bank == 500.0
    clock.advance(891)  # the balances are now 901 s old
    assert (await bank.refresh(runtime)) == BankReading(None, stale=("azuro", "sx"))
    assert tracker.bank is None


@pytest.mark.parametrize("hang", [False, True], ids=["raises", "hangs"])
async def test_a_failed_read_keeps_the_last_balances_until_they_age_out(hang: bool) -> None:
    clock = FakeClock(NOW)
    runtime = Broken({"sx": balance("sx", 300.0), "azuro": balance("azuro", 200.0)}, hang=hang)
    bank, tracker = keeper(clock)
    await bank.refresh(runtime)  # type: ignore[arg-type]
    assert (await bank.refresh(runtime)).usd == 500.0  # type: ignore[arg-type]
    clock.advance(891)
    assert (await bank.refresh(runtime)).usd is None  # type: ignore[arg-type]
    assert tracker.bank is None
