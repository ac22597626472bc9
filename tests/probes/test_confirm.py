"""The confirmation state machine: examples, then properties over every sequence of attempts."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbqos.config.schema import HeartbeatConfig
from arbqos.probes.confirm import Confirmation, ConfirmPolicy, TargetState

UNKNOWN, UP, DOWN = TargetState.UNKNOWN, TargetState.UP, TargetState.DOWN
DEFAULT = ConfirmPolicy()


def run(results: list[bool], policy: ConfirmPolicy = DEFAULT) -> list[Confirmation]:
    """The confirmation after each attempt."""
    states, current = [], Confirmation()
    for ok in results:
        current = current.observe(ok, policy)
        states.append(current)
    return states


def test_defaults_follow_the_contract() -> None:
    assert ConfirmPolicy.from_config(HeartbeatConfig()) == ConfirmPolicy(3, 2, 5.0)
    assert ConfirmPolicy.single() == ConfirmPolicy(1, 1, 5.0)


def test_start_up_is_unknown_until_confirmed_either_way() -> None:
    assert Confirmation().state is UNKNOWN and not Confirmation().needs_retry
    first_fail = run([False])[-1]
    assert (first_fail.state, first_fail.needs_retry) == (UNKNOWN, True)  # no down on one failure
    assert [c.state for c in run([False, False, False])] == [UNKNOWN, UNKNOWN, DOWN]
    assert [c.state for c in run([True, True])] == [UNKNOWN, UP]  # no up on one success either


def test_down_after_three_failures_up_after_two_successes() -> None:
    states = [
        c.state for c in run([True, True, False, False, True, False, False, False, True, True])
    ]
    assert states == [UNKNOWN, UP, UP, UP, UP, UP, UP, DOWN, DOWN, UP]


def test_progress_and_retry_flags_say_where_confirmation_stands() -> None:
    up = run([True, True])[-1]
    assert (up.settled, up.needs_retry, up.progress(DEFAULT)) == (
        True,
        False,
        "up confirmed (2 in a row)",
    )
    failing = up.observe(False, DEFAULT)
    assert failing.needs_retry and failing.progress(DEFAULT) == "failure 1 of 3 before down"
    down = failing.observe(False, DEFAULT).observe(False, DEFAULT)
    assert down.state is DOWN and not down.needs_retry
    recovering = down.observe(True, DEFAULT)
    assert recovering.needs_retry and recovering.progress(DEFAULT) == "success 1 of 2 before up"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("failure_threshold", 0, "heartbeat.failure_threshold = 0"),
        ("success_threshold", 0, "heartbeat.success_threshold = 0"),
        ("retry_interval_s", 0.0, "heartbeat.retry_interval_s = 0.0"),
    ],
)
def test_a_policy_refuses_nonsense(field: str, value: float, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        ConfirmPolicy(**{field: value})  # type: ignore[arg-type]


results = st.lists(st.booleans(), max_size=200)
thresholds = st.integers(min_value=1, max_value=6)


def _longest_final_run(history: list[bool], value: bool) -> int:
    """How many of the last attempts in a row had result `value`."""
    return sum(1 for _ in itertools.takewhile(lambda ok: ok == value, reversed(history)))


@settings(max_examples=400, deadline=None)
@given(results, thresholds, thresholds)
def test_down_is_entered_only_after_n_failures_in_a_row(
    history: list[bool], failures: int, successes: int
) -> None:
    policy = ConfirmPolicy(failures, successes)
    previous = Confirmation()
    for index, current in enumerate(run(history, policy)):
        if current.state is DOWN and previous.state is not DOWN:
            assert _longest_final_run(history[: index + 1], False) >= failures
        if current.state is UP and previous.state is not UP:
            assert _longest_final_run(history[: index + 1], True) >= successes
        previous = current


@settings(max_examples=400, deadline=None)
@given(results, thresholds, thresholds)
def test_always_down_after_n_failures_and_up_after_m_successes(
    history: list[bool], failures: int, successes: int
) -> None:
    policy = ConfirmPolicy(failures, successes)
    prefix = run(history, policy)[-1] if history else Confirmation()
    down = prefix
    for _ in range(failures):
        down = down.observe(False, policy)
    assert down.state is DOWN and down.settled
    up = prefix
    for _ in range(successes):
        up = up.observe(True, policy)
    assert up.state is UP and up.settled


@settings(max_examples=300, deadline=None)
@given(
    results,
    st.integers(min_value=2, max_value=6),
    st.integers(min_value=2, max_value=6),
    st.integers(min_value=1, max_value=100),
)
def test_alternating_results_never_flap(
    history: list[bool], failures: int, successes: int, length: int
) -> None:
    """Whatever came before, results that alternate from here on never change the state."""
    policy = ConfirmPolicy(failures, successes)
    current = run(history, policy)[-1] if history else Confirmation()
    before = current.state
    first = not history[-1] if history else True
    for index in range(length):
        current = current.observe(first if index % 2 == 0 else not first, policy)
        assert current.state is before and current.in_row == 1
        disagrees = before is UNKNOWN or current.last_ok is not (before is UP)
        assert current.needs_retry is disagrees  # every disagreeing result is re-probed


@settings(max_examples=400, deadline=None)
@given(results, thresholds, thresholds)
def test_state_matches_the_last_long_enough_run(
    history: list[bool], failures: int, successes: int
) -> None:
    """Reference model: the state is set by the last run of equal results long enough to count."""
    policy = ConfirmPolicy(failures, successes)
    expected = UNKNOWN
    for ok, group in itertools.groupby(history):
        if len(list(group)) >= (successes if ok else failures):
            expected = UP if ok else DOWN
    final = run(history, policy)[-1] if history else Confirmation()
    assert final.state is expected
    assert final.attempts == len(history)


@settings(max_examples=200, deadline=None)
@given(results)
def test_a_single_attempt_policy_follows_every_result(history: list[bool]) -> None:
    for ok, confirmation in zip(history, run(history, ConfirmPolicy.single()), strict=True):
        assert confirmation.state is (UP if ok else DOWN)
        assert not confirmation.needs_retry
