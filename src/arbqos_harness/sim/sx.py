"""An SX Bet-like REST API: metadata, best odds, taker fills with betting delay, trades, heartbeat.

Payload shapes follow the SX Bet API documentation samples (envelope
`{"status": "success", "data": ...}`; stakes in 6-decimal USDC units; odds as implied
probability x 1e20). The docs show no error body: errors here answer
`{"status": "failure", "errorCode": CODE, "message": text}` with the documented fill codes
(ODDS_STALE, INSUFFICIENT_SPACE, META_TX_RATE_LIMIT_REACHED, ...) where one applies, and the
simulator's own INVALID_REQUEST, RATE_LIMITED (HTTP 429), INTERNAL_ERROR (500),
SERVICE_UNAVAILABLE / SHUTTING_DOWN (503) and UNAUTHORIZED (401) otherwise.

Run alone: `python -m arbqos_harness.sim.sx --port 8801 --seed 7 --event-log sim_sx.log`.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from arbqos.clock import Clock, format_ts
from arbqos_harness.sim.core import (
    Decision,
    EventSink,
    Phase,
    SimCore,
    VenueError,
    control_router,
    decide,
    hex_id,
    install_faults,
    pick,
)
from arbqos_harness.sim.history import HISTORY_S, MAX_RECORDS, Expiring
from arbqos_harness.sim.knobs import KnobBox
from arbqos_harness.sim.sx_trades import SxTrade, TradeBook, TradeQuery

ODDS_ONE = 10**20
"""Implied probability 1.0 in SX odds units."""
LADDER_STEP = 25 * 10**16
"""Odds ladder step 0.25 % (`oddsLadderStepSize: 25` in the metadata sample)."""
USDC = "0x6629Ce1Cf35Cc1329ebB4F63202F3f197b3F050B"
"""USDC on SX Rollup (chain 4162), 6 decimals."""
WSX = "0x3E96B0a25d51e3Cc89C557f152797c33B839968f"
USDC_UNITS = 10**6
TAKER_MIN_UNITS = 1 * USDC_UNITS
"""Smallest taker stake the simulator accepts: 1 USDC (project choice)."""
FILL_PATH = "/orders/fill/v2"
_FILL_REQUIRED = (
    "taker",
    "baseToken",
    "isTakerBettingOutcomeOne",
    "stakeWei",
    "desiredOdds",
    "oddsSlippage",
    "takerSig",
    "fillSalt",
)
REJECT_CODES = {"ODDS_STALE": 0.6, "INSUFFICIENT_SPACE": 0.3, "MATCH_STATE_INVALID": 0.1}
"""Reasons drawn for a random post-delay rejection (documented fill error codes)."""
ERROR_TEXT = {
    "INVALID_ODDS": "Invalid desiredOdds, must be less than 10^20",
    "INVALID_ODDS_SLIPPAGE": "Invalid oddsSlippage, must be an integer between 0-100",
    "INVALID_ORDERS": "Order is now inactive",
    "MATCH_STATE_INVALID": (
        "The fixture for the order is in an invalid state and is not bettable anymore"
    ),
    "TAKER_AMOUNT_TOO_LOW": "The stakeWei specified is too low for the current token",
    "META_TX_RATE_LIMIT_REACHED": "Cannot have more than 10 meta transactions at once",
    "INSUFFICIENT_SPACE": (
        "There is not enough space to fill the matched orders due to other pending fills"
    ),
    "FILL_ALREADY_SUBMITTED": "The fill has already been submitted",
    "ODDS_STALE": (
        "No orders could not be found for the desiredOdds and oddsSlippage, try again with "
        "greater oddsSlippage"
    ),
}


class SxError(VenueError):
    """An SX-style failure; the message defaults to the documented description of the code."""

    def __init__(self, status: int, code: str, message: str | None = None) -> None:
        super().__init__(status, code, message or ERROR_TEXT.get(code, code))


def failure(status: int, code: str, message: str) -> JSONResponse:
    """The JSON error response of the simulator."""
    body = {"status": "failure", "errorCode": code, "message": message}
    return JSONResponse(body, status_code=status)


@dataclass(frozen=True)
class SxMarket:
    """A two-outcome market with a fair probability and the makers' margin."""

    market_hash: str
    phase: Phase
    p_one: float
    margin: float = 0.02

    def maker_odds(self, outcome_one: bool) -> int:
        """Best `percentageOdds` of makers betting `outcome_one` (or two), on the ladder."""
        fair = self.p_one if outcome_one else 1.0 - self.p_one
        raw = int((fair - self.margin / 2) * ODDS_ONE)
        return raw - raw % LADDER_STEP

    def taker_odds(self, taker_outcome_one: bool) -> int:
        """Implied odds x 1e20 a taker gets: one minus the opposite makers' odds."""
        return ODDS_ONE - self.maker_odds(not taker_outcome_one)

    def to_json(self) -> dict[str, Any]:
        """Catalogue entry for `/sim/markets`."""
        return {"marketHash": self.market_hash, "phase": self.phase, "baseToken": USDC}


