"""BalancePusher: PUT /v1/registry/balances with the pause token, never blocking the caller."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from arbqos.probes.balance_push import BalancePusher
from arbqos.registry.model import WalletBalance
from arbqos_harness.process import free_port
from tests.probes.fakes import LoopbackServer, Reply, Request
from tests.sdk.served import serve_orchestrator
from tests.services.conftest import PAUSE_TOKEN
from tests.support.servers import HangingServer
from tests.support.wait import eventually_async


class Orchestrator:
    """Records PUT requests as (path, headers, body); answers after `delay_s` with `status`."""

    def __init__(self) -> None:
        self.status = 200
        self.delay_s = 0.0
        self.server = LoopbackServer(self.handle).start()
        self.url = self.server.url

    def handle(self, request: Request) -> Reply:
        return Reply(self.status, {}, delay_s=self.delay_s)

    @property
    def requests(self) -> list[tuple[str, dict[str, str], Any]]:
        return [(r.path, r.headers, r.json()) for r in self.server.requests if r.method == "PUT"]


@pytest.fixture
def orchestrator() -> Iterator[Orchestrator]:
    fake = Orchestrator()
    yield fake
    fake.server.stop()


def balances(usd: float) -> dict[str, WalletBalance]:
    seen = datetime(2026, 11, 26, 13, 50, 58, 123000, tzinfo=UTC)
    return {
        "sx": WalletBalance("sx", "sx_rollup", "USDC", usd, usd, low=usd < 15, observed_at=seen),
        "azuro": WalletBalance("azuro", "polygon", "USDT", None, error="timeout: slow"),
    }


async def test_push_sends_balances_with_the_pause_token(orchestrator: Orchestrator) -> None:
    async with httpx.AsyncClient() as http:
        pusher = BalancePusher(http, url=orchestrator.url, token="pause-secret", timeout_s=2)
        pusher.submit(balances(12.5))
        assert await pusher.flush(2.0)
    path, headers, body = orchestrator.requests[0]
    assert path == "/v1/registry/balances"
    assert headers["authorization"] == "Bearer pause-secret"
    sx = WalletBalance.from_json(body["balances"]["sx"])
    assert (sx.balance_usd, sx.low) == (12.5, True)
    assert body["balances"]["sx"]["observed_at"] == "2026-11-26T13:50:58.123Z"
    assert body["balances"]["azuro"]["error"] == "timeout: slow"


async def test_a_hung_orchestrator_never_holds_a_poll(hanging_server: HangingServer) -> None:
    async with httpx.AsyncClient() as http:
        pusher = BalancePusher(http, url=hanging_server.url, token="t", timeout_s=30)
        pusher.submit(balances(20))  # returned: the push runs in the background
        await asyncio.to_thread(hanging_server.wait_held, 1)
        assert hanging_server.answered == 0
        pusher.submit(balances(21))  # still returns at once while the first is held
        await pusher.aclose()


async def test_unreachable_orchestrator_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with httpx.AsyncClient() as http:
        pusher = BalancePusher(
            http, url=f"http://127.0.0.1:{free_port()}", token="t", timeout_s=0.5
        )
        pusher.submit(balances(20))
        assert not await pusher.flush(2.0)
        pusher.submit(balances(21))
        assert not await pusher.flush(2.0)
    assert pusher.failures == 2
    assert pusher.last_error == "ConnectError"
    warnings = [r for r in caplog.records if "not pushed" in r.getMessage()]
    assert len(warnings) == 1, "the same failure is logged once, not every poll"


async def test_slow_orchestrator_gets_only_the_newest_balances(orchestrator: Orchestrator) -> None:
    orchestrator.delay_s = 0.3
    async with httpx.AsyncClient() as http:
        pusher = BalancePusher(http, url=orchestrator.url, token="t", timeout_s=2)
        pusher.submit(balances(30))
        await eventually_async(
            lambda: len(orchestrator.requests) >= 1 or pusher.pending,
            what="the first push in flight",
        )
        await asyncio.sleep(0.1)  # the first push is now held by the slow orchestrator
        for usd in (31, 32, 33):
            pusher.submit(balances(usd))
        assert await pusher.flush(3.0)
    sent = [body["balances"]["sx"]["balance_usd"] for _, _, body in orchestrator.requests]
    assert sent == [30, 33]


async def test_refused_token_is_reported_as_http_status(orchestrator: Orchestrator) -> None:
    orchestrator.status = 401
    async with httpx.AsyncClient() as http:
        pusher = BalancePusher(http, url=orchestrator.url, token="wrong", timeout_s=2)
        pusher.submit(balances(50))
        assert not await pusher.flush(2.0)
    assert pusher.last_error == "HTTP 401"


async def test_the_real_orchestrator_takes_the_balances(tmp_path: Path) -> None:
    with serve_orchestrator(tmp_path / "state") as served:
        async with httpx.AsyncClient() as http:
            pusher = BalancePusher(http, url=served.url, token=PAUSE_TOKEN, timeout_s=2)
            pusher.submit(balances(12.5))
            assert await pusher.flush(2.0), pusher.last_error
        held = (await served.service.runtime.snapshot()).balances
    assert held == balances(12.5)


async def test_balances_the_orchestrator_would_refuse_are_logged_not_sent(
    orchestrator: Orchestrator, caplog: pytest.LogCaptureFixture
) -> None:
    async with httpx.AsyncClient() as http:
        pusher = BalancePusher(http, url=orchestrator.url, token="t", timeout_s=2)
        pusher.submit({"sx": WalletBalance("sx", "sx_rollup", "USDC", -5.0)})
        assert not pusher.pending and not await pusher.flush(0.5)
    assert orchestrator.requests == []
    assert pusher.last_error is not None and "balance_usd" in pusher.last_error
    assert "balances not pushed" in caplog.text
