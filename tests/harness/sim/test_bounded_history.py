"""The simulators keep a bounded history: finished records go after `history_s`, totals stay."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from arbqos.clock import FakeClock
from arbqos_harness.sim.azuro import AzuroSimulator
from arbqos_harness.sim.history import Expiring, Timeline
from arbqos_harness.sim.sx import SxSimulator
from tests.harness.sim.conftest import quiet_knobs, sample
from tests.harness.sim.test_azuro_sim import place_request


def fill_request(**changes: Any) -> dict[str, Any]:
    """The documented fill request with `changes` applied."""
    return {**sample("sx/orders_fill_v2_request.json"), **changes}


def test_timeline_drops_the_oldest_and_finds_by_time_and_sequence() -> None:
    timeline: Timeline[str] = Timeline(max_records=3000)
    for i in range(2500):
        assert timeline.append(f"r{i}", at=float(i)) == i
    assert timeline.seq_at(1000.0) == 1000 and timeline.seq_at(1e9) == timeline.next_seq
    dropped = timeline.drop_while(lambda item: int(item[1:]) < 2000)
    assert len(dropped) == 2000 and len(timeline) == 500  # compacted on the way
    assert timeline.oldest() == (2000, "r2000")
    assert [seq for seq, _ in timeline.since(2498)] == [2498, 2499]
    assert next(iter(timeline.since(5)))[0] == 2000  # dropped: starts at the oldest kept
    assert timeline.seq_at(10.0) == 2000
    assert timeline.append("late", at=1.0) == 2500  # time clamped, order kept
    assert timeline.seq_at(2499.0) == 2499
    capped: Timeline[int] = Timeline(max_records=2)
    for i in range(5):
        capped.append(i, at=0.0)
    capped.drop_while(lambda _item: False)
    assert [item for _seq, item in capped.since(0)] == [3, 4]


def test_expiring_keys_go_in_order_once_due_or_over_the_cap() -> None:
    store: Expiring[int] = Expiring(max_records=3)
    store.put("a", 1, until=10.0)
    store.put("b", 2, until=5.0)
    assert store.expire(6.0) == 0  # "b" waits behind "a"
    assert store.expire(10.0) == 2 and len(store) == 0
    for i in range(5):
        store.put(f"k{i}", i, until=100.0)
    assert len(store) == 3 and "k1" not in store and store.get("k4") == 4
    assert list(store.values()) == [2, 3, 4]


async def test_sx_keeps_trades_for_history_s_after_they_settle(fake_clock: FakeClock) -> None:
    sim = SxSimulator(seed=7, knobs=quiet_knobs(), clock=fake_clock, history_s=100.0)
    sim.core.knobs.update({"confirm_s": 1.0, "settle_after_s": 10.0})
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sx") as sx:
        for i in range(3):
            filled = await sx.post("/orders/fill/v2", json=fill_request(fillSalt=f"s{i}"))
            assert filled.is_success
        volume = (await sx.get("/metadata")).json()["data"]["totalVolume"]
        assert volume == 150.0
        again = await sx.post("/orders/fill/v2", json=fill_request(fillSalt="s0"))
        assert again.json()["errorCode"] == "FILL_ALREADY_SUBMITTED"
        fake_clock.advance(105)  # settled at about 11 s: still kept
        assert len((await sx.get("/trades")).json()["data"]["trades"]) == 3
        fake_clock.advance(10)
        assert (await sx.get("/trades")).json()["data"]["trades"] == []
        assert sim.kept_records() == 0  # trades and salts gone
        assert (await sx.get("/metadata")).json()["data"]["totalVolume"] == volume  # lifetime
        reused = await sx.post("/orders/fill/v2", json=fill_request(fillSalt="s0"))
        assert reused.is_success  # a salt is remembered for history_s only


async def test_sx_trades_by_start_date_and_unsettled_pages(fake_clock: FakeClock) -> None:
    sim = SxSimulator(seed=7, knobs=quiet_knobs(), clock=fake_clock)
    sim.core.knobs.update({"confirm_s": 1.0, "settle_after_s": 50.0})
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sx") as sx:
        for i in range(6):
            await sx.post("/orders/fill/v2", json=fill_request(fillSalt=f"t{i}"))
            fake_clock.advance(20)
        trades = (await sx.get("/trades")).json()["data"]["trades"]
        times = [t["betTime"] for t in trades]
        assert times == sorted(times) and len(times) == 6
        later = await sx.get("/trades", params={"startDate": str(times[3])})
        assert [t["betTime"] for t in later.json()["data"]["trades"]] == times[3:]
        window = {"startDate": str(times[1]), "endDate": str(times[2])}
        assert len((await sx.get("/trades", params=window)).json()["data"]["trades"]) == 2
        unsettled: list[str] = []
        params = {"settled": "false", "pageSize": "1"}
        key: str | None = "0"
        while key is not None:
            page = (await sx.get("/trades", params={**params, "paginationKey": key})).json()
            unsettled += [t["fillHash"] for t in page["data"]["trades"]]
            key = page["data"]["nextKey"]
        assert unsettled == [t["fillHash"] for t in trades if not t["settled"]]
        assert len(unsettled) == 2  # settled 51 s after the bet: the last two not yet
        bad = await sx.get("/trades", params={"startDate": "yesterday"})
        assert bad.status_code == 400 and "startDate" in bad.json()["message"]


async def test_azuro_forgets_finished_orders_and_counts_pending_ones(
    fake_clock: FakeClock,
) -> None:
    sim = AzuroSimulator(seed=7, knobs=quiet_knobs(), clock=fake_clock, history_s=60.0)
    sim.core.knobs.update({"settle_after_s": 10.0, "max_inflight": 2})
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://azuro") as azuro:
        ids = []
        for nonce in ("1", "2", "3"):
            body = await place_request(azuro, fake_clock, nonce=nonce)
            ids.append((await azuro.post("/bet/orders/ordinar", json=body)).json()["id"])
        fake_clock.advance(1.0)
        third = (await azuro.get(f"/bet/orders/{ids[2]}")).json()
        assert third["state"] == "Rejected" and third["error"] == "TOO_MANY_PENDING"
        body = await place_request(azuro, fake_clock, nonce="4")
        ids.append((await azuro.post("/bet/orders/ordinar", json=body)).json()["id"])
        fake_clock.advance(1.0)
        assert (await azuro.get(f"/bet/orders/{ids[3]}")).json()["state"] == "Accepted"
        fake_clock.advance(65)  # settled about 55 s ago: kept
        assert (await azuro.get(f"/bet/orders/{ids[0]}")).json()["state"] == "Settled"
        fake_clock.advance(10)
        statuses = [(await azuro.get(f"/bet/orders/{i}")).status_code for i in ids]
        assert statuses == [404] * 4
        assert sim.kept_records() == 0
        reused = await place_request(azuro, fake_clock, nonce="1")
        assert (await azuro.post("/bet/orders/ordinar", json=reused)).status_code == 200


@pytest.mark.parametrize("history_s", [0.0, -1.0])
def test_history_must_be_positive(history_s: float) -> None:
    with pytest.raises(ValueError, match="history_s"):
        SxSimulator(history_s=history_s)
    with pytest.raises(ValueError, match="history_s"):
        AzuroSimulator(history_s=history_s)


async def test_the_cap_holds_whatever_the_knobs(fake_clock: FakeClock) -> None:
    sim = SxSimulator(seed=7, knobs=quiet_knobs(), clock=fake_clock, max_records=5)
    sim.core.knobs.update({"settle_after_s": 1e9})  # never settles: only the cap bounds it
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sx") as sx:
        hashes = []
        for i in range(8):
            resp = await sx.post("/orders/fill/v2", json=fill_request(fillSalt=f"c{i}"))
            hashes.append(resp.json()["data"]["fillHash"])
        page = (await sx.get("/trades")).json()["data"]["trades"]
    assert [t["fillHash"] for t in page] == hashes[-5:]
    assert len(sim.trades) == 5 and sim.kept_records() <= 10
