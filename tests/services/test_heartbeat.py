"""Heartbeat intake, the dead man's switch on a FakeClock, and the RuntimeRegistry routes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry

from arbqos.clock import SystemClock
from arbqos.config import ArbqosConfig, HeartbeatConfig
from arbqos.services import ControlService, State, create_app
from tests.services.conftest import (
    PAUSE,
    TOKENS,
    Orchestrator,
    chain_health,
    heartbeat_report,
)
from tests.support.wait import eventually_async


async def test_sequencer_down_pauses_and_healthy_report_recovers(orch: Orchestrator) -> None:
    down = await orch.heartbeat(
        arbitrum=chain_health("arbitrum", sequencer_up=False, detail="uptime feed answer 1")
    )
    assert down.status_code == 200
    assert down.json() == {
        "state": "paused",
        "changed": True,
        "down": ['ArbSequencerDown{chain="arbitrum"}'],
    }
    [reason] = (await orch.status())["reasons"]
    assert (reason["source"], reason["name"]) == ("heartbeat", 'ArbSequencerDown{chain="arbitrum"}')
    assert reason["detail"] == "uptime feed answer 1"
    assert orch.metric("arb_sequencer_up", chain="arbitrum") == 0
    assert (await orch.resume()).status_code == 409

    again = await orch.heartbeat(arbitrum=chain_health("arbitrum", sequencer_up=False))
    assert again.json()["changed"] is False

    healthy = await orch.heartbeat()
    assert healthy.json() == {"state": "paused", "changed": True, "down": []}
    assert (await orch.status())["reasons"][0]["active"] is False
    assert orch.metric("arb_sequencer_up", chain="arbitrum") == 1
    assert (await orch.resume()).json()["state"] == "running"


async def test_sx_rpc_down_pauses(orch: Orchestrator) -> None:
    response = await orch.heartbeat(sx_rollup=chain_health("sx_rollup", rpc_up=False))
    assert response.json()["down"] == ['ArbRpcDown{chain="sx_rollup"}']
    assert orch.metric("arb_rpc_up", chain="sx_rollup") == 0
    assert (
        orch.metric("arb_orchestrator_pauses_total", source="heartbeat", reason="ArbRpcDown") == 1
    )
    # Polygon being down is recorded but does not pause by itself.
    await orch.heartbeat(polygon=chain_health("polygon", rpc_up=False))
    assert orch.metric("arb_rpc_up", chain="polygon") == 0
    reasons = (await orch.status())["reasons"]
    assert [(r["name"], r["active"]) for r in reasons] == [('ArbRpcDown{chain="sx_rollup"}', False)]


async def test_force_resume_suppresses_until_healthy(orch: Orchestrator) -> None:
    down = chain_health("arbitrum", sequencer_up=False)
    await orch.heartbeat(arbitrum=down)
    assert (await orch.resume(force=True)).json()["state"] == "running"
    assert (await orch.heartbeat(arbitrum=down)).json()["state"] == "running"
    await orch.heartbeat()
    assert (await orch.heartbeat(arbitrum=down)).json()["state"] == "paused"


async def test_deadman_pauses_after_silence_and_recovers(orch: Orchestrator) -> None:
    window = 3 * 30.0
    assert orch.service.heartbeat_monitor.window_s == window
    await orch.heartbeat()
    orch.clock.advance(window)
    assert orch.service.check_deadman() is False
    orch.clock.advance(0.5)
    assert orch.service.check_deadman() is True
    assert orch.service.check_deadman() is False  # already active: no second pause
    status = await orch.status()
    [reason] = status["reasons"]
    assert (reason["source"], reason["name"]) == ("deadman", "ArbHeartbeatStale")
    assert "90.5 s" in reason["detail"]
    assert status["heartbeat"]["silent_s"] == 90.5
    assert (
        orch.metric("arb_orchestrator_pauses_total", source="deadman", reason="ArbHeartbeatStale")
        == 1
    )
    assert (await orch.resume()).status_code == 409

    assert (await orch.heartbeat()).json()["changed"] is True
    assert (await orch.status())["reasons"][0]["active"] is False
    assert (await orch.resume()).status_code == 200
    entries = await orch.journal(kind="request")
    assert any(e["action"] == "deadman" and e["who"] == "system" for e in entries)


async def test_deadman_fails_closed_without_any_report(orch: Orchestrator) -> None:
    orch.clock.advance(89)
    assert orch.service.check_deadman() is False
    orch.clock.advance(2)
    assert orch.service.check_deadman() is True
    assert "since start-up" in (await orch.status())["reasons"][0]["detail"]


async def test_deadman_rearms_a_full_window_after_forced_resume(orch: Orchestrator) -> None:
    orch.clock.advance(91)
    orch.service.check_deadman()
    assert (await orch.resume(force=True)).json()["state"] == "running"
    orch.clock.advance(60)
    assert orch.service.check_deadman() is False
    orch.clock.advance(31)
    assert orch.service.check_deadman() is True


async def test_deadman_window_follows_config(
    make_orchestrator: Callable[..., Orchestrator],
) -> None:
    config = ArbqosConfig(
        heartbeat=HeartbeatConfig(interval_s=2, probe_timeout_s=1, retry_interval_s=0.5)
    )
    orch = make_orchestrator(config)
    try:
        assert orch.service.heartbeat_monitor.window_s == 6
        orch.clock.advance(6.1)
        assert orch.service.check_deadman() is True
    finally:
        await orch.close()


async def test_deadman_survives_restart_until_a_report(orch: Orchestrator) -> None:
    orch.clock.advance(100)
    orch.service.check_deadman()
    await orch.restart()
    assert (await orch.status())["reasons"][0]["active"] is True
    await orch.heartbeat()
    assert (await orch.status())["reasons"][0]["active"] is False


async def test_heartbeat_validation(orch: Orchestrator) -> None:
    report = heartbeat_report(orch.clock)
    report["chains"]["arbitrum"]["chain"] = "polygon"
    mismatch = await orch.client.post("/v1/heartbeat", json=report, headers=PAUSE)
    assert mismatch.status_code == 422
    assert "chains.arbitrum.chain" in mismatch.json()["message"]

    report = heartbeat_report(orch.clock)
    report["chains"]["arbitrum"]["sequencer_up"] = "yes"
    wrong_type = await orch.client.post("/v1/heartbeat", json=report, headers=PAUSE)
    assert wrong_type.status_code == 422
    assert wrong_type.json()["errors"][0]["field"] == "body.chains.arbitrum.sequencer_up"

    report = heartbeat_report(orch.clock)
    report["ts"] = "2026-11-26T00:00:00"
    naive = await orch.client.post("/v1/heartbeat", json=report, headers=PAUSE)
    assert naive.status_code == 422
    assert naive.json()["errors"][0]["field"] == "body.ts"

    report = heartbeat_report(orch.clock)
    report["chains"]["solana"] = chain_health("solana")
    unknown = await orch.client.post("/v1/heartbeat", json=report, headers=PAUSE)
    assert unknown.status_code == 422
    assert (await orch.status())["state"] == "running"


async def test_registry_routes_update_gauges(orch: Orchestrator) -> None:
    health = chain_health("polygon", gas_price_gwei=31.5, head_block=123, head_age_s=2.0)
    put = await orch.client.put("/v1/registry/chains/polygon", json=health, headers=PAUSE)
    assert put.status_code == 200
    assert put.json()["chains"]["polygon"]["gas_price_gwei"] == 31.5
    assert orch.metric("arb_gas_price_gwei", chain="polygon") == 31.5
    assert orch.metric("arb_chain_head_block", chain="polygon") == 123

    mismatch = await orch.client.put("/v1/registry/chains/arbitrum", json=health, headers=PAUSE)
    assert mismatch.status_code == 422
    assert "path" in mismatch.json()["message"]
    unknown = await orch.client.put("/v1/registry/chains/solana", json=health, headers=PAUSE)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "path.chain"

    balances = {
        "balances": {
            "sx": {
                "wallet": "sx",
                "chain": "sx_rollup",
                "token": "USDC",
                "balance_usd": 120.5,
                "balance_units": 120.5,
                "low": False,
                "observed_at": "2026-11-26T00:00:00.000Z",
                "error": None,
            }
        }
    }
    put = await orch.client.put("/v1/registry/balances", json=balances, headers=PAUSE)
    assert put.status_code == 200
    assert (
        orch.metric("arb_wallet_balance_usd", wallet="sx", chain="sx_rollup", token="USDC") == 120.5
    )
    snapshot = (await orch.client.get("/v1/registry")).json()
    assert snapshot["balances"]["sx"]["balance_usd"] == 120.5
    assert snapshot["config_hash"] == "c" * 64

    balances["balances"]["sx"]["wallet"] = "azuro"
    wrong = await orch.client.put("/v1/registry/balances", json=balances, headers=PAUSE)
    assert wrong.status_code == 422
    actions = {e["action"] for e in await orch.journal(kind="request")}
    assert {"registry_chain", "registry_balances"} <= actions


async def test_metrics_endpoint_exports_contract_series(orch: Orchestrator) -> None:
    await orch.heartbeat()
    text = (await orch.client.get("/metrics")).text
    assert "arb_orchestrator_paused 0.0" in text
    assert 'arb_orchestrator_pauses_total{reason="ArbFillRatioLow",source="alert"} 0.0' in text
    assert 'arb_sequencer_up{chain="arbitrum"} 1.0' in text
    assert (await orch.client.get("/healthz")).json() == {"status": "ok"}


async def test_background_task_runs_the_deadman_on_the_real_clock(tmp_path: Path) -> None:
    config = ArbqosConfig(
        heartbeat=HeartbeatConfig(interval_s=0.05, probe_timeout_s=0.01, retry_interval_s=0.02)
    )
    registry = CollectorRegistry()
    service = ControlService.build(
        config,
        state_dir=tmp_path / "state",
        clock=SystemClock(),
        registry=registry,
        config_hash="c" * 64,
    )
    app = create_app(
        service, TOKENS, registry=registry, max_body_bytes=65536, background_interval_s=0.02
    )
    try:
        async with app.router.lifespan_context(app):
            await eventually_async(
                lambda: service.control.state is State.PAUSED, 2.0, what="the dead-man pause"
            )
        assert [(r.source, r.name) for r in service.control.reasons] == [
            ("deadman", "ArbHeartbeatStale")
        ]
    finally:
        service.close()


async def test_old_or_future_reports_are_refused_naming_the_age(orch: Orchestrator) -> None:
    report = heartbeat_report(orch.clock)
    orch.clock.advance(31)
    old = await orch.client.post("/v1/heartbeat", json=report, headers=PAUSE)
    assert old.status_code == 422
    assert old.json()["error"] == "stale_report"
    assert "31.0 s old" in old.json()["message"]
    ahead = heartbeat_report(orch.clock)
    ahead["ts"] = "2030-01-01T00:00:00.000Z"
    future = await orch.client.post("/v1/heartbeat", json=ahead, headers=PAUSE)
    assert future.status_code == 422
    assert "in the future" in future.json()["message"]
    assert orch.service.heartbeat_monitor.status()["last_report"] is None
