"""The balance watcher against real anvil chains: alerts, outages, the CLI, and it never sends."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from arbqos.bank import build_bank
from arbqos.clock import SystemClock, parse_ts
from arbqos.eventlog import EventLog
from arbqos.probes.balances import BalanceWatcher
from arbqos.registry import RuntimeRegistry
from arbqos_harness.chain.localchain import WALLETS, LocalChains
from arbqos_harness.process import free_port
from tests.probes.test_balance_push import Orchestrator
from tests.support.cli import run_arbqos, start_arbqos
from tests.support.wait import eventually, eventually_async

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]

SX = WALLETS["sx"][1]
AZURO = WALLETS["azuro"][1]
INTERVAL_S = 0.25


@pytest.fixture
def orchestrator() -> Iterator[Orchestrator]:
    fake = Orchestrator()
    yield fake
    fake.server.stop()


class Running:
    """An in-process watcher polling the local chains every INTERVAL_S on a background task."""

    def __init__(self, chains: LocalChains, log_path: Path) -> None:
        self.chains = chains
        self.log_path = log_path
        self.registry = CollectorRegistry()
        self.stop = asyncio.Event()

    async def __aenter__(self) -> Running:
        clock = SystemClock()
        self.http = httpx.AsyncClient()
        bank = build_bank(self.chains.config(), http=self.http, clock=clock)
        self.watcher = BalanceWatcher(
            RuntimeRegistry(self.registry, bank_source=bank),
            risk=self.chains.config().risk,
            clock=clock,
            event_log=EventLog(self.log_path, clock, config_hash="test"),
            registry=self.registry,
            interval_s=INTERVAL_S,
            read_timeout_s=0.2,
        )
        self.task = asyncio.create_task(self.watcher.run(self.stop))
        await self.polls_after(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        await self.task
        await self.http.aclose()

    async def polls_after(self, number: int, more: int = 1) -> None:
        """Wait until poll `number + more` has completed."""
        await eventually_async(
            lambda: (self.watcher.last_poll or 0) >= number + more, 10, what="the next polls"
        )

    async def harness(self, action: Callable[..., None], *args: Any) -> int:
        """Run a blocking harness action off the loop; return the last poll done when it ended."""
        await asyncio.to_thread(action, *args)
        return self.watcher.last_poll or 0

    def lines(self, event: str) -> list[dict[str, Any]]:
        text = self.log_path.read_text()
        return [r for r in map(json.loads, text.splitlines()) if r["event"] == event]


async def test_low_and_recovered_are_logged_once_within_one_poll(
    local_chains: LocalChains, tmp_path: Path
) -> None:
    local_chains.set_token_balance("sx_rollup", SX, 100)
    local_chains.set_token_balance("polygon", AZURO, 100)
    async with Running(local_chains, tmp_path / "balance_watcher.log") as run:
        done = await run.harness(local_chains.set_token_balance, "sx_rollup", SX, "9.5")
        await run.polls_after(done, 2)  # poll done+1 may have started before the transfer
        low = run.lines("low")
        assert [(e["wallet"], e["balance_usd"]) for e in low] == [("sx", 9.5)]
        assert low[0]["poll"] <= done + 2

        done = await run.harness(local_chains.set_token_balance, "sx_rollup", SX, "15.5")
        await run.polls_after(done, 4)  # above the floor, below floor + margin: still low
        assert len(run.lines("low")) == 1
        assert run.lines("recovered") == []
        assert run.lines("poll")[-1]["wallets"]["sx"]["low"] is True

        done = await run.harness(local_chains.set_token_balance, "sx_rollup", SX, 40)
        await run.polls_after(done, 2)
        recovered = run.lines("recovered")
        assert [(e["wallet"], e["balance_usd"]) for e in recovered] == [("sx", 40.0)]
        assert recovered[0]["poll"] <= done + 2
        await run.polls_after(done, 5)
        assert len(run.lines("low")) == 1
        assert len(run.lines("recovered")) == 1
        assert run.lines("poll")[-1]["wallets"]["sx"] | {"age_s": 0} == {
            "chain": "sx_rollup",
            "token": "USDC",
            "balance_usd": 40.0,
            "balance_units": 40.0,
            "low": False,
            "ok": True,
            "age_s": 0,
        }
        get = run.registry.get_sample_value
        assert get("arb_balance_low_events_total", {"wallet": "sx"}) == 1
        assert get("arb_balance_low_events_total", {"wallet": "azuro"}) == 0
        labels = {"wallet": "azuro", "chain": "polygon", "token": "USDT"}
        assert get("arb_wallet_balance_usd", labels) == 100


async def test_rpc_outage_keeps_last_balance_and_the_cadence(
    local_chains: LocalChains, tmp_path: Path
) -> None:
    local_chains.set_token_balance("polygon", AZURO, 77)
    async with Running(local_chains, tmp_path / "balance_watcher.log") as run:
        await run.polls_after(0, 2)
        done = await run.harness(local_chains.stop_node, "polygon")
        try:
            await run.polls_after(done, 5)
        finally:
            done = await run.harness(local_chains.start_node, "polygon")
        await run.polls_after(done, 2)
    polls = run.lines("poll")
    azuro = [p["wallets"]["azuro"] for p in polls]
    down = [w for w in azuro if not w["ok"]]
    assert len(down) >= 4
    assert all(w["error"].startswith("connect:") and w["balance_usd"] == 77 for w in down)
    ages = [w["age_s"] for w in down]
    assert ages == sorted(ages) and ages[-1] > ages[0]
    assert azuro[-1]["ok"] and "error" not in azuro[-1]
    assert all(p["wallets"]["sx"]["ok"] for p in polls)
    assert [p["poll"] for p in polls] == list(range(1, len(polls) + 1))
    starts = [parse_ts(p["ts"]).timestamp() for p in polls]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert max(gaps) < 2 * INTERVAL_S, gaps
    errors = run.registry.get_sample_value(
        "arb_balance_read_errors_total", {"wallet": "azuro", "error": "connect"}
    )
    assert errors == len(down)


def settings(chains: LocalChains, tmp_path: Path, orchestrator_url: str) -> list[str]:
    sets = [
        *chains.overrides(),
        f"balance_watcher.log_path={tmp_path / 'balance_watcher.log'}",
        "balance_watcher.poll_interval_s=0.3",
        "balance_watcher.read_timeout_s=0.25",
        f"endpoints.orchestrator_url={orchestrator_url}",
    ]
    return [arg for item in sets for arg in ("--set", item)]


def test_cli_watcher_serves_metrics_pushes_balances_and_sends_no_transaction(
    local_chains: LocalChains, tmp_path: Path, orchestrator: Orchestrator
) -> None:
    local_chains.set_token_balance("sx_rollup", SX, 12)
    local_chains.set_token_balance("polygon", AZURO, 60)
    (tmp_path / "config").mkdir()
    before = {chain: local_chains.tx_count(chain) for chain in local_chains.chains}
    port = free_port()
    args = ["--config-dir", str(tmp_path / "config")]
    args += [*settings(local_chains, tmp_path, orchestrator.url)]
    args += ["--set", f"balance_watcher.metrics_port={port}"]
    env = {"ARBQOS_PAUSE_TOKEN": "pause-token-for-test"}
    metrics_url = f"http://127.0.0.1:{port}/metrics"
    process = start_arbqos(
        "balance-watcher",
        "balance-watcher",
        *args,
        workdir=tmp_path,
        env=env,
        ready_url=metrics_url,
    )
    try:

        def pushed_four() -> bool:
            assert process.alive(), process.tail()
            return len(orchestrator.requests) >= 4

        eventually(pushed_four, 15, 0.05, what="four balance pushes")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            metrics = answer.read().decode()
        os.kill(process.pid, signal.SIGTERM)
        assert process.proc is not None
        assert process.proc.wait(timeout=10) == 0, process.tail()
    finally:
        process.stop()
    after = {chain: local_chains.tx_count(chain) for chain in local_chains.chains}
    assert after == before, "arbqos sent a transaction"

    assert 'arb_wallet_balance_usd{chain="sx_rollup",token="USDC",wallet="sx"} 12.0' in metrics
    assert 'arb_balance_low_events_total{wallet="sx"} 1.0' in metrics
    assert 'arb_config_info{config_hash="' in metrics and 'service="balance_watcher"' in metrics
    assert "arb_balance_watcher_last_poll_timestamp_seconds " in metrics
    path, headers, body = orchestrator.requests[-1]
    assert path == "/v1/registry/balances"
    assert headers["authorization"] == "Bearer pause-token-for-test"
    assert body["balances"]["sx"]["low"] is True
    assert body["balances"]["azuro"]["balance_usd"] == 60
    lines = [json.loads(x) for x in (tmp_path / "balance_watcher.log").read_text().splitlines()]
    assert [x["event"] for x in lines].count("low") == 1
    assert sum(1 for x in lines if x["event"] == "poll") >= 4


def test_once_exits_0_when_read_and_1_when_a_read_failed(
    local_chains: LocalChains, tmp_path: Path
) -> None:
    (tmp_path / "config").mkdir()
    base = ["--config-dir", str(tmp_path / "config"), "--once"]
    base += settings(local_chains, tmp_path, f"http://127.0.0.1:{free_port()}")
    done = run_arbqos("balance-watcher", *base)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["event"] == "poll" and record["poll"] == 1
    assert record["wallets"]["azuro"]["ok"] is True

    closed = f"endpoints.chains.polygon.rpc_urls=http://127.0.0.1:{free_port()}"
    done = run_arbqos("balance-watcher", *base, "--set", closed)
    assert done.returncode == 1, done.stderr
    record = json.loads(done.stdout)
    assert record["wallets"]["azuro"]["ok"] is False
    assert record["wallets"]["azuro"]["error"].startswith("connect:")
    assert record["wallets"]["sx"]["ok"] is True