@dataclass(frozen=True)
class FillRequest:
    """A validated `POST /orders/fill/v2` body."""

    taker: str
    base_token: str
    outcome_one: bool
    stake_units: int
    desired_odds: int
    odds_slippage: int
    fill_salt: str
    market: SxMarket


def make_markets(seed: int, per_phase: int) -> list[SxMarket]:
    """Deterministic market catalogue: `per_phase` pregame then `per_phase` live markets."""
    markets = []
    for index in range(2 * per_phase):
        phase: Phase = "pregame" if index < per_phase else "live"
        p_one = 0.35 + 0.3 * ((index * 7919 + seed * 104729) % 1000) / 1000
        markets.append(SxMarket(hex_id("sx-market", seed, index), phase, round(p_one, 4)))
    return markets


class SxSimulator:
    """The SX Bet-like simulator: `.app` is the FastAPI app, `.core` its knobs and log.

    >>> sim = SxSimulator(seed=7, event_log=log)
    >>> server = serve(sim.app, port=8801)
    """

    def __init__(
        self,
        *,
        seed: int = 1,
        knobs: KnobBox | None = None,
        clock: Clock | None = None,
        event_log: EventSink | None = None,
        markets_per_phase: int = 3,
        history_s: float = HISTORY_S,
        max_records: int = MAX_RECORDS,
    ) -> None:
        self.core = SimCore("sx", seed=seed, knobs=knobs, clock=clock, event_log=event_log)
        self.markets = {m.market_hash: m for m in make_markets(seed, markets_per_phase)}
        self.trades = TradeBook(history_s, max_records)
        self._salts: Expiring[None] = Expiring(max_records)
        """Fill salts seen in the last `history_s`: a repeat is FILL_ALREADY_SUBMITTED."""
        self.app = self._build_app()

    def kept_records(self) -> int:
        """Trades and fill salts held in memory (bounded by `history_s` and `max_records`)."""
        return len(self.trades) + len(self._salts)

    def tidy(self) -> None:
        """Drop what is past its time: settled trades and fill salts older than `history_s`."""
        self.trades.tidy(self.core.clock.now_utc())
        self._salts.expire(self.core.clock.monotonic())

    @property
    def default_market(self) -> SxMarket:
        """The market used when a fill names none (the documented curl example sends none)."""
        return next(iter(self.markets.values()))

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="SX Bet simulator", version="1")
        install_faults(
            app,
            self.core,
            order_paths=frozenset({FILL_PATH}),
            error_body=lambda status, text: {
                "status": "failure",
                "errorCode": "SERVICE_UNAVAILABLE" if status == 503 else "INTERNAL_ERROR",
                "message": text,
            },
        )
        app.include_router(
            control_router(self.core, lambda: [m.to_json() for m in self.markets.values()])
        )
        app.add_api_route("/metadata", self.metadata, methods=["GET"])
        app.add_api_route("/orders/odds/best", self.best_odds, methods=["GET"])
        app.add_api_route(FILL_PATH, self.fill, methods=["POST"])
        app.add_api_route("/trades", self.get_trades, methods=["GET"])
        app.add_api_route("/heartbeat", self.heartbeat, methods=["POST"])
        app.state.simulator = self
        return app

    async def metadata(self) -> dict[str, Any]:
        """`GET /metadata` in the documented shape, with SX Rollup token addresses."""
        return {
            "status": "success",
            "data": {
                "executorAddress": "0x52adf738AAD93c31f798a30b2C74D658e1E9a562",
                "oracleFees": {USDC: "500000", WSX: "2600000000000000000"},
                "sportXAffiliate": {
                    "address": "0xa21ac1436f7fcD43008c9473A78433339E222FcA",
                    "amount": "0",
                },
                "makerOrderMinimums": {USDC: "10000000", WSX: "30000000000000000000"},
                "takerMinimums": {USDC: str(TAKER_MIN_UNITS), WSX: "30000000000000000000"},
                "addresses": {"4162": {"USDC": USDC, "WSX": WSX}},
                "totalVolume": round(self.trades.volume_units / USDC_UNITS, 2),
                "domainVersion": "6.0",
                "EIP712FillHasher": "0x845a2Da2D70fEDe8474b1C8518200798c60aC364",
                "TokenTransferProxy": "0x38aef22952F1E7d2fC7FE4A7bB7e1d2A37BAdD2c",
                "bridgeFee": 0,
                "oddsLadderStepSize": 25,
            },
        }

    async def best_odds(self, request: Request) -> JSONResponse:
        """`GET /orders/odds/best?marketHashes=a,b&baseToken=X`: the quote the engine reads."""
        hashes = request.query_params.get("marketHashes", "")
        if not hashes:
            return failure(400, "INVALID_REQUEST", "marketHashes is required (comma separated)")
        now_ms = int(self.core.clock.now_utc().timestamp() * 1000)
        best = []
        for market_hash in hashes.split(","):
            market = self.markets.get(market_hash.strip())
            if market is None:
                continue
            best.append(
                {
                    "marketHash": market.market_hash,
                    "baseToken": request.query_params.get("baseToken", USDC),
                    "outcomeOne": {
                        "percentageOdds": str(market.maker_odds(True)),
                        "updatedAt": now_ms,
                    },
                    "outcomeTwo": {
                        "percentageOdds": str(market.maker_odds(False)),
                        "updatedAt": now_ms,
                    },
                }
            )
        return JSONResponse({"status": "success", "data": {"bestOdds": best}})

    async def fill(self, request: Request) -> JSONResponse:
        """`POST /orders/fill/v2`: validate, wait the betting delay, then fill or reject."""
        try:
            req = self._parse_fill(await self.core.order_body(request, FILL_PATH))
        except VenueError as err:
            self.core.refused(FILL_PATH, err)
            return failure(err.status, err.code, err.message)
        return await self._fill(req)

    async def _fill(self, req: FillRequest) -> JSONResponse:
        core = self.core
        knobs = core.knobs.current
        fill_hash = hex_id("sx-fill", core.seed, req.fill_salt)
        submitted, started = core.clock.now_utc(), core.clock.monotonic()
        decision = decide(core.order_rng(req.fill_salt), knobs, req.market.phase)
        quoted = req.market.taker_odds(req.outcome_one)
        base = {
            "order_id": fill_hash,
            "phase": req.market.phase,
            "market": req.market.market_hash,
            "requested_usd": req.stake_units / USDC_UNITS,
        }
        core.record("order_submitted", {**base, "desired_odds": str(req.desired_odds)})

        def result(res: str, code: str | None, filled: int, **extra: Any) -> dict[str, Any]:
            fields = {
                **base,
                "result": res,
                "error_code": code,
                "submit_ts": format_ts(submitted),
                "decided_ts": core.now_ts(),
                "latency_s": round(core.clock.monotonic() - started, 6),
                "filled_usd": filled / USDC_UNITS,
                **extra,
            }
            core.record("order_result", fields)
            return fields

        if decision.error:
            result("error", "INTERNAL_ERROR", 0, accept_ts=None, accept_s=None)
            return failure(500, "INTERNAL_ERROR", "internal error (simulated)")
        if core.inflight >= knobs.max_inflight:
            busy = "META_TX_RATE_LIMIT_REACHED"
            result("rejected", busy, 0, accept_ts=None, accept_s=None)
            return failure(400, busy, ERROR_TEXT[busy])
        core.inflight += 1
        try:
            await core.delay(decision.delay_s)
        except VenueError as err:
            result("error", err.code, 0, accept_ts=None, accept_s=None)
            return failure(err.status, err.code, err.message)
        finally:
            core.inflight -= 1
        fill_odds = quoted + int(decision.slippage_bps * 10**16)
        worst = req.desired_odds * (100 + req.odds_slippage) // 100
        code: str | None = None
        if decision.outcome == "rejected":
            code = pick(REJECT_CODES, decision.reject_pick)
        elif fill_odds > worst or fill_odds >= ODDS_ONE:
            code = "ODDS_STALE"
        if code is not None:
            result("rejected", code, 0, accept_ts=None, accept_s=None)
            return failure(400, code, ERROR_TEXT[code])
        filled = req.stake_units
        if decision.outcome == "partial":
            filled = max(1, int(req.stake_units * decision.fill_fraction))
        trade = self._record_trade(req, fill_hash, filled, fill_odds, decision)
        accepted = core.clock.now_utc()
        result(
            decision.outcome,
            None,
            filled,
            accept_ts=format_ts(accepted),
            accept_s=round(core.clock.monotonic() - started, 6),
            quoted_odds=str(quoted),
            average_odds=str(fill_odds),
            trade_status_final="FAILED" if trade.failed else "SUCCESS",
            confirm_ts=format_ts(trade.confirm_at),
            settle_ts=format_ts(trade.settle_at),
            void=trade.void,
        )
        return JSONResponse(
            {
                "status": "success",
                "data": {
                    "fillHash": fill_hash,
                    "isPartialFill": filled < req.stake_units,
                    "totalFilled": str(filled),
                    "averageOdds": str(fill_odds),
                },
            }
        )

    def _record_trade(
        self, req: FillRequest, fill_hash: str, filled: int, odds: int, decision: Decision
    ) -> SxTrade:
        knobs = self.core.knobs.current
        now = self.core.clock.now_utc()
        confirm = now + timedelta(seconds=knobs.confirm_s * knobs.time_scale)
        trade = SxTrade(
            fill_hash=fill_hash,
            order_hash=hex_id("sx-order", self.core.seed, req.market.market_hash),
            market_hash=req.market.market_hash,
            bettor=req.taker,
            base_token=req.base_token,
            stake_units=filled,
            odds=odds,
            bet_time=now,
            outcome_one=req.outcome_one,
            confirm_at=confirm,
            failed=decision.trade_failed,
            settle_at=confirm + timedelta(seconds=knobs.settle_after_s * knobs.time_scale),
            void=decision.void,
            winner_one=decision.side_pick < req.market.p_one,
        )
        self.trades.add(trade)
        return trade

    def _parse_fill(self, body: Any) -> FillRequest:
        if not isinstance(body, dict):
            raise SxError(400, "INVALID_REQUEST", "body must be a JSON object")
        missing = [k for k in _FILL_REQUIRED if k not in body]
        if missing:
            raise SxError(400, "INVALID_REQUEST", f"missing field(s): {', '.join(missing)}")
        stake = _uint(body["stakeWei"], "stakeWei")
        desired = _uint(body["desiredOdds"], "desiredOdds")
        if desired >= ODDS_ONE or desired == 0:
            raise SxError(400, "INVALID_ODDS")
        slippage = body["oddsSlippage"]
        if isinstance(slippage, bool) or not isinstance(slippage, int) or not 0 <= slippage <= 100:
            raise SxError(400, "INVALID_ODDS_SLIPPAGE")
        if not isinstance(body["isTakerBettingOutcomeOne"], bool):
            raise SxError(400, "INVALID_REQUEST", "isTakerBettingOutcomeOne must be true or false")
        if stake < TAKER_MIN_UNITS:
            raise SxError(400, "TAKER_AMOUNT_TOO_LOW")
        salt = body["fillSalt"]
        if not isinstance(salt, str) or not salt:
            raise SxError(400, "INVALID_REQUEST", "fillSalt must be a non-empty string")
        self.tidy()
        if salt in self._salts:
            raise SxError(400, "FILL_ALREADY_SUBMITTED")
        market_hash = body.get("market")
        market = self.default_market if market_hash is None else self.markets.get(market_hash)
        if market is None:
            raise SxError(400, "INVALID_ORDERS", f"Order is now inactive (market {market_hash})")
        until = self.core.clock.monotonic() + self.trades.history_s
        self._salts.put(salt, None, until=until)
        return FillRequest(
            taker=str(body["taker"]),
            base_token=str(body["baseToken"]),
            outcome_one=body["isTakerBettingOutcomeOne"],
            stake_units=stake,
            desired_odds=desired,
            odds_slippage=slippage,
            fill_salt=salt,
            market=market,
        )

    async def get_trades(self, request: Request) -> JSONResponse:
        """`GET /trades`: the documented filters, `pageSize` and an opaque `paginationKey`.

        Trades come in bet-time order; those finished more than `history_s` ago are gone.
        """
        params = request.query_params
        now = self.core.clock.now_utc()
        try:
            page_size = int(params.get("pageSize", "100"))
            after = int(params.get("paginationKey", "0"))
            start = _opt_int(params.get("startDate"))
            end = _opt_int(params.get("endDate"))
        except ValueError:
            return failure(
                400,
                "INVALID_REQUEST",
                "pageSize, paginationKey, startDate and endDate must be integers",
            )
        if not 1 <= page_size <= 1000 or after < 0:
            return failure(400, "INVALID_REQUEST", "pageSize must be 1-1000")
        settled = params.get("settled")
        if settled not in (None, "true", "false"):
            return failure(400, "INVALID_REQUEST", "settled must be true or false")
        query = TradeQuery(
            bettor=params.get("bettor"),
            markets=frozenset(filter(None, params.get("marketHashes", "").split(","))),
            base_token=params.get("baseToken"),
            status=params.get("tradeStatus"),
            settled=None if settled is None else settled == "true",
            start_date=start,
            end_date=end,
        )
        self.tidy()
        trades, next_seq = self.trades.page(query, now, after=after, size=page_size)
        data = {
            "trades": [t.to_json(now) for t in trades],
            "nextKey": str(next_seq) if next_seq is not None else None,
            "pageSize": page_size,
        }
        return JSONResponse({"status": "success", "data": data})

    async def heartbeat(self, request: Request) -> JSONResponse:
        """`POST /heartbeat`: register (timeoutSeconds > 0) or cancel (0) the auto-cancel timer."""
        if not request.headers.get("x-api-key"):
            return failure(401, "UNAUTHORIZED", "X-Api-Key header is required for /heartbeat")
        try:
            body = await request.json()
        except ValueError:
            return failure(400, "INVALID_REQUEST", "body is not valid JSON")
        timeout = body.get("timeoutSeconds") if isinstance(body, dict) else None
        if isinstance(timeout, bool) or not isinstance(timeout, int) or not 0 <= timeout <= 3600:
            return failure(400, "INVALID_REQUEST", "timeoutSeconds must be an integer 0-3600")
        requestor = body.get("requestor")
        if not isinstance(requestor, str) or not requestor:
            return failure(400, "INVALID_REQUEST", "requestor (an address) is required")
        expires = self.core.later(timeout)
        self.core.record("mm_heartbeat", {"requestor": requestor, "timeout_s": timeout})
        data = {"requestor": requestor, "timeoutSeconds": timeout, "expiresAt": format_ts(expires)}
        return JSONResponse({"status": "success", "data": data})


