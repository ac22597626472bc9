"""Client SDK against a served orchestrator: every call, cached trading_allowed, fail closed."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from arbqos.clock import FakeClock, SystemClock, format_ts
from arbqos.config import ArbqosConfig, EndpointsConfig, OrchestratorConfig
from arbqos.errors import OrchestratorError
from arbqos.sdk import AsyncOrchestratorClient, OrchestratorCallError, OrchestratorClient, Route
from arbqos.wire import ChainHealthBody, WalletBalanceBody
from arbqos_harness.process import free_port
from tests.services.conftest import ADMIN_TOKEN, PAUSE, PAUSE_TOKEN, am_alert, am_payload
from tests.support.wait import returns_within

pytestmark = pytest.mark.timeout(30)
SEEN = datetime(2026, 11, 26, 13, 50, 58, 123000, tzinfo=UTC)


def test_sync_client_workflow(served: str) -> None:
    clock = FakeClock()
    with (
        OrchestratorClient(served, PAUSE_TOKEN, cache_s=1.0, clock=clock) as bot,
        OrchestratorClient(served, ADMIN_TOKEN) as admin,
    ):
        status = bot.status()
        assert status.state == "running" and not status.paused
        assert status.config_hash == "c" * 64
        assert status.heartbeat is not None and status.heartbeat.deadman_enabled
        assert bot.trading_allowed() is True

        # Someone else pauses: the cached answer holds for cache_s, then the pause shows.
        httpx.post(bot.url(Route.PAUSE), json={"reason": "other"}, headers=PAUSE)
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
        assert "admin token" in str(refused.value) and "ARBQOS_ADMIN_TOKEN" in str(refused.value)
        assert admin.resume(detail="checked") is True
        assert bot.trading_allowed() is True  # pause() dropped the cache; clock unchanged

        httpx.post(bot.url("/v1/alertmanager"), json=am_payload([am_alert()]), headers=PAUSE)
        with pytest.raises(OrchestratorError) as active:
            admin.resume()
        assert active.value.status == 409
        assert isinstance(active.value.body, dict)
        assert active.value.body["active_reasons"][0]["source"] == "alert"
        assert admin.resume(force=True) is True
        kinds = [(e.kind, e.action) for e in admin.journal(limit=3, kind="request")]
        assert kinds == [("request", "resume"), ("request", "resume"), ("request", "alertmanager")]

    with OrchestratorClient(served) as anonymous:
        with pytest.raises(OrchestratorCallError, match="needs the pause token") as missing:
            anonymous.pause("x")
        assert missing.value.reason == "no token" and missing.value.status is None


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
        answer = await bot.report_heartbeat(report)
        assert (answer.state, answer.changed, answer.down) == ("running", False, [])
        last = (await bot.status()).heartbeat
        assert last is not None and last.last_report is not None and last.last_report.tick == 1


AGE = {"age_s", "stale"}
"""Fields of a registry answer that depend on when it was made."""


async def test_registry_calls_round_trip(served: str) -> None:
    health = ChainHealthBody(
        chain="arbitrum", rpc_up=True, sequencer_up=False, sequencer_status="down", head_block=9
    )
    balance = WalletBalanceBody(
        wallet="sx", chain="sx_rollup", token="USDC", balance_usd=12.5, low=True, observed_at=SEEN
    )
    async with AsyncOrchestratorClient(served, PAUSE_TOKEN) as client:
        after = await client.put_chain_health(health)
        assert after.chains["arbitrum"].model_dump(exclude=AGE) == health.model_dump()
        assert after.chains["arbitrum"].stale  # no observation time: not live
        assert after.gas_price_gwei == {"arbitrum": None}
        after = await client.put_balances({"sx": balance})
        assert after.balances["sx"].model_dump(exclude=AGE) == balance.model_dump()
        again = await client.registry()
        assert again.model_dump(exclude={"balances": {"sx": AGE}, "chains": {"arbitrum": AGE}}) == (
            after.model_dump(exclude={"balances": {"sx": AGE}, "chains": {"arbitrum": AGE}})
        )
        actions = [e.action for e in await client.journal(kind="request")]
        assert actions[:2] == ["registry_balances", "registry_chain"]
    with OrchestratorClient(served, PAUSE_TOKEN) as sync:
        assert sync.registry().balances["sx"].observed_at == SEEN


def test_refused_token_names_the_variable(served: str) -> None:
    with (
        OrchestratorClient(served, "not-the-token") as client,
        pytest.raises(OrchestratorCallError) as refused,
    ):
        client.pause("x")
    err = refused.value
    assert (err.status, err.reason) == (401, "HTTP 401")
    assert isinstance(err.body, dict) and err.body["error"] == "unauthorized"
    assert "token refused; set ARBQOS_PAUSE_TOKEN (or ARBQOS_PAUSE_TOKEN_FILE)" in str(err)
    assert str(err).startswith(f"POST {served}/v1/pause: HTTP 401: unknown token")


def test_fail_closed_when_unreachable() -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    with OrchestratorClient(closed, timeout_s=0.5) as client:
        assert client.trading_allowed() is False
        with pytest.raises(OrchestratorCallError, match="orchestrator is running") as err:
            client.status()
        assert err.value.reason == "ConnectError"
        assert isinstance(err.value.__cause__, httpx.ConnectError)
    with OrchestratorClient(closed, timeout_s=0.5, fail_closed=False) as client:
        assert client.trading_allowed() is True


def test_fail_closed_on_a_hung_server() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # accepts the TCP handshake, never answers
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with OrchestratorClient(url, timeout_s=0.3) as client:
            assert client.trading_allowed() is False  # the hung server never answers


@pytest.fixture
def dripping() -> Iterator[str]:
    """A server that answers one byte every 0.1 s: no read ever waits longer than that."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}" * 10:
                    if stop.wait(0.1):
                        break
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    listener.close()


