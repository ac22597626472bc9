"""The Azuro simulator speaks the toolkit shapes and moves orders through their states."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from arbqos.clock import FakeClock
from arbqos_harness.process import ManagedProcess, find_tool, free_port, wait_for_port
from arbqos_harness.sim.azuro import SUBGRAPH_PATH, AzuroSimulator, parse_selection
from tests.harness.sim.conftest import quiet_knobs, read_log, sample, shape_diff
from tests.support.wait import returns_within

META_QUERY = "{ _meta { block { number timestamp } hasIndexingErrors deployment } }"


async def place_request(client: httpx.AsyncClient, clock: FakeClock, **bet: Any) -> dict[str, Any]:
    """The documented place request on a condition the simulator lists, not yet expired."""
    body = sample("azuro/place_bet_request.json")
    conditions = (await client.get("/sim/markets")).json()
    body["clientBetData"]["bet"]["conditionId"] = conditions[0]["conditionId"]
    body["clientBetData"]["bet"]["minOdds"] = "1000000000000"  # 1.0: accept any price
    body["clientBetData"]["bet"].update(bet)
    body["clientBetData"]["clientData"]["expiresAt"] = int(clock.now_utc().timestamp()) + 300
    return body


async def test_place_answers_created_and_the_order_progresses_to_accepted(
    azuro: httpx.AsyncClient, fake_clock: FakeClock, tmp_path: Path
) -> None:
    resp = await azuro.post("/bet/orders/ordinar", json=await place_request(azuro, fake_clock))
    assert resp.status_code == 200, resp.text
    assert shape_diff(resp.json(), sample("azuro/place_bet_response.json")) == []
    assert resp.json()["state"] == "Created"
    order_id = resp.json()["id"]
    assert order_id == sample("azuro/place_bet_response.json")["id"]  # bettor_nonce
    seen = []
    for _ in range(12):
        order = (await azuro.get(f"/bet/orders/{order_id}")).json()
        if not seen or seen[-1] != order["state"]:
            seen.append(order["state"])
        assert set(order) == set(sample("azuro/get_bet_order_response.json"))
        fake_clock.advance(0.1)
    assert seen == ["Created", "Placed", "Sent", "Accepted"]
    assert shape_diff(order, sample("azuro/get_bet_order_response.json")) == []
    assert order["txHash"].startswith("0x") and order["odds"] > 1.0
    assert order["meta"]["status"] == "Accepted"
    record = next(r for r in read_log(tmp_path / "azuro.log") if r["event"] == "order_result")
    assert record["result"] == "filled" and record["accept_s"] == pytest.approx(0.5)
    assert record["requested_usd"] == record["filled_usd"] == 10.0


async def test_orders_settle_or_are_canceled_as_void(
    azuro: httpx.AsyncClient, azuro_sim: AzuroSimulator, fake_clock: FakeClock
) -> None:
    azuro_sim.core.knobs.update({"settle_after_s": 5.0})
    settled = await azuro.post("/bet/orders/ordinar", json=await place_request(azuro, fake_clock))
    azuro_sim.core.knobs.update({"void_prob": 1.0})
    voided = await azuro.post(
        "/bet/orders/ordinar", json=await place_request(azuro, fake_clock, nonce="42")
    )
    fake_clock.advance(10)
    first = (await azuro.get(f"/bet/orders/{settled.json()['id']}")).json()
    second = (await azuro.get(f"/bet/orders/{voided.json()['id']}")).json()
    assert first["state"] == "Settled" and first["result"] in ("Won", "Lost")
    assert first["settledAt"].endswith("Z") and first["payout"] is not None
    assert second["state"] == "Canceled" and second["result"] == "Canceled"
    assert second["payout"] == second["amount"]


async def test_rejected_orders_carry_an_error(
    azuro: httpx.AsyncClient, azuro_sim: AzuroSimulator, fake_clock: FakeClock
) -> None:
    azuro_sim.core.knobs.update({"reject_prob": 1.0})
    resp = await azuro.post("/bet/orders/ordinar", json=await place_request(azuro, fake_clock))
    fake_clock.advance(5)
    order = (await azuro.get(f"/bet/orders/{resp.json()['id']}")).json()
    assert order["state"] == "Rejected" and order["txHash"] is None
    assert order["error"] and order["errorMessage"]


async def test_min_odds_above_the_price_is_rejected(
    azuro: httpx.AsyncClient, fake_clock: FakeClock
) -> None:
    body = await place_request(azuro, fake_clock, minOdds=str(50 * 10**12))
    resp = await azuro.post("/bet/orders/ordinar", json=body)
    fake_clock.advance(5)
    order = (await azuro.get(f"/bet/orders/{resp.json()['id']}")).json()
    assert (order["state"], order["error"]) == ("Rejected", "ODDS_CHANGED")


async def test_unknown_order_is_404(azuro: httpx.AsyncClient) -> None:
    resp = await azuro.get("/bet/orders/0xabc_1")
    assert resp.status_code == 404
    assert set(resp.json()) == {"error", "errorMessage"}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda b: b["clientBetData"]["bet"].update(amount="10000001"), "INVALID_AMOUNT"),
        (lambda b: b["clientBetData"]["clientData"].update(expiresAt=1), "ORDER_EXPIRED"),
        (lambda b: b.update(environment="Mainnet"), "INVALID_ENVIRONMENT"),
        (lambda b: b["clientBetData"]["bet"].update(conditionId="1"), "CONDITION_NOT_FOUND"),
        (lambda b: b["clientBetData"]["bet"].update(outcomeId=1), "OUTCOME_NOT_FOUND"),
        (lambda b: b.update(bettor="me"), "INVALID_REQUEST"),
        (lambda b: b.pop("clientBetData"), "INVALID_REQUEST"),
    ],
)
async def test_bad_orders_are_400_naming_the_problem(
    azuro: httpx.AsyncClient, fake_clock: FakeClock, change: Any, code: str
) -> None:
    body = await place_request(azuro, fake_clock)
    change(body)
    resp = await azuro.post("/bet/orders/ordinar", json=body)
    assert resp.status_code == 400
    assert resp.json()["error"] == code and resp.json()["errorMessage"]


async def test_duplicate_order_id_is_refused(
    azuro: httpx.AsyncClient, fake_clock: FakeClock
) -> None:
    body = await place_request(azuro, fake_clock)
    assert (await azuro.post("/bet/orders/ordinar", json=body)).status_code == 200
    again = await azuro.post("/bet/orders/ordinar", json=body)
    assert again.status_code == 400 and again.json()["error"] == "ORDER_ALREADY_EXISTS"


async def test_condition_batch_shape(azuro: httpx.AsyncClient) -> None:
    ids = [c["conditionId"] for c in (await azuro.get("/sim/markets")).json()][:2]
    resp = await azuro.post("/market-manager/condition-batch", json={"conditionIds": [*ids, "9"]})
    conditions = resp.json()["conditions"]
    assert [c["conditionId"] for c in conditions] == ids
    for condition in conditions:
        assert set(condition) == {"conditionId", "state", "outcomes"}
        assert condition["state"] == "Active"
        for outcome in condition["outcomes"]:
            assert set(outcome) == {"id", "outcomeId", "odds"} and float(outcome["odds"]) > 1
    bad = await azuro.post("/market-manager/condition-batch", json={"conditionIds": "x"})
    assert bad.status_code == 400


async def test_subgraph_meta_shape_lag_and_errors(
    azuro: httpx.AsyncClient, azuro_sim: AzuroSimulator, fake_clock: FakeClock
) -> None:
    first = (await azuro.post(SUBGRAPH_PATH, json={"query": META_QUERY})).json()
    assert shape_diff(first, sample("azuro/subgraph_meta_response.json")) == []
    assert first["data"]["_meta"]["hasIndexingErrors"] is False
    fake_clock.advance(20)
    later = (await azuro.post(SUBGRAPH_PATH, json={"query": META_QUERY})).json()
    block = later["data"]["_meta"]["block"]
    assert block["number"] == first["data"]["_meta"]["block"]["number"] + 10  # 2 s blocks
    azuro_sim.core.knobs.update({"subgraph_lag_blocks": 30, "subgraph_indexing_errors": True})
    lagging = (await azuro.post(SUBGRAPH_PATH, json={"query": META_QUERY})).json()["data"]
    assert lagging["_meta"]["block"]["number"] == block["number"] - 30
    assert lagging["_meta"]["hasIndexingErrors"] is True
    only = await azuro.post(SUBGRAPH_PATH, json={"query": "query Q { _meta { deployment } }"})
    assert only.json() == {"data": {"_meta": {"deployment": first["data"]["_meta"]["deployment"]}}}
    unknown = await azuro.post(SUBGRAPH_PATH, json={"query": "{ bets { id } }"})
    assert "bets" in unknown.json()["errors"][0]["message"]
    syntax = await azuro.post(SUBGRAPH_PATH, json={"query": "{ bets(first: 1) { id } }"})
    assert syntax.status_code == 400 and syntax.json()["errors"]


def test_selection_parser() -> None:
    assert parse_selection("# c\n{ a { b c } d }") == {"a": {"b": None, "c": None}, "d": None}
    for bad in ("{ a { }", "a", "{ a } }", "{ a(x: 1) }", "{ {a} }"):
        with pytest.raises(ValueError):
            parse_selection(bad)


@pytest.mark.slow
async def test_subgraph_block_follows_a_real_polygon_rpc(tmp_path: Path) -> None:
    port = free_port()
    argv = [find_tool("anvil"), "--port", str(port), "--chain-id", "137", "--silent"]
    with ManagedProcess("anvil", argv, tmp_path):
        wait_for_port("127.0.0.1", port, timeout_s=20)
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as http:
            mined = await http.post(
                url, json={"jsonrpc": "2.0", "id": 1, "method": "anvil_mine", "params": ["0x7"]}
            )
            assert "error" not in mined.json()
            head = await http.post(
                url,
                json={
                    "jsonrpc": "2.0",
                    "id": 2,
                    "method": "eth_getBlockByNumber",
                    "params": ["latest", False],
                },
            )
        sim = AzuroSimulator(seed=1, knobs=quiet_knobs(subgraph_lag_blocks=2), polygon_rpc_url=url)
        transport = httpx.ASGITransport(app=sim.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://azuro") as client:
            meta = (await client.post(SUBGRAPH_PATH, json={"query": META_QUERY})).json()
        block = meta["data"]["_meta"]["block"]
        assert block["number"] == 7 - 2
        assert block["timestamp"] == int(head.json()["result"]["timestamp"], 16) - 4
    # The RPC is gone: the last known head is served, the failure is logged.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url="http://a"
    ) as client:
        asked = client.post(SUBGRAPH_PATH, json={"query": META_QUERY})
        again = (await returns_within(asked, 30, "the subgraph with its RPC gone")).json()
    assert again["data"]["_meta"]["block"]["number"] == 5
    assert sim.core.counts["subgraph_head_error"] == 1
