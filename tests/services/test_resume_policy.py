"""Resume policy: infrastructure reasons lift themselves, QoS and manual ones latch, escalation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbqos.config import ArbqosConfig, OrchestratorConfig
from arbqos.services.policy import ResumePolicy, reason_class
from arbqos.services.state import Reason
from arbqos.vocab import ReasonClass
from tests.services.conftest import Orchestrator, am_alert, chain_health

NOW = datetime(2026, 11, 26, tzinfo=UTC)
RPC = 'ArbRpcDown{chain="sx_rollup"}'
SEQ_ARB = 'ArbSequencerDown{chain="arbitrum"}'


@pytest.mark.parametrize(
    ("source", "name", "expected"),
    [
        ("heartbeat", RPC, ReasonClass.INFRA),
        ("deadman", "ArbHeartbeatStale", ReasonClass.INFRA),
        ("alert", 'ArbSequencerDown{chain="sx_rollup"}', ReasonClass.INFRA),
        ("alert", "ArbHeartbeatStale", ReasonClass.INFRA),
        ("alert", 'ArbFillRatioLow{venue="sx"}', ReasonClass.QOS),
        ("alert", "SomeCustomAlert", ReasonClass.QOS),
        ("guard", "ArbAcceptTimeP95High", ReasonClass.QOS),
        ("manual", "maintenance", ReasonClass.MANUAL),
        ("system", "StateLost", ReasonClass.MANUAL),
        ("system", "StateNotPersisted", ReasonClass.INFRA),
    ],
)
def test_every_reason_has_a_class(source: str, name: str, expected: ReasonClass) -> None:
    assert reason_class(source, name) is expected


async def rpc_down(orch: Orchestrator) -> None:
    response = await orch.heartbeat(sx_rollup=chain_health("sx_rollup", rpc_up=False))
    assert response.json()["state"] == "paused"


async def healthy(orch: Orchestrator) -> None:
    assert (await orch.heartbeat()).status_code == 200


async def test_infrastructure_pause_lifts_itself_after_the_grace(orch: Orchestrator) -> None:
    await rpc_down(orch)
    [reason] = (await orch.status())["reasons"]
    assert (reason["class"], reason["active"]) == ("infra", True)
    assert "its signal to recover" in reason["waiting_for"]
    orch.clock.advance(120)
    assert orch.service.check_auto_resume() is False, "still down: never lifts"
    await healthy(orch)
    status = await orch.status()
    assert status["reasons"][0]["waiting_for"] == "resumes by itself in 60 s"
    assert status["resume"]["next_auto_resume_at"] == "2026-11-26T00:03:00.000Z"
    orch.clock.advance(59)
    assert orch.service.check_auto_resume() is False
    orch.clock.advance(1)
    assert orch.service.check_auto_resume() is True
    assert (await orch.status())["state"] == "running"
    [entry] = await orch.journal(limit=1, kind="request")
    assert (entry["action"], entry["who"]) == ("auto_resume", "system")
    assert entry["data"]["cleared"] == [f"heartbeat:{RPC}"]
    assert orch.metric("arb_orchestrator_auto_resumes_total") == 1


async def test_grace_waits_for_every_infrastructure_reason(orch: Orchestrator) -> None:
    await rpc_down(orch)
    down = chain_health("arbitrum", sequencer_up=False)
    await orch.heartbeat(sx_rollup=chain_health("sx_rollup"), arbitrum=down)
    reasons = {r["name"]: r for r in (await orch.status())["reasons"]}
    assert "once these recover too" in reasons[RPC]["waiting_for"]
    orch.clock.advance(300)
    assert orch.service.check_auto_resume() is False
    await healthy(orch)
    orch.clock.advance(60)
    assert orch.service.check_auto_resume() is True


async def test_qos_and_manual_reasons_latch(orch: Orchestrator) -> None:
    await orch.alerts(am_alert(venue="sx"))
    await orch.alerts(am_alert(venue="sx", status="resolved"), status="resolved")
    await orch.pause("maintenance")
    orch.clock.advance(86400)
    assert orch.service.check_auto_resume() is False
    status = await orch.status()
    assert status["state"] == "paused"
    assert {r["class"] for r in status["reasons"]} == {"qos", "manual"}
    assert all("an admin" in r["waiting_for"] for r in status["reasons"])


async def test_infra_lifts_but_qos_keeps_trading_paused(orch: Orchestrator) -> None:
    await orch.pause("ArbFillRatioLow", source="guard")
    await rpc_down(orch)
    await healthy(orch)
    orch.clock.advance(61)
    assert orch.service.check_auto_resume() is False, "trading stays paused for the guard"
    status = await orch.status()
    assert [r["name"] for r in status["reasons"]] == ["ArbFillRatioLow"]
    [entry] = await orch.journal(limit=1, kind="request")
    assert entry["action"] == "infra_lifted"


async def flap(orch: Orchestrator) -> bool:
    await rpc_down(orch)
    await healthy(orch)
    orch.clock.advance(61)
    return orch.service.check_auto_resume()


async def test_too_many_automatic_resumes_escalate_to_a_person(orch: Orchestrator) -> None:
    assert [await flap(orch) for _ in range(3)] == [True, True, True]
    await rpc_down(orch)
    [reason] = (await orch.status())["reasons"]
    assert reason["escalated"] is True
    assert "escalated after 3 automatic resumes" in reason["waiting_for"]
    await healthy(orch)
    orch.clock.advance(3600)
    assert orch.service.check_auto_resume() is False
    assert (await orch.status())["state"] == "paused"
    assert (await orch.resume()).json()["state"] == "running"
    # An hour after the resumes, infrastructure pauses lift themselves again.
    assert await flap(orch) is True


async def test_escalation_count_survives_a_restart(orch: Orchestrator) -> None:
    for _ in range(3):
        assert await flap(orch) is True
    await orch.restart()
    assert (await orch.status())["resume"]["auto_resumes_last_hour"] == 3
    await rpc_down(orch)
    assert (await orch.status())["reasons"][0]["escalated"] is True


async def test_restart_in_the_middle_of_a_grace_keeps_the_elapsed_time(
    orch: Orchestrator,
) -> None:
    await rpc_down(orch)
    await healthy(orch)
    orch.clock.advance(40)
    await orch.restart()
    assert orch.service.check_auto_resume() is False
    orch.clock.advance(20)
    assert orch.service.check_auto_resume() is True


async def test_restart_during_an_outage_keeps_waiting(orch: Orchestrator) -> None:
    await rpc_down(orch)
    orch.clock.advance(600)
    await orch.restart()
    orch.clock.advance(600)
    assert orch.service.check_auto_resume() is False
    assert (await orch.status())["reasons"][0]["active"] is True


async def test_settings_change_the_grace_and_the_cap(
    make_orchestrator: Callable[..., Orchestrator],
) -> None:
    config = ArbqosConfig(
        orchestrator=OrchestratorConfig(infra_resume_after_s=5, max_auto_resumes=0)
    )
    orch = make_orchestrator(config)
    try:
        await rpc_down(orch)
        assert (await orch.status())["reasons"][0]["escalated"] is True
    finally:
        await orch.close()


@settings(max_examples=200, deadline=None)
@given(
    kinds=st.lists(
        st.sampled_from(["infra", "qos", "manual", "infra_escalated"]), min_size=1, max_size=6
    ),
    active=st.lists(st.booleans(), min_size=6, max_size=6),
)
def test_policy_only_lifts_recovered_unescalated_infrastructure(
    kinds: list[str], active: list[bool]
) -> None:
    names = {
        "infra": ("heartbeat", RPC),
        "infra_escalated": ("heartbeat", SEQ_ARB),
        "qos": ("guard", "ArbFillRatioLow"),
        "manual": ("manual", "maintenance"),
    }
    reasons = [
        Reason(
            *names[kind],
            since=NOW + timedelta(seconds=i),
            active=active[i],
            escalated=kind == "infra_escalated",
        )
        for i, kind in enumerate(kinds)
    ]
    lifted = ResumePolicy(infra_resume_after_s=60, max_auto_resumes=3).liftable(reasons)
    infra = [r for r in reasons if reason_class(r.source, r.name) is ReasonClass.INFRA]
    assert all(reason_class(r.source, r.name) is ReasonClass.INFRA for r in lifted)
    assert not any(r.escalated for r in lifted)
    if any(r.active for r in infra):
        assert lifted == []
    else:
        assert lifted == [r for r in infra if not r.escalated]
