"""One definition of each JSON shape: what the real app sends is exactly its wire model."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import httpx
from pydantic import BaseModel

from arbqos.clock import FakeClock
from arbqos.config import ArbqosConfig
from arbqos.registry import RegistrySnapshot, WalletBalance
from arbqos.sdk import AsyncOrchestratorClient
from arbqos.wire import (
    AlertmanagerResponse,
    ErrorResponse,
    HeartbeatResponse,
    JournalResponse,
    PauseResponse,
    RegistryResponse,
    ResumeRefusedResponse,
    ResumeResponse,
    StatusResponse,
)
from tests.services.conftest import (
    ADMIN_TOKEN,
    PAUSE,
    Orchestrator,
    am_alert,
    chain_health,
)

M = TypeVar("M", bound=BaseModel)
SEEN = datetime(2026, 11, 26, 13, 50, 58, 123000, tzinfo=UTC)


def exactly(model: type[M], response: httpx.Response, status: int = 200) -> M:
    """Parse an answer refusing any field the model does not define (the SDK itself ignores
    them, so a newer orchestrator still parses; here a field missing from the model fails)."""
    assert response.status_code == status, response.text
    return model.model_validate(response.json(), extra="forbid")


async def test_every_answer_of_the_app_is_exactly_its_wire_model(tmp_path: Path) -> None:
    clock = FakeClock(start=SEEN)
    orch = Orchestrator(tmp_path, clock, ArbqosConfig())
    http = orch.client
    try:
        exactly(StatusResponse, await http.get("/v1/status"))
        exactly(PauseResponse, await orch.pause("maintenance", detail="db upgrade"))
        exactly(AlertmanagerResponse, await orch.alerts(am_alert()))
        down = chain_health("arbitrum", sequencer_up=False, sequencer_status="down")
        exactly(HeartbeatResponse, await orch.heartbeat(arbitrum=down))
        clock.advance(1.0)
        exactly(HeartbeatResponse, await orch.heartbeat())  # arbitrum recovers: inactive
        status = exactly(StatusResponse, await http.get("/v1/status"))
        assert status.paused and any(r.inactive_since for r in status.reasons)
        assert status.heartbeat is not None and status.heartbeat.last_report is not None
        refused = exactly(ResumeRefusedResponse, await orch.resume(), status=409)
        assert [r.source for r in refused.active_reasons] == ["alert"]
        assert exactly(ResumeResponse, await orch.resume(force=True)).cleared
        polygon = chain_health("polygon")
        put = await http.put("/v1/registry/chains/polygon", json=polygon, headers=PAUSE)
        entry = exactly(RegistryResponse, put).chains["polygon"]
        assert entry.model_dump(mode="json", exclude={"age_s", "stale"}) == polygon
        assert entry.age_s is not None and entry.stale is not None
        balance = WalletBalance("sx", "sx_rollup", "USDC", 80.0, 80.0, False, SEEN)
        body = {"balances": {"sx": balance.to_json()}}
        exactly(RegistryResponse, await http.put("/v1/registry/balances", json=body, headers=PAUSE))
        registry = exactly(RegistryResponse, await http.get("/v1/registry"))
        assert set(registry.chains) == {"arbitrum", "polygon", "sx_rollup"}
        journal = exactly(JournalResponse, await http.get("/v1/journal"))
        assert {e.kind for e in journal.entries} == {"request", "reason", "transition"}
        unknown = {"reason": "x", "sauce": "guard"}
        exactly(ErrorResponse, await http.post("/v1/pause", json=unknown, headers=PAUSE), 422)
        exactly(ErrorResponse, await http.post("/v1/pause", json={"reason": "x"}), 401)
    finally:
        await orch.close()


async def test_the_sdk_reads_what_the_server_holds(tmp_path: Path) -> None:
    orch = Orchestrator(tmp_path, FakeClock(start=SEEN), ArbqosConfig())
    sdk = AsyncOrchestratorClient("http://orchestrator", ADMIN_TOKEN, http=orch.client)
    try:
        await orch.heartbeat()
        balance = WalletBalance("azuro", "polygon", "USDT", None, error="timeout: slow")
        await sdk.put_balances({"azuro": balance.to_wire()})
        held = await orch.service.runtime.snapshot()
        read = RegistrySnapshot.from_wire(await sdk.registry())
        assert replace(read, freshness={}) == replace(held, freshness={})  # ages move on
        assert read.freshness.keys() == held.freshness.keys()
        assert held.balances["azuro"] == balance
        raw = (await orch.client.get("/v1/status")).json()
        assert (await sdk.status()).model_dump() == StatusResponse.model_validate(raw).model_dump()
    finally:
        await orch.close()


async def test_a_moment_that_would_not_render_back_is_refused_not_a_server_error(
    tmp_path: Path,
) -> None:
    orch = Orchestrator(tmp_path, FakeClock(start=SEEN), ArbqosConfig())
    try:
        for moment in ("0999-01-01T00:00:00Z", "9999-12-31T23:00:00-14:00"):
            body = chain_health("polygon", observed_at=moment)
            put = await orch.client.put("/v1/registry/chains/polygon", json=body, headers=PAUSE)
            error = exactly(ErrorResponse, put, status=422)
            assert "observed_at: Value error, must lie between 1970 and 9999" in error.message
        assert exactly(RegistryResponse, await orch.client.get("/v1/registry")).chains == {}
    finally:
        await orch.close()
