"""StaticBank: configured balances in USD; build_bank picks it for `bank_source: static`."""

from __future__ import annotations

import httpx
import pytest

from arbqos.bank import StaticBank, build_bank, error_kind, error_text, usd_value
from arbqos.clock import FakeClock
from arbqos.config.schema import ArbqosConfig, RiskConfig
from tests.bank.conftest import wallets


async def test_static_bank_returns_configured_balances(fake_clock: FakeClock) -> None:
    configured = wallets(
        sx={"static_balance": 120.25},
        azuro={"static_balance": 8, "token": "WPOL", "stablecoin": False, "usd_price": 0.5},
    )
    balances = await StaticBank(configured, clock=fake_clock).read_balances()
    assert balances["sx"].balance_usd == pytest.approx(120.25)
    assert balances["azuro"].balance_units == pytest.approx(8.0)
    assert balances["azuro"].balance_usd == pytest.approx(4.0)
    assert balances["sx"].observed_at == fake_clock.now_utc()
    assert all(b.error is None for b in balances.values())


def test_static_bank_needs_every_static_balance(fake_clock: FakeClock) -> None:
    with pytest.raises(ValueError, match=r"static_balance; missing for \['azuro'\]"):
        StaticBank(wallets(sx={"static_balance": 1}), clock=fake_clock)


async def test_build_bank_uses_static_source(fake_clock: FakeClock) -> None:
    risk = RiskConfig(
        bank_source="static",
        wallets=wallets(sx={"static_balance": 30}, azuro={"static_balance": 3}),
    )
    async with httpx.AsyncClient() as client:
        bank = build_bank(ArbqosConfig(risk=risk), http=client, clock=fake_clock)
        balances = await bank.read_balances()
    assert isinstance(bank, StaticBank)
    assert {n: b.balance_usd for n, b in balances.items()} == {"sx": 30.0, "azuro": 3.0}


def test_usd_value_and_error_kinds() -> None:
    configured = wallets(azuro={"token": "WPOL", "stablecoin": False, "usd_price": 0.2})
    assert usd_value(configured["sx"], 12.5) == 12.5
    assert usd_value(configured["azuro"], 10) == pytest.approx(2.0)
    assert error_kind(error_text("timeout", "slow")) == "timeout"
    assert error_text("made_up", "x") == "error: x"
    assert error_kind("something odd happened") == "error"
    assert error_kind(None) == "error"