def _opt_int(text: str | None) -> int | None:
    """An optional integer query parameter (ValueError when not an integer)."""
    return None if text is None else int(text)


def _uint(value: Any, name: str) -> int:
    """Parse a base-10 unsigned integer string (SX sends big numbers as strings)."""
    if not isinstance(value, str) or not value.isdigit():
        code = "INVALID_ODDS" if name == "desiredOdds" else "INVALID_REQUEST"
        raise SxError(400, code, f"{name} must be a base-10 integer string, got {value!r}")
    return int(value)


def main(argv: list[str] | None = None) -> int:
    """`python -m arbqos_harness.sim.sx`: serve the SX Bet simulator until interrupted."""
    from arbqos_harness.sim.server import run_cli

    parser = argparse.ArgumentParser(
        prog="python -m arbqos_harness.sim.sx", description="SX Bet simulator"
    )
    parser.add_argument("--markets-per-phase", type=int, default=3)

    def build(args: argparse.Namespace, knobs: KnobBox, log: EventSink | None) -> FastAPI:
        sim = SxSimulator(
            seed=args.seed,
            knobs=knobs,
            event_log=log,
            markets_per_phase=args.markets_per_phase,
            history_s=args.history_s,
        )
        return sim.app

    return run_cli(parser, argv, build)


if __name__ == "__main__":
    raise SystemExit(main())
