"""Knobs validate, change behaviour at runtime, inject outages, and draws are seeded."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from arbqos.clock import FakeClock
from arbqos.eventlog import EventLog
from arbqos_harness.process import ManagedProcess, free_port, wait_for_http
from arbqos_harness.sim import KnobBox, KnobError, SimKnobs, serve
from arbqos_harness.sim.azuro import AzuroSimulator
from arbqos_harness.sim.sx import SxSimulator
from tests.harness.sim.conftest import quiet_knobs, read_log, sample

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def fill(salt: str, **changes: Any) -> dict[str, Any]:
    return {**sample("sx/orders_fill_v2_request.json"), "fillSalt": salt, **changes}


def test_knob_validation_names_the_knob() -> None:
    knobs = SimKnobs()
    assert knobs.with_changes({"slow_accept": 3}).slow_accept == 3.0
    assert knobs.slow_accept == 1.0  # immutable
    cases = [
        ({"nope": 1}, "unknown knob"),
        ({"reject_prob": 1.5}, "reject_prob"),
        ({"reject_prob": 0.6, "partial_prob": 0.6}, "partial_prob + reject_prob"),
        ({"time_scale": 0}, "time_scale"),
        ({"live_delay_s": [10, 3]}, "live_delay_s"),
        ({"live_delay_s": 5}, "live_delay_s"),
        ({"outage": "down"}, "outage"),
        ({"max_inflight": 1.5}, "max_inflight"),
        ({"subgraph_indexing_errors": "yes"}, "subgraph_indexing_errors"),
        ({"error_rate": float("nan")}, "error_rate"),
    ]
    for changes, fragment in cases:
        with pytest.raises(KnobError, match=re.escape(fragment)):
            knobs.with_changes(changes)


async def test_control_endpoint_changes_knobs_and_refuses_bad_ones(
    sx: httpx.AsyncClient, sx_sim: SxSimulator, tmp_path: Path
) -> None:
    resp = await sx.post("/sim/knobs", json={"slow_accept": 4, "live_delay_s": [1, 2]})
    assert resp.status_code == 200 and resp.json()["slow_accept"] == 4.0
    assert (await sx.get("/sim/knobs")).json()["live_delay_s"] == [1.0, 2.0]
    bad = await sx.post("/sim/knobs", json={"slow_accept": -1})
    assert bad.status_code == 400 and "slow_accept" in bad.json()["detail"]
    assert sx_sim.core.knobs.current.slow_accept == 4.0  # unchanged by the refused update
    assert (await sx.post("/sim/knobs", json=[1])).status_code == 400
    changes = [r for r in read_log(tmp_path / "sx.log") if r["event"] == "knobs_changed"]
    assert changes[0]["changes"] == {"slow_accept": 4, "live_delay_s": [1, 2]}


async def test_slow_accept_takes_effect_on_the_next_order(
    sx: httpx.AsyncClient, tmp_path: Path
) -> None:
    await sx.post("/orders/fill/v2", json=fill("a"))
    await sx.post("/sim/knobs", json={"slow_accept": 6})
    await sx.post("/orders/fill/v2", json=fill("b"))
    results = [r for r in read_log(tmp_path / "sx.log") if r["event"] == "order_result"]
    assert [r["accept_s"] for r in results] == pytest.approx([0.5, 3.0], abs=0.01)
    for record in results:
        assert TS.match(record["ts"]) and TS.match(record["submit_ts"])
        assert TS.match(record["accept_ts"])
        assert {"requested_usd", "filled_usd", "phase", "venue", "config_hash"} <= set(record)


async def test_time_scale_shortens_live_delays(tmp_path: Path, fake_clock: FakeClock) -> None:
    log = EventLog(tmp_path / "sx.log", fake_clock, config_hash="t")
    sim = SxSimulator(seed=1, knobs=quiet_knobs(time_scale=0.1), clock=fake_clock, event_log=log)
    live = next(m for m in sim.markets.values() if m.phase == "live").market_hash
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sx") as client:
        for i in range(10):
            body = fill(f"l{i}", market=live, desiredOdds=str(99 * 10**18))
            assert (await client.post("/orders/fill/v2", json=body)).status_code == 200
    accepts = [r["accept_s"] for r in read_log(tmp_path / "sx.log") if r["event"] == "order_result"]
    assert all(0.3 - 1e-6 <= a <= 1.0 + 1e-6 for a in accepts)  # live 3-10 s at time_scale 0.1
    assert max(accepts) - min(accepts) > 0.1


async def test_outage_503_on_venue_endpoints_only(
    sx: httpx.AsyncClient, azuro: httpx.AsyncClient
) -> None:
    for client, path in ((sx, "/metadata"), (azuro, "/bet/orders/x_1")):
        await client.post("/sim/knobs", json={"outage": "503"})
        assert (await client.get(path)).status_code == 503
        assert (await client.get("/sim/knobs")).status_code == 200
        await client.post("/sim/knobs", json={"outage": "none"})
        assert (await client.get(path)).status_code in (200, 404)
    await sx.post("/sim/knobs", json={"outage": "503"})
    assert (await sx.post("/orders/fill/v2", json=fill("o"))).status_code == 503


async def test_error_rate_fails_requests_with_500(
    sx: httpx.AsyncClient, sx_sim: SxSimulator, tmp_path: Path
) -> None:
    sx_sim.core.knobs.update({"error_rate": 1.0})
    assert (await sx.post("/orders/fill/v2", json=fill("e"))).status_code == 500
    assert (await sx.get("/metadata")).status_code == 500
    result = next(r for r in read_log(tmp_path / "sx.log") if r["event"] == "order_result")
    assert (result["result"], result["filled_usd"]) == ("error", 0.0)


def test_hang_outage_holds_requests_until_it_ends() -> None:
    sim = SxSimulator(seed=1, knobs=quiet_knobs(time_scale=0.1))
    with serve(sim.app) as server:
        httpx.post(server.url + "/sim/knobs", json={"outage": "hang"})
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(server.url + "/metadata", timeout=0.3)
        answers: list[int] = []
        waiter = threading.Thread(
            target=lambda: answers.append(
                httpx.get(server.url + "/metadata", timeout=5).status_code
            )
        )
        waiter.start()
        time.sleep(0.3)
        assert answers == []
        httpx.post(server.url + "/sim/knobs", json={"outage": "none"})
        waiter.join(5)
        assert answers == [200]


def test_stopping_the_server_ends_pending_delays_with_503() -> None:
    knobs = quiet_knobs(pregame_delay_s=[30, 30])
    server = serve(SxSimulator(seed=1, knobs=knobs).app)
    answers: list[httpx.Response] = []
    waiter = threading.Thread(
        target=lambda: answers.append(httpx.post(server.url + "/orders/fill/v2", json=fill("s")))
    )
    waiter.start()
    time.sleep(0.3)
    server.stop()
    waiter.join(10)  # a backstop: the delay itself is 30 s
    assert not waiter.is_alive(), "stop() did not end the pending 30 s delay"
    assert answers[0].status_code == 503 and answers[0].json()["errorCode"] == "SHUTTING_DOWN"


async def _decisions(seed: int, tmp_path: Path, venue: str, run: str) -> list[tuple[Any, ...]]:
    clock = FakeClock()
    log = EventLog(tmp_path / f"{venue}-{seed}-{run}.log", clock, config_hash="d")
    knobs = KnobBox(SimKnobs(reject_prob=0.2, partial_prob=0.2, void_prob=0.3, error_rate=0.1))
    if venue == "sx":
        app = SxSimulator(seed=seed, knobs=knobs, clock=clock, event_log=log).app
    else:
        app = AzuroSimulator(seed=seed, knobs=knobs, clock=clock, event_log=log).app
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        conditions = (await client.get("/sim/markets")).json()
        for i in range(40):
            if venue == "sx":
                await client.post(
                    "/orders/fill/v2", json=fill(f"d{i}", desiredOdds=str(99 * 10**18))
                )
            else:
                body = sample("azuro/place_bet_request.json")
                bet = body["clientBetData"]["bet"]
                bet.update(
                    conditionId=conditions[i % 6]["conditionId"],
                    nonce=str(i),
                    minOdds="1000000000000",
                )
                body["clientBetData"]["clientData"]["expiresAt"] = 2_000_000_000
                await client.post("/bet/orders/ordinar", json=body)
    return [
        (r["result"], r["error_code"], r["filled_usd"], r.get("accept_s"), r.get("void"))
        for r in read_log(log.path)
        if r["event"] == "order_result"
    ]


@pytest.mark.parametrize("venue", ["sx", "azuro"])
async def test_same_seed_same_decisions(tmp_path: Path, venue: str) -> None:
    first = await _decisions(5, tmp_path, venue, "first")
    again = await _decisions(5, tmp_path, venue, "again")
    other = await _decisions(6, tmp_path, venue, "other")
    assert len(first) == 40
    assert first == again
    assert first != other
    assert len({r[0] for r in first}) >= 3  # the knobs produce a mix of results


def test_serve_starts_and_stops_a_thread_server() -> None:
    server = serve(SxSimulator(seed=1).app)
    assert httpx.get(server.url + "/sim/healthz").json() == {"status": "ok", "venue": "sx"}
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/sim/healthz", timeout=1)


@pytest.mark.parametrize("module", ["arbqos_harness.sim.sx", "arbqos_harness.sim.azuro"])
def test_module_entry_points_serve_with_knobs_and_a_log(tmp_path: Path, module: str) -> None:
    port = free_port()
    log = tmp_path / "events.log"
    argv = [
        sys.executable,
        "-m",
        module,
        "--port",
        str(port),
        "--seed",
        "3",
        "--event-log",
        str(log),
        "--knobs",
        json.dumps({"time_scale": 0.1}),
    ]
    with ManagedProcess(module, argv, tmp_path) as proc:
        wait_for_http(f"http://127.0.0.1:{port}/sim/healthz", timeout_s=20)
        knobs = httpx.get(f"http://127.0.0.1:{port}/sim/knobs").json()
        assert knobs["time_scale"] == 0.1
        httpx.post(f"http://127.0.0.1:{port}/sim/knobs", json={"slow_accept": 2})
        assert proc.alive()
    header, changed = read_log(log)[:2]
    assert (header["event"], header["segment"]) == ("log_segment", 0)
    assert changed["event"] == "knobs_changed"


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--knobs", '{"bogus": 1}'], "bogus"),
        (["--history-s", "0"], "--history-s"),
        (["--log-retention-s", "-5"], "--log-retention-s"),
    ],
)
def test_module_entry_point_rejects_bad_flags(flags: list[str], named: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "arbqos_harness.sim.sx", "--port", "1", *flags],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2 and named in done.stderr