async def test_async_calls_end_within_timeout_on_a_dripping_server(dripping: str) -> None:
    async with AsyncOrchestratorClient(dripping, PAUSE_TOKEN, timeout_s=0.5) as client:
        with pytest.raises(OrchestratorCallError, match=r"no answer within 0\.5 s") as err:
            # the drip would take 6 s; the backstop ends the test if the deadline is ignored
            await returns_within(client.status(), 3, "status from a dripping server")
        assert err.value.reason == "TimeoutError"
        assert await client.trading_allowed() is False


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (httpx.Response(200, text="<html>not the orchestrator</html>"), "answer not JSON"),
        (httpx.Response(200, json={"state": "maybe", "reasons": [], "since": "x"}), "unexpected"),
        (httpx.Response(200, json={"unexpected": True}), "unexpected answer"),
        (httpx.Response(500, json={"error": "x", "message": "boom"}), "HTTP 500"),
    ],
)
def test_fail_closed_on_a_wrong_answer(answer: httpx.Response, reason: str) -> None:
    http = httpx.Client(transport=httpx.MockTransport(lambda request: answer))
    with OrchestratorClient("http://127.0.0.1:8700", http=http) as client:
        assert client.trading_allowed() is False
        with pytest.raises(OrchestratorCallError) as err:
            client.status()
        assert err.value.reason.startswith(reason)


def test_fail_closed_on_an_unforeseen_error() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("a bug below the client")

    http = httpx.Client(transport=httpx.MockTransport(broken))
    with OrchestratorClient("http://127.0.0.1:8700", http=http) as client:
        assert client.trading_allowed() is False


def test_bad_request_values_fail_before_any_request() -> None:
    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"unexpected request {request.url}")

    http = httpx.Client(transport=httpx.MockTransport(never))
    with OrchestratorClient("http://127.0.0.1:8700", PAUSE_TOKEN, http=http) as client:
        with pytest.raises(ValueError, match="deadman is the orchestrator's own source"):
            client.pause("x", source="deadman")
        with pytest.raises(ValueError, match="tick"):
            client.report_heartbeat({"ts": "2026-11-26T00:00:00Z", "tick": -1})


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
    assert client.url(Route.STATUS) == "http://127.0.0.1:9999/v1/status"
    client.close()
    with pytest.raises(ValueError, match="expected http://host:port"):
        OrchestratorClient("127.0.0.1:8700")
