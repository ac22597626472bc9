"""Client SDK against a served orchestrator: status, cached trading_allowed, fail closed."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from prometheus_client import CollectorRegistry

from arbqos.clock import FakeClock, SystemClock, format_ts
from arbqos.config import ArbqosConfig, EndpointsConfig, OrchestratorConfig
from arbqos.errors import OrchestratorError
from arbqos.sdk import AsyncOrchestratorClient, OrchestratorClient
from arbqos.services import ControlService, create_app
from arbqos_harness.process import free_port, wait_for_http
from tests.services.conftest import ADMIN_TOKEN, PAUSE, PAUSE_TOKEN, TOKENS, am_alert, am_payload

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """An orchestrator served by uvicorn on a loopback port, in a thread."""
    registry = CollectorRegistry()
    service = ControlService.build(
        ArbqosConfig(),
        state_dir=tmp_path / "state",
        clock=SystemClock(),
        registry=registry,
        config_hash="c" * 64,
    )
    app = create_app(service, TOKENS, registry=registry, max_body_bytes=65536)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    wait_for_http(f"{base}/healthz", timeout_s=10)
    yield base
    server.should_exit = True
    thread.join(timeout=10)
    service.close()


def test_sync_client_workflow(served: str) -> None:
    clock = FakeClock()
    with (
        OrchestratorClient(served, PAUSE_TOKEN, cache_s=1.0, clock=clock) as bot,
        OrchestratorClient(served, ADMIN_TOKEN) as admin,
    ):
        status = bot.status()
        assert status.state == "running" and not status.paused
        assert status.config_hash == "c" * 64
        assert bot.trading_allowed() is True

        # Someone else pauses: the cached answer holds for cache_s, then the pause shows.
        httpx.post(f"{served}/v1/pause", json={"reason": "other"}, headers=PAUSE)
        assert bot.trading_allowed() is True
        clock.advance(1.0)
        assert bot.trading_allowed() is False

        assert bot.pause("ArbFillRatioLow", "fill 0.41 < 0.85", source="guard") is True
        assert bot.pause("ArbFillRatioLow", source="guard") is False
        reasons = {(r.source, r.name) for r in bot.status().reasons}
        assert reasons == {("manual", "other"), ("guard", "ArbFillRatioLow")}

        with pytest.raises(OrchestratorError) as refused:
            bot.resume()
        assert refused.value.status == 403
        assert "admin token" in str(refused.value)
        assert admin.resume(detail="checked") is True
        assert bot.trading_allowed() is True  # pause() dropped the cache; clock unchanged

        httpx.post(f"{served}/v1/alertmanager", json=am_payload([am_alert()]), headers=PAUSE)
        with pytest.raises(OrchestratorError) as active:
            admin.resume()
        assert active.value.status == 409
        assert isinstance(active.value.body, dict)
        assert active.value.body["active_reasons"][0]["source"] == "alert"
        assert admin.resume(force=True) is True

    with (
        OrchestratorClient(served) as anonymous,
        pytest.raises(OrchestratorError, match="needs a token"),
    ):
        anonymous.pause("x")


async def test_async_client_workflow(served: str) -> None:
    async with (
        AsyncOrchestratorClient(served, PAUSE_TOKEN, cache_s=0) as bot,
        AsyncOrchestratorClient(served, ADMIN_TOKEN) as admin,
    ):
        assert await bot.trading_allowed() is True
        assert await bot.pause("maintenance", "db upgrade") is True
        assert await bot.trading_allowed() is False
        status = await bot.status()
        assert status.reasons[0].detail == "db upgrade"
        assert await admin.resume() is True
        assert await bot.trading_allowed() is True
        report = {
            "ts": format_ts(SystemClock().now_utc()),
            "tick": 1,
            "config_hash": "c" * 64,
            "interval_s": 30,
            "chains": {},
            "targets": {},
        }
        assert (await bot.report_heartbeat(report))["state"] == "running"


def test_fail_closed_when_unreachable() -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    with OrchestratorClient(closed, timeout_s=0.5) as client:
        assert client.trading_allowed() is False
        with pytest.raises(httpx.ConnectError):
            client.status()
    with OrchestratorClient(closed, timeout_s=0.5, fail_closed=False) as client:
        assert client.trading_allowed() is True


def test_fail_closed_on_a_hung_server() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # accepts the TCP handshake, never answers
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with OrchestratorClient(url, timeout_s=0.3) as client:
            started = time.monotonic()
            assert client.trading_allowed() is False
            assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>not the orchestrator</html>"),
        httpx.Response(200, json={"state": "maybe", "reasons": [], "since": "x"}),
        httpx.Response(200, json={"unexpected": True}),
        httpx.Response(500, json={"error": "x", "message": "boom"}),
    ],
)
def test_fail_closed_on_a_wrong_answer(answer: httpx.Response) -> None:
    http = httpx.Client(transport=httpx.MockTransport(lambda request: answer))
    with OrchestratorClient("http://127.0.0.1:8700", http=http) as client:
        assert client.trading_allowed() is False


def test_client_settings_from_config() -> None:
    config = ArbqosConfig(
        endpoints=EndpointsConfig(orchestrator_url="http://127.0.0.1:9999"),
        orchestrator=OrchestratorConfig(
            client_fail_closed=False, client_cache_s=2, client_timeout_s=1
        ),
    )
    client = OrchestratorClient.from_config(config, token="t")
    assert (client.base_url, client.fail_closed, client.cache_s, client.timeout_s) == (
        "http://127.0.0.1:9999",
        False,
        2,
        1,
    )
    client.close()
    with pytest.raises(ValueError, match="expected http://host:port"):
        OrchestratorClient("127.0.0.1:8700")
