"""The SX Bet simulator speaks the documented shapes and error codes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from arbqos.clock import FakeClock, SystemClock
from arbqos_harness.sim.knobs import KnobBox, SimKnobs
from arbqos_harness.sim.sx import REJECT_CODES, SxSimulator
from tests.harness.sim.conftest import read_log, sample, shape_diff

FILL_CODES = set(sample("sx/error_examples.json")["by_endpoint"]["POST /orders/fill/v2"])


def fill_request(**changes: Any) -> dict[str, Any]:
    """The documented fill request with `changes` applied."""
    return {**sample("sx/orders_fill_v2_request.json"), **changes}


async def test_metadata_has_the_documented_shape(sx: httpx.AsyncClient) -> None:
    resp = await sx.get("/metadata")
    assert resp.status_code == 200
    body, want = resp.json(), sample("sx/metadata.json")
    assert set(body) == set(want) and body["status"] == "success"
    assert set(body["data"]) == set(want["data"])
    assert set(body["data"]["sportXAffiliate"]) == set(want["data"]["sportXAffiliate"])
    # Maps keyed by token address / chain id: SX Rollup values instead of the sample's old ones.
    assert body["data"]["addresses"]["4162"]["USDC"] == fill_request()["baseToken"]
    assert fill_request()["baseToken"] in body["data"]["takerMinimums"]


async def test_documented_fill_request_gets_the_documented_response(
    sx: httpx.AsyncClient, tmp_path: Path
) -> None:
    resp = await sx.post("/orders/fill/v2", json=fill_request())
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert shape_diff(body, sample("sx/orders_fill_v2_response.json")) == []
    data = body["data"]
    assert data["isPartialFill"] is False
    assert data["totalFilled"] == "50000000"
    assert 0 < int(data["averageOdds"]) < 10**20
    assert data["fillHash"].startswith("0x") and len(data["fillHash"]) == 66
    results = [r for r in read_log(tmp_path / "sx.log") if r["event"] == "order_result"]
    assert len(results) == 1
    record = results[0]
    assert record["result"] == "filled"
    assert record["requested_usd"] == record["filled_usd"] == 50.0
    assert record["order_id"] == data["fillHash"]
    assert record["accept_s"] == pytest.approx(0.5, abs=0.01)  # pregame betting delay


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"desiredOdds": str(10**20)}, "INVALID_ODDS"),
        ({"desiredOdds": "0.83"}, "INVALID_ODDS"),
        ({"oddsSlippage": 101}, "INVALID_ODDS_SLIPPAGE"),
        ({"oddsSlippage": 2.5}, "INVALID_ODDS_SLIPPAGE"),
        ({"stakeWei": "10"}, "TAKER_AMOUNT_TOO_LOW"),
        ({"market": "0x" + "ab" * 32}, "INVALID_ORDERS"),
        ({"desiredOdds": "1000000000000000000"}, "ODDS_STALE"),
    ],
)
async def test_bad_fills_answer_documented_error_codes(
    sx: httpx.AsyncClient, changes: dict[str, Any], code: str
) -> None:
    resp = await sx.post("/orders/fill/v2", json=fill_request(**changes))
    assert resp.status_code == 400
    body = resp.json()
    assert body == {"status": "failure", "errorCode": code, "message": body["message"]}
    assert code in FILL_CODES
    assert body["message"]


async def test_a_fill_salt_is_accepted_once(sx: httpx.AsyncClient) -> None:
    assert (await sx.post("/orders/fill/v2", json=fill_request())).status_code == 200
    again = await sx.post("/orders/fill/v2", json=fill_request())
    assert again.status_code == 400
    assert again.json()["errorCode"] == "FILL_ALREADY_SUBMITTED"


async def test_malformed_requests_are_4xx_naming_the_problem(sx: httpx.AsyncClient) -> None:
    missing = {k: v for k, v in fill_request().items() if k != "stakeWei"}
    resp = await sx.post("/orders/fill/v2", json=missing)
    assert resp.status_code == 400 and "stakeWei" in resp.json()["message"]
    garbage = await sx.post("/orders/fill/v2", content=b"{not json")
    assert garbage.status_code == 400 and "JSON" in garbage.json()["message"]
    listing = await sx.post("/orders/fill/v2", json=[1, 2])
    assert listing.status_code == 400


async def test_rejections_and_partials_follow_the_knobs(
    sx: httpx.AsyncClient, sx_sim: SxSimulator
) -> None:
    sx_sim.core.knobs.update({"reject_prob": 1.0})
    codes = set()
    for i in range(12):
        resp = await sx.post("/orders/fill/v2", json=fill_request(fillSalt=f"r{i}"))
        assert resp.status_code == 400
        codes.add(resp.json()["errorCode"])
    assert codes <= set(REJECT_CODES) <= FILL_CODES
    assert len(codes) >= 2
    sx_sim.core.knobs.update({"reject_prob": 0.0, "partial_prob": 1.0})
    resp = await sx.post("/orders/fill/v2", json=fill_request(fillSalt="p"))
    data = resp.json()["data"]
    assert data["isPartialFill"] is True
    assert 0.2 * 50_000_000 <= int(data["totalFilled"]) <= 0.8 * 50_000_000


async def test_trades_move_from_pending_to_success_then_settle(
    sx: httpx.AsyncClient, sx_sim: SxSimulator, fake_clock: FakeClock
) -> None:
    sx_sim.core.knobs.update({"confirm_s": 2.0, "settle_after_s": 30.0})
    fill = (await sx.post("/orders/fill/v2", json=fill_request())).json()["data"]
    page = (await sx.get("/trades")).json()
    assert shape_diff(page, sample("sx/trades_response.json")) == []
    trade = page["data"]["trades"][0]
    assert (trade["fillHash"], trade["tradeStatus"], trade["settled"]) == (
        fill["fillHash"],
        "PENDING",
        False,
    )
    fake_clock.advance(2.5)
    assert (await sx.get("/trades")).json()["data"]["trades"][0]["tradeStatus"] == "SUCCESS"
    unsettled = await sx.get("/trades", params={"settled": "false"})
    assert len(unsettled.json()["data"]["trades"]) == 1
    fake_clock.advance(30)
    settled = (await sx.get("/trades", params={"settled": "true"})).json()["data"]["trades"]
    assert settled[0]["settled"] is True and settled[0]["outcome"] in (1, 2)
    assert settled[0]["settleDate"].endswith("Z")
    other = await sx.get("/trades", params={"bettor": "0x" + "1" * 40})
    assert other.json()["data"]["trades"] == []


async def test_voided_and_failed_trades(
    sx: httpx.AsyncClient, sx_sim: SxSimulator, fake_clock: FakeClock
) -> None:
    sx_sim.core.knobs.update({"void_prob": 1.0, "settle_after_s": 10.0, "confirm_s": 1.0})
    await sx.post("/orders/fill/v2", json=fill_request(fillSalt="void"))
    sx_sim.core.knobs.update({"void_prob": 0.0, "trade_fail_prob": 1.0})
    await sx.post("/orders/fill/v2", json=fill_request(fillSalt="fail"))
    fake_clock.advance(20)
    trades = {t["tradeStatus"]: t for t in (await sx.get("/trades")).json()["data"]["trades"]}
    assert trades["SUCCESS"]["settled"] is True and trades["SUCCESS"]["outcome"] == 0  # void
    assert trades["FAILED"]["settled"] is False and trades["FAILED"]["valid"] is False


async def test_trades_paging(sx: httpx.AsyncClient) -> None:
    for i in range(5):
        await sx.post("/orders/fill/v2", json=fill_request(fillSalt=f"page{i}"))
    first = (await sx.get("/trades", params={"pageSize": "2"})).json()["data"]
    assert len(first["trades"]) == 2 and first["nextKey"]
    rest = await sx.get("/trades", params={"pageSize": "10", "paginationKey": first["nextKey"]})
    assert len(rest.json()["data"]["trades"]) == 3 and rest.json()["data"]["nextKey"] is None
    bad = await sx.get("/trades", params={"pageSize": "x"})
    assert bad.status_code == 400


async def test_heartbeat_register_and_cancel(sx: httpx.AsyncClient) -> None:
    key = {"X-Api-Key": "test-key"}
    body = {"requestor": "0xa3bBFaB3645B2Dd4296cADc451d74574CD47Ba1a", "timeoutSeconds": 10}
    resp = await sx.post("/heartbeat", json=body, headers=key)
    assert shape_diff(resp.json(), sample("sx/heartbeat_response.json")) == []
    assert resp.json()["data"]["timeoutSeconds"] == 10
    cancel = await sx.post("/heartbeat", json={**body, "timeoutSeconds": 0}, headers=key)
    assert shape_diff(cancel.json(), sample("sx/heartbeat_cancel_response.json")) == []
    assert (await sx.post("/heartbeat", json=body)).status_code == 401
    too_long = await sx.post("/heartbeat", json={**body, "timeoutSeconds": 3601}, headers=key)
    assert too_long.status_code == 400 and "timeoutSeconds" in too_long.json()["message"]


async def test_best_odds_quote_matches_the_fill_price(sx: httpx.AsyncClient) -> None:
    market = (await sx.get("/sim/markets")).json()[0]["marketHash"]
    quote = (await sx.get("/orders/odds/best", params={"marketHashes": market})).json()
    best = quote["data"]["bestOdds"][0]
    assert set(best) == {"marketHash", "baseToken", "outcomeOne", "outcomeTwo"}
    taker_one = 10**20 - int(best["outcomeTwo"]["percentageOdds"])
    body = fill_request(market=market, desiredOdds=str(taker_one), oddsSlippage=5)
    fill = (await sx.post("/orders/fill/v2", json=body)).json()["data"]
    assert abs(int(fill["averageOdds"]) - taker_one) < 10**20 * 0.01
    assert (await sx.get("/orders/odds/best")).status_code == 400


async def test_rate_limit_answers_429_for_a_rolling_minute(
    sx: httpx.AsyncClient, sx_sim: SxSimulator, fake_clock: FakeClock
) -> None:
    sx_sim.core.knobs.update({"rate_limit_per_min": 2})
    statuses = [
        (await sx.post("/orders/fill/v2", json=fill_request(fillSalt=f"rl{i}"))).status_code
        for i in range(3)
    ]
    assert statuses == [200, 200, 429]
    fake_clock.advance(61)
    assert (await sx.post("/orders/fill/v2", json=fill_request(fillSalt="rl9"))).status_code == 200


async def test_more_than_max_inflight_fills_are_refused(tmp_path: Path) -> None:
    knobs = KnobBox(SimKnobs(time_scale=0.4, jitter_s=0.0, reject_prob=0.0, partial_prob=0.0))
    knobs.update({"max_inflight": 2})
    sim = SxSimulator(seed=1, knobs=knobs, clock=SystemClock())
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sx") as client:
        responses = await asyncio.gather(
            *(client.post("/orders/fill/v2", json=fill_request(fillSalt=f"c{i}")) for i in range(4))
        )
    codes = sorted(r.json().get("errorCode", "ok") for r in responses)
    assert codes == ["META_TX_RATE_LIMIT_REACHED", "META_TX_RATE_LIMIT_REACHED", "ok", "ok"]
