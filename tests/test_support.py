"""tests/support: eventually(), the hanging server, the fast lane's process ban, a clean env."""

from __future__ import annotations

import asyncio
import itertools
import threading

import httpx
import pytest

from tests.support.servers import HangingServer
from tests.support.wait import eventually, eventually_async, returns_within


def test_eventually_returns_the_first_truthy_value() -> None:
    counter = itertools.count()
    assert eventually(lambda: next(counter) >= 3 and "ready", 5, 0.001) == "ready"


def test_eventually_names_what_it_last_saw() -> None:
    with pytest.raises(AssertionError, match=r"the queue: not true after 0.05 s .*last saw \[\]"):
        eventually(list, 0.05, 0.01, what="the queue")

    def refusing() -> bool:
        raise ConnectionRefusedError("nobody there")

    with pytest.raises(AssertionError, match="last saw ConnectionRefusedError"):
        eventually(refusing, 0.05, 0.01)
    with pytest.raises(KeyError):  # not an "it is not there yet" error: raised at once
        eventually(lambda: {}["missing"], 5)


async def test_eventually_async_awaits_async_conditions() -> None:
    calls = itertools.count()

    async def ready() -> bool:
        return next(calls) >= 2

    assert await eventually_async(ready, 5, 0.001) is True


async def test_returns_within_fails_on_a_wait_that_never_ends() -> None:
    with pytest.raises(AssertionError, match="never answers"):
        await returns_within(asyncio.Event().wait(), 0.05, "the wait")


def test_hanging_server_holds_a_request_until_released(hanging_server: HangingServer) -> None:
    answers: list[int] = []
    caller = threading.Thread(
        target=lambda: answers.append(
            httpx.post(hanging_server.url, json={}, timeout=10).status_code
        )
    )
    caller.start()
    assert hanging_server.wait_held(1) == 1
    assert answers == [] and caller.is_alive()
    hanging_server.release()
    caller.join(5)
    assert answers == [200] and hanging_server.held == 0 and hanging_server.answered == 1
    assert hanging_server.received[0][:2] == ("POST", "/")


INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"

FAST_LANE_CASES = """
import subprocess
import pytest

def test_starts_a_process():
    subprocess.run(["true"], check=True)

def test_swallows_the_refusal():
    try:
        subprocess.run(["true"], check=True)
    except Exception:
        pass

@pytest.mark.slow
def test_marked_slow():
    subprocess.run(["true"], check=True)

def test_pure():
    assert True
"""


def test_fast_lane_fails_any_unmarked_test_that_starts_a_process(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_cases=FAST_LANE_CASES)
    result = pytester.runpytest_inprocess("-p", "tests.support.fastlane", "--fast", "-q")
    result.assert_outcomes(passed=1, failed=2, deselected=1)
    result.stdout.fnmatch_lines(["*test_starts_a_process*started `true`*not marked slow*"])
    result.stdout.fnmatch_lines(["*test_swallows_the_refusal*error was swallowed*"])


ENV_CASES = """
import os

def test_sees_no_caller_variable():
    assert not [k for k in os.environ if k.startswith("ARBQOS")]

def test_sets_its_own(monkeypatch):
    monkeypatch.setenv("ARBQOS_PAUSE_TOKEN", "set-by-the-test")
    assert os.environ["ARBQOS_PAUSE_TOKEN"] == "set-by-the-test"
"""


def test_no_arbqos_variable_of_the_caller_reaches_a_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARBQOS_PAUSE_TOKEN", "from-the-shell")
    monkeypatch.setenv("ARBQOS__EXEC__FILL_RATIO_MIN", "0.5")
    pytester.makeini(INI)
    pytester.makepyfile(test_env=ENV_CASES)
    result = pytester.runpytest_inprocess("-p", "tests.conftest", "-q")
    result.assert_outcomes(passed=2)
