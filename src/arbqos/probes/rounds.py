"""Rounds: a tick's attempt at each target, then retries while the target's state is unconfirmed.

Retry k of a tick is due at `slot + k * retry_interval_s` (never moving the tick schedule) and
starts once the previous attempt ended. A retry that could still be running when the next tick
is due is skipped: that tick probes anyway. When the next tick starts, rounds waiting for a
retry are cancelled; an attempt already running is finished and counted first (no attempt is
thrown away, and one target never has two attempts at once).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from arbqos.clock import Clock
from arbqos.probes.base import ProbeResult, ProbeRunner, Target, failed_result, tick_margin
from arbqos.probes.confirm import ConfirmPolicy

logger = logging.getLogger(__name__)


class AttemptSink(Protocol):
    """Where each attempt's result goes; returns the target's log fields after counting it."""

    async def __call__(
        self, target: Target, result: ProbeResult, tick: int, attempt: int
    ) -> dict[str, Any]: ...


class RetryCheck(Protocol):
    """Whether target `name` is unconfirmed after its latest attempt."""

    def __call__(self, name: str) -> bool: ...


@dataclass(frozen=True)
class First:
    """A round's first attempt (the tick's own), with the target's log fields right after it."""

    result: ProbeResult
    fields: dict[str, Any]


class Rounds:
    """Run the rounds of each tick; at most one attempt per target at any time.

    >>> rounds = Rounds(runner, clock, sink=heartbeat.observe, needs_retry=heartbeat.unsettled)
    >>> firsts = await rounds.start(targets, tick=7, due=210.0, next_due=240.0, policy=policy)
    """

    def __init__(
        self, runner: ProbeRunner, clock: Clock, *, sink: AttemptSink, needs_retry: RetryCheck
    ) -> None:
        self._runner = runner
        self._clock = clock
        self._sink = sink
        self._needs_retry = needs_retry
        self._tasks: dict[str, asyncio.Task[None]] = {}
        """The latest round of each target."""
        self._live: set[asyncio.Task[None]] = set()
        """Every round not yet ended, older ones finishing an attempt included."""
        self._attempting: set[str] = set()
        self._generation = 0

    async def start(
        self,
        targets: Sequence[Target],
        *,
        tick: int,
        due: float,
        next_due: float | None,
        policy: ConfirmPolicy,
    ) -> dict[str, First]:
        """Start one round per target; return every first attempt once all are in.

        Without `next_due` there are no retries (a tick run on its own, e.g. `--once`).
        """
        self._wind_down()
        loop = asyncio.get_running_loop()
        futures: dict[str, asyncio.Future[First]] = {}
        for target in targets:
            future: asyncio.Future[First] = loop.create_future()
            futures[target.name] = future
            previous = self._tasks.get(target.name)
            round_ = self._round(target, tick, due, next_due, policy, future, previous)
            task = loop.create_task(round_)
            self._tasks[target.name] = task
            self._live.add(task)
            task.add_done_callback(self._live.discard)
        # A first attempt ends within timeout + margin, after a previous attempt that was still
        # running (at most one margin more); the rest guards against a round that broke.
        margin = tick_margin(self._runner.timeout_s)
        limit = self._runner.timeout_s + 2 * margin + 1.0
        await asyncio.wait(futures.values(), timeout=limit)
        firsts: dict[str, First] = {}
        for target in targets:
            future = futures[target.name]
            if not future.done():
                self._tasks.pop(target.name).cancel()
                detail = f"no result {limit:g} s after the tick started"
                result = failed_result(target, detail, self._clock.now_utc())
                future.set_result(First(result, await self._sink(target, result, tick, 1)))
            firsts[target.name] = future.result()
        return firsts

    async def stop(self) -> None:
        """Cancel every round, running attempts included, and wait for them to end."""
        tasks = list(self._live)
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def settle(self) -> None:
        """Wait until every round has ended by itself (retries done or skipped)."""
        if self._live:
            await asyncio.wait(set(self._live))

    def _wind_down(self) -> None:
        """End the previous tick's rounds: cancel waiting ones, let running attempts finish."""
        self._generation += 1
        for name, task in self._tasks.items():
            if name not in self._attempting:
                task.cancel()

    async def _round(
        self,
        target: Target,
        tick: int,
        due: float,
        next_due: float | None,
        policy: ConfirmPolicy,
        first: asyncio.Future[First],
        previous: asyncio.Task[None] | None,
    ) -> None:
        """The tick's attempt at `target`, then retries while its state is unconfirmed."""
        generation = self._generation
        attempt = 1
        try:
            if previous is not None and not previous.done():
                await asyncio.wait({previous})  # its running attempt ends within the margin
            while True:
                self._attempting.add(target.name)
                try:
                    result = await self._runner.run_attempt(target)
                finally:
                    self._attempting.discard(target.name)
                fields = await self._sink(target, result, tick, attempt)
                if attempt == 1:
                    first.set_result(First(result, fields))
                if generation != self._generation or next_due is None:
                    return  # a newer tick took over, or no retries for a lone tick
                if not self._needs_retry(target.name):
                    return
                start_at = max(due + attempt * policy.retry_interval_s, self._clock.monotonic())
                if start_at + self._runner.timeout_s > next_due + 1e-6:
                    return  # it could still run when the next tick is due; that tick probes
                await self._clock.sleep(start_at - self._clock.monotonic())
                attempt += 1
        except Exception:  # the round boundary: a bug here must not lose the tick's result
            logger.exception("heartbeat round of %s failed", target.name)
            if not first.done():
                result = failed_result(target, "heartbeat error", self._clock.now_utc())
                first.set_result(First(result, result.log_fields()))
