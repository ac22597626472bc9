"""Request models stay in step with the shared registry dataclasses they carry."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from arbqos.registry import ChainHealth, WalletBalance
from arbqos.wire import ChainHealthBody, TargetReport, WalletBalanceBody


def test_bodies_have_the_fields_of_the_shared_dataclasses() -> None:
    assert set(ChainHealthBody.model_fields) == {f.name for f in dataclasses.fields(ChainHealth)}
    assert set(WalletBalanceBody.model_fields) == {
        f.name for f in dataclasses.fields(WalletBalance)
    }


def test_to_json_round_trips_through_the_bodies() -> None:
    moment = datetime(2026, 11, 26, 13, 50, 58, 123000, tzinfo=UTC)
    health = ChainHealth(
        "arbitrum",
        rpc_up=True,
        sequencer_up=False,
        sequencer_status="down",
        head_block=10,
        head_age_s=-0.2,
        gas_price_gwei=0.01,
        rpc_endpoint=1,
        detail="x" * 5000,
        observed_at=moment,
    )
    parsed = ChainHealth.from_wire(ChainHealthBody.model_validate(health.to_json()))
    assert parsed == dataclasses.replace(health, detail="x" * 2000)
    balance = WalletBalance("sx", "sx_rollup", "USDC", 120.5, 120.5, False, moment, None)
    assert WalletBalance.from_wire(WalletBalanceBody.model_validate(balance.to_json())) == balance
    failed = WalletBalance("azuro", "polygon", "USDT", None, error="timeout")
    assert WalletBalance.from_wire(WalletBalanceBody.model_validate(failed.to_json())) == failed
    target = TargetReport.model_validate(
        {"ok": False, "latency_ms": 10000.0, "detail": "t" * 3000, "error": "timeout"}
    )
    assert len(target.detail) == 2000
