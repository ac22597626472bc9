"""The latest-wins sender under heartbeat reports and balance pushes, with a scripted delivery."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from arbqos.errors import OrchestratorError
from arbqos.probes.report import LatestWinsSender, OrchestratorReporter
from arbqos.sdk import AsyncOrchestratorClient, OrchestratorCallError
from arbqos_harness.process import free_port


class Scripted:
    """A delivery that fails `failures` times (`HTTP 503`), then succeeds; records bodies."""

    def __init__(self, failures: int = 0, delay_s: float = 0.0) -> None:
        self.failures = failures
        self.delay_s = delay_s
        self.bodies: list[int] = []

    async def __call__(self, body: int) -> None:
        self.bodies.append(body)
        await asyncio.sleep(self.delay_s)
        if self.failures:
            self.failures -= 1
            raise OrchestratorCallError("HTTP 503: busy", reason="HTTP 503", status=503)


def sender(deliver: Scripted, retry: tuple[float, float] | None) -> LatestWinsSender[int]:
    client = AsyncOrchestratorClient("http://127.0.0.1:9", "t")
    return LatestWinsSender(client, deliver, retry=retry, what="numbers", failed_message="no: %s")


async def test_a_failed_body_is_retried_with_backoff_until_delivered() -> None:
    deliver = Scripted(failures=2)
    numbers = sender(deliver, retry=(0.02, 0.05))
    numbers.send(1)
    assert await numbers.flush(2.0)
    assert deliver.bodies == [1, 1, 1]
    assert (numbers.failures, numbers.delivered, numbers.last_error) == (2, 1, None)


async def test_without_retry_a_failed_body_waits_for_the_next_one() -> None:
    deliver = Scripted(failures=1)
    numbers = sender(deliver, retry=None)
    numbers.send(1)
    assert not await numbers.flush(1.0)
    assert numbers.last_error == "HTTP 503"
    numbers.send(2)
    assert await numbers.flush(1.0)
    assert deliver.bodies == [1, 2]


async def test_one_request_at_a_time_and_the_newest_body_wins() -> None:
    deliver = Scripted(delay_s=0.1)
    numbers = sender(deliver, retry=None)
    numbers.send(1)
    await asyncio.sleep(0.02)  # 1 is in flight
    for n in (2, 3, 4):
        numbers.send(n)
    assert await numbers.flush(2.0)
    assert deliver.bodies == [1, 4]


async def test_close_ends_at_once_even_when_a_body_arrives_during_a_backoff() -> None:
    deliver = Scripted(failures=100)
    numbers = sender(deliver, retry=(5.0, 30.0))
    numbers.send(1)
    await asyncio.sleep(0.05)  # 1 failed; the sender waits out its 5 s backoff
    numbers.send(2)  # ends the wait; the close below arrives in the same loop pass
    started = time.monotonic()
    await asyncio.wait_for(numbers.aclose(), 1.0)
    assert time.monotonic() - started < 0.5 and not numbers.pending


async def test_an_invalid_report_is_refused_here_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with httpx.AsyncClient() as http:
        reporter = OrchestratorReporter(http, url=f"http://127.0.0.1:{free_port()}", token="t")
        bad: dict[str, Any] = {"ts": "2026-11-26T00:00:00.000Z", "tick": 1, "config_hash": "c"}
        reporter.submit(bad)
        reporter.submit({**bad, "tick": 2})
        assert not reporter.pending and reporter.failures == 2 and reporter.delivered == 0
        assert reporter.last_error == "invalid report (interval_s: Field required)"
        assert not await reporter.flush(0.1)
    assert [r.getMessage() for r in caplog.records if "not delivered" in r.getMessage()] == [
        "heartbeat report not delivered: invalid report (interval_s: Field required)"
    ]


async def test_an_unexpected_error_counts_as_a_failure_and_the_sender_lives_on() -> None:
    calls: list[int] = []

    async def deliver(body: int) -> None:
        calls.append(body)
        if body == 1:
            raise RuntimeError("a bug")

    client = AsyncOrchestratorClient("http://127.0.0.1:9", "t")
    numbers = LatestWinsSender(client, deliver, retry=None, what="n", failed_message="no: %s")
    numbers.send(1)
    assert not await numbers.flush(1.0) and numbers.last_error == "RuntimeError"
    numbers.send(2)
    assert await numbers.flush(1.0) and calls == [1, 2]
    assert isinstance(OrchestratorCallError("x", reason="y"), OrchestratorError)
