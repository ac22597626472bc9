"""BalanceWatcher: hysteresis events, last good balance with age, drift-free cadence, metrics."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from arbqos.bank import error_text
from arbqos.clock import Clock, FakeClock
from arbqos.config.schema import RiskConfig
from arbqos.eventlog import EventLog
from arbqos.probes.balances import BalanceWatcher, next_low_state
from arbqos.probes.schedule import LoopClock, run_virtual
from arbqos.registry import RuntimeRegistry, WalletBalance

Step = float | str | None
"""A scripted read: a USD balance, `fail:<kind>`, `hang`, `slow:<seconds>:<usd>` or `raise`."""


class ScriptedBank:
    """A bank source whose every read follows a script per wallet (last step repeats)."""

    def __init__(self, clock: Clock, script: Mapping[str, Sequence[Step]]) -> None:
        self._clock = clock
        self._script = script
        self.reads = 0
        self.started_at: list[float] = []

    async def read_balances(self) -> dict[str, WalletBalance]:
        self.started_at.append(self._clock.monotonic())
        index = self.reads
        self.reads += 1
        out = {}
        for wallet, steps in self._script.items():
            step = steps[min(index, len(steps) - 1)]
            chain, token = ("sx_rollup", "USDC") if wallet == "sx" else ("polygon", "USDT")
            if step == "hang":
                await asyncio.sleep(10_000)
            if step == "raise":
                raise RuntimeError("bank exploded")
            if isinstance(step, str) and step.startswith("slow:"):
                _, seconds, usd = step.split(":")
                await asyncio.sleep(float(seconds))
                step = float(usd)
            if isinstance(step, str) and step.startswith("fail:"):
                error = error_text(step[5:], "endpoint 0 refused")
                out[wallet] = WalletBalance(wallet, chain, token, None, error=error)
                continue
            assert isinstance(step, float | int)
            out[wallet] = WalletBalance(
                wallet, chain, token, float(step), float(step), observed_at=self._clock.now_utc()
            )
        return out


class Sink:
    def __init__(self) -> None:
        self.received: list[dict[str, WalletBalance]] = []

    def submit(self, balances: Mapping[str, WalletBalance]) -> None:
        self.received.append(dict(balances))


def make_watcher(
    tmp_path: Path,
    clock: Clock,
    bank: ScriptedBank,
    registry: CollectorRegistry,
    *,
    interval_s: float = 60.0,
    read_timeout_s: float = 10.0,
    sink: Sink | None = None,
) -> BalanceWatcher:
    runtime = RuntimeRegistry(registry, bank_source=bank)
    log = EventLog(tmp_path / "balance_watcher.log", clock, config_hash="c0ffee")
    return BalanceWatcher(
        runtime,
        risk=RiskConfig(),
        clock=clock,
        event_log=log,
        registry=registry,
        interval_s=interval_s,
        read_timeout_s=read_timeout_s,
        sink=sink,
    )


def log_lines(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "balance_watcher.log"
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize(
    ("low", "usd", "expected"),
    [
        (False, 100.0, (False, None)),
        (False, 15.0, (False, None)),
        (False, 14.99, (True, "low")),
        (True, 14.0, (True, None)),
        (True, 15.99, (True, None)),
        (True, 16.0, (False, "recovered")),
    ],
)
def test_next_low_state_has_hysteresis(
    low: bool, usd: float, expected: tuple[bool, str | None]
) -> None:
    assert next_low_state(low, usd, floor_usd=15.0, margin_usd=1.0) == expected


async def test_one_event_per_crossing_and_none_while_the_state_holds(
    tmp_path: Path, fake_clock: FakeClock, registry: CollectorRegistry
) -> None:
    sx: list[Step] = [100, 10, 9, 15.5, 14, 16.0, 16.5, 5]
    bank = ScriptedBank(fake_clock, {"sx": sx, "azuro": [50]})
    sink = Sink()
    watcher = make_watcher(tmp_path, fake_clock, bank, registry, sink=sink)
    outcomes = []
    for number in range(1, len(sx) + 1):
        outcomes.append(await watcher.poll(number))
        fake_clock.advance(60)
    events = [(e["event"], e["poll"], e["wallet"]) for o in outcomes for e in o.events]
    assert events == [("low", 2, "sx"), ("recovered", 6, "sx"), ("low", 8, "sx")]

    lines = log_lines(tmp_path)
    polls = [line for line in lines if line["event"] == "poll"]
    assert [p["poll"] for p in polls] == list(range(1, 9))
    assert [p["wallets"]["sx"]["low"] for p in polls] == [0, 1, 1, 1, 1, 0, 0, 1]
    assert all(p["config_hash"] == "c0ffee" and p["ts"].endswith("Z") for p in lines)
    assert {p["wallets"]["azuro"]["low"] for p in polls} == {False}
    low = next(line for line in lines if line["event"] == "low")
    assert low["wallet"] == "sx"
    assert low["balance_usd"] == 10
    assert low["floor_usd"] == 15
    recovered = next(line for line in lines if line["event"] == "recovered")
    assert recovered["recover_at_usd"] == 16

    get = registry.get_sample_value
    assert get("arb_balance_low_events_total", {"wallet": "sx"}) == 2
    assert get("arb_balance_low_events_total", {"wallet": "azuro"}) == 0
    assert get("arb_wallet_balance_low", {"wallet": "sx"}) == 1
    labels = {"wallet": "sx", "chain": "sx_rollup", "token": "USDC"}
    assert get("arb_wallet_balance_usd", labels) == 5
    assert get("arb_balance_watcher_last_poll_timestamp_seconds") == pytest.approx(
        fake_clock.now_utc().timestamp() - 60
    )
    assert [s["sx"].low for s in sink.received] == [
        False,
        True,
        True,
        True,
        True,
        False,
        False,
        True,
    ]
    assert sink.received[-1]["sx"].balance_usd == 5


async def test_failed_read_keeps_last_good_balance_with_its_age(
    tmp_path: Path, fake_clock: FakeClock, registry: CollectorRegistry
) -> None:
    bank = ScriptedBank(fake_clock, {"sx": [40, "fail:connect", "fail:timeout", 12], "azuro": [50]})
    watcher = make_watcher(tmp_path, fake_clock, bank, registry)
    outcomes = []
    for number in range(1, 5):
        outcomes.append(await watcher.poll(number))
        fake_clock.advance(60)
    assert [o.ok for o in outcomes] == [True, False, False, True]
    polls = [line for line in log_lines(tmp_path) if line["event"] == "poll"]
    second, third = polls[1]["wallets"]["sx"], polls[2]["wallets"]["sx"]
    assert (second["ok"], second["balance_usd"], second["age_s"]) == (False, 40, 60)
    assert second["error"].startswith("connect:")
    assert (third["balance_usd"], third["age_s"]) == (40, 120)
    assert "error" not in polls[3]["wallets"]["sx"]
    assert polls[3]["wallets"]["sx"]["low"] is True
    get = registry.get_sample_value
    assert get("arb_balance_read_errors_total", {"wallet": "sx", "error": "connect"}) == 1
    assert get("arb_balance_read_errors_total", {"wallet": "sx", "error": "timeout"}) == 1
    assert get("arb_balance_read_errors_total", {"wallet": "azuro", "error": "connect"}) == 0
    assert get("arb_wallet_balance_age_seconds", {"wallet": "sx"}) == 0
    labels = {"wallet": "sx", "chain": "sx_rollup", "token": "USDC"}
    assert get("arb_wallet_balance_usd", labels) == 12
    assert get("arb_balance_low_events_total", {"wallet": "sx"}) == 1


async def test_a_balance_above_the_ceiling_is_a_read_error_never_a_balance(
    tmp_path: Path, fake_clock: FakeClock, registry: CollectorRegistry
) -> None:
    bank = ScriptedBank(fake_clock, {"sx": [40, 1.2e71, 2e7, 1e7], "azuro": [50]})
    sink = Sink()
    watcher = make_watcher(tmp_path, fake_clock, bank, registry, sink=sink)
    outcomes = []
    for number in range(1, 5):
        outcomes.append(await watcher.poll(number))
        fake_clock.advance(60)
    assert [o.ok for o in outcomes] == [True, False, False, True]
    polls = [line for line in log_lines(tmp_path) if line["event"] == "poll"]
    for poll in polls[1:3]:
        entry = poll["wallets"]["sx"]
        assert (entry["ok"], entry["balance_usd"], entry["low"]) == (False, 40, False)
        assert entry["error"].startswith("implausible: balance ")
        assert "above balance_watcher.balance_max_usd = 1e+07 USD" in entry["error"]
    assert polls[3]["wallets"]["sx"]["balance_usd"] == 1e7  # the ceiling itself is believable
    get = registry.get_sample_value
    assert get("arb_balance_read_errors_total", {"wallet": "sx", "error": "implausible"}) == 2
    labels = {"wallet": "sx", "chain": "sx_rollup", "token": "USDC"}
    assert [r["sx"].balance_usd for r in sink.received] == [40, 40, 40, 1e7]
    assert get("arb_wallet_balance_usd", labels) == 1e7
    assert all(line["event"] == "poll" for line in log_lines(tmp_path))  # no low/recovered


def test_polls_keep_a_drift_free_cadence_through_slow_hung_and_broken_reads(
    tmp_path: Path,
) -> None:
    interval, timeout = 10.0, 4.0
    script: list[Step] = [50, "slow:3.9:50", "hang", 50, "raise", "slow:9.5:50", 50, 50]

    async def main() -> tuple[list[float], CollectorRegistry]:
        clock = LoopClock()
        registry = CollectorRegistry()
        bank = ScriptedBank(clock, {"sx": script, "azuro": [50]})
        watcher = make_watcher(
            tmp_path, clock, bank, registry, interval_s=interval, read_timeout_s=timeout
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.call_at(clock.monotonic() + interval * len(script) - 1, stop.set)
        origin = clock.monotonic()
        await watcher.run(stop, origin=origin)
        return [t - origin for t in bank.started_at], registry

    starts, registry = run_virtual(main(), start=1000.0)
    assert starts == [pytest.approx(k * interval) for k in range(len(script))]
    polls = [line for line in log_lines(tmp_path) if line["event"] == "poll"]
    assert [p["poll"] for p in polls] == list(range(1, len(script) + 1))
    assert [p["wallets"]["sx"]["ok"] for p in polls] == [1, 1, 0, 1, 0, 0, 1, 1]
    assert polls[2]["wallets"]["sx"]["error"].startswith("timeout:")
    assert polls[4]["wallets"]["sx"]["error"].startswith("error: RuntimeError")
    assert polls[5]["wallets"]["sx"]["balance_usd"] == 50
    get = registry.get_sample_value
    assert get("arb_balance_read_errors_total", {"wallet": "sx", "error": "timeout"}) == 2
    assert get("arb_balance_read_errors_total", {"wallet": "sx", "error": "error"}) == 1
