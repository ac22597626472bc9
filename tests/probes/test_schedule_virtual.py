"""The virtual-time loop keeps moving far into simulated time."""

from __future__ import annotations

import asyncio

from arbqos.probes.schedule import run_virtual


def test_timers_stay_due_after_years_of_virtual_time() -> None:
    async def sleep_through(seconds: float, steps: int) -> float:
        loop = asyncio.get_running_loop()
        for _ in range(steps):
            await asyncio.sleep(seconds)
        return loop.time()

    start = 300 * 86_400.0  # 300 days: past 2^24 s, where a 1 ns resolution is lost
    assert run_virtual(sleep_through(5.0, 1000), start=start) == start + 5000.0
