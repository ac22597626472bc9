"""Fixtures for the orchestrator: an in-process app on a FakeClock, payload builders, tokens."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from arbqos.clock import FakeClock, format_ts
from arbqos.config import ArbqosConfig
from arbqos.notify import Channel
from arbqos.services import ControlService, Tokens, create_app

ADMIN_TOKEN = "admin-" + "a" * 32
PAUSE_TOKEN = "pause-" + "p" * 32
TOKENS = Tokens(admin=ADMIN_TOKEN, pause=PAUSE_TOKEN)
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PAUSE = {"Authorization": f"Bearer {PAUSE_TOKEN}"}
CONFIG_HASH = "c" * 64


class Orchestrator:
    """An orchestrator app on a FakeClock with an httpx client; `restart()` reopens the state."""

    def __init__(
        self,
        root: Path,
        clock: FakeClock,
        config: ArbqosConfig,
        channels: tuple[Channel, ...] = (),
    ) -> None:
        self.root = root
        self.clock = clock
        self.config = config
        self.channels = channels
        self.state_dir = root / "state"
        self.alert_log = root / "monitoring" / "alert_events.log"
        self._build()

    def _build(self) -> None:
        self.registry = CollectorRegistry()
        self.service = ControlService.build(
            self.config,
            state_dir=self.state_dir,
            clock=self.clock,
            registry=self.registry,
            config_hash=CONFIG_HASH,
            config_sources="default",
            alert_log_path=self.alert_log,
            channels=self.channels,
        )
        self.app = create_app(
            self.service,
            TOKENS,
            registry=self.registry,
            max_body_bytes=self.config.orchestrator.max_body_bytes,
        )
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://orchestrator"
        )

    async def restart(self) -> None:
        """Close everything and build a new service on the same state directory."""
        await self.close()
        self._build()

    async def close(self) -> None:
        """Close the client and the service."""
        await self.client.aclose()
        self.service.close()

    async def status(self) -> dict[str, Any]:
        """GET /v1/status."""
        response = await self.client.get("/v1/status")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def pause(self, reason: str, source: str = "manual", **extra: Any) -> httpx.Response:
        """POST /v1/pause with the pause token."""
        return await self.client.post(
            "/v1/pause", json={"reason": reason, "source": source, **extra}, headers=PAUSE
        )

    async def resume(self, force: bool | None = None) -> httpx.Response:
        """POST /v1/resume with the admin token."""
        body = None if force is None else {"force": force}
        return await self.client.post("/v1/resume", json=body, headers=ADMIN)

    async def alerts(self, *alerts: dict[str, Any], status: str = "firing") -> httpx.Response:
        """POST /v1/alertmanager with the pause token."""
        return await self.client.post(
            "/v1/alertmanager", json=am_payload(list(alerts), status=status), headers=PAUSE
        )

    async def heartbeat(self, **chains: dict[str, Any]) -> httpx.Response:
        """POST /v1/heartbeat with the given chain overrides."""
        return await self.client.post(
            "/v1/heartbeat", json=heartbeat_report(self.clock, **chains), headers=PAUSE
        )

    async def journal(self, limit: int = 100, kind: str | None = None) -> list[dict[str, Any]]:
        """GET /v1/journal."""
        params: dict[str, Any] = {"limit": limit}
        if kind:
            params["kind"] = kind
        response = await self.client.get("/v1/journal", params=params)
        assert response.status_code == 200, response.text
        entries: list[dict[str, Any]] = response.json()["entries"]
        return entries

    def metric(self, name: str, **labels: str) -> float | None:
        """Read one sample from the service's registry."""
        value: float | None = self.registry.get_sample_value(name, labels)
        return value

    def alert_events(self) -> list[dict[str, Any]]:
        """Lines of monitoring/alert_events.log."""
        if not self.alert_log.exists():
            return []
        return [json.loads(line) for line in self.alert_log.read_text().splitlines()]


def am_alert(
    alertname: str = "ArbFillRatioLow",
    *,
    status: str = "firing",
    fingerprint: str = "c9a334cdadbe7bf0",
    starts_at: str = "2026-11-26T13:56:03.87Z",
    action: str | None = "pause",
    **labels: str,
) -> dict[str, Any]:
    """One alert as Alertmanager 0.25 sends it (shape of prometheus_notes.md A.6)."""
    all_labels = {
        "alertname": alertname,
        "instance": "127.0.0.1:9101",
        "job": "arb_engine",
        "severity": "critical",
        **labels,
    }
    if action is not None:
        all_labels["action"] = action
    return {
        "status": status,
        "labels": all_labels,
        "annotations": {"summary": f"{alertname} summary"},
        "startsAt": starts_at,
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-26T14:00:00.1Z",
        "generatorURL": "http://prometheus/graph?g0.expr=x",
        "fingerprint": fingerprint,
    }


def am_payload(alerts: list[dict[str, Any]], status: str = "firing") -> dict[str, Any]:
    """A version 4 webhook body around `alerts`."""
    common = alerts[0]["labels"] if alerts else {}
    return {
        "receiver": "orchestrator",
        "status": status,
        "alerts": alerts,
        "groupLabels": {"alertname": common.get("alertname", "")},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "version": "4",
        "groupKey": '{}:{alertname="x"}',
        "truncatedAlerts": 0,
    }


def chain_health(chain: str, **overrides: Any) -> dict[str, Any]:
    """A healthy `ChainHealth.to_json()` for `chain`."""
    body = {
        "chain": chain,
        "rpc_up": True,
        "sequencer_up": True,
        "sequencer_status": "up",
        "head_block": 1000,
        "head_age_s": 0.5,
        "gas_price_gwei": 0.01,
        "rpc_endpoint": 0,
        "detail": "",
        "observed_at": "2026-11-26T00:00:00.000Z",
    }
    body.update(overrides)
    return body


def heartbeat_report(clock: FakeClock, tick: int = 1, **chains: dict[str, Any]) -> dict[str, Any]:
    """A heartbeat report with every chain healthy unless overridden."""
    all_chains = {name: chain_health(name) for name in ("sx_rollup", "arbitrum", "polygon")}
    all_chains.update(chains)
    return {
        "ts": format_ts(clock.now_utc()),
        "tick": tick,
        "config_hash": CONFIG_HASH,
        "interval_s": 30.0,
        "chains": all_chains,
        "targets": {"sx_rollup": {"ok": True, "latency_ms": 12.5, "detail": ""}},
    }


@pytest.fixture
def make_orchestrator(tmp_path: Path, fake_clock: FakeClock) -> Callable[..., Orchestrator]:
    """Build an Orchestrator; pass `config=` for variants (defaults: production defaults)."""

    def make(
        config: ArbqosConfig | None = None, channels: tuple[Channel, ...] = ()
    ) -> Orchestrator:
        return Orchestrator(tmp_path, fake_clock, config or ArbqosConfig(), channels)

    return make


@pytest.fixture
async def orch(make_orchestrator: Callable[..., Orchestrator]) -> AsyncIterator[Orchestrator]:
    """An orchestrator with production defaults."""
    instance = make_orchestrator()
    yield instance
    await instance.close()
