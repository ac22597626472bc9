"""An Azuro-like API: bet orders through the relayer, condition state, and the subgraph `_meta`.

Shapes follow the Azuro toolkit types (`CreateBetResponse`, `BetOrderData`,
`ConditionStateData`) and graph-node's `_Meta_`. An order moves Created -> Placed -> Sent ->
Accepted (with `txHash` and `odds`) or Rejected over simulated time, then Settled (won/lost)
or Canceled (void). Azuro has no partial fill: a drawn partial is accepted in full. Error
bodies are `{"error": CODE, "errorMessage": text}` (the fields the toolkit reads).

Run alone: `python -m arbqos_harness.sim.azuro --port 8802 --seed 7 [--polygon-rpc URL]`.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from arbqos.chain.rpc import JsonRpcClient
from arbqos.clock import Clock, format_ts
from arbqos.errors import RpcError
from arbqos.eventlog import EventLog
from arbqos_harness.sim.core import (
    Phase,
    SimCore,
    VenueError,
    control_router,
    decide,
    hex_id,
    install_faults,
    pick,
)
from arbqos_harness.sim.knobs import KnobBox

ODDS_DECIMALS = 12
"""Azuro odds precision (toolkit `ODDS_DECIMALS`)."""
TOKEN_DECIMALS = 6
"""Polygon USDT."""
CORE = "0xf9548be470a4e130c90cea8b179fcd66d2972ac7"
LIQUIDITY_POOL = "0x0fa7fb5407ea971694652e6e16c12a52625de1b8"
ENVIRONMENTS = (
    "PolygonUSDT",
    "PolygonAmoyUSDT",
    "BaseWETH",
    "BaseSepoliaWETH",
    "GnosisDevXDAI",
    "GnosisXDAI",
    "ChilizWCHZ",
    "ChilizSpicyWCHZ",
    "BscUSDT",
    "BscDevUSDT",
)
PLACE_PATH = "/bet/orders/ordinar"
SUBGRAPH_PATH = "/subgraphs/name/azuro-protocol/azuro-api-polygon-v3"
POLYGON_BLOCK_S = 2.0
"""Polygon PoS block spacing used for the synthetic head (about 2 s)."""
REJECT_REASONS = {"ODDS_CHANGED": 0.6, "LIMIT_EXCEEDED": 0.3, "CONDITION_NOT_ACTIVE": 0.1}
"""Reasons drawn for a rejected order (no documented list; names are the simulator's)."""
_HEX_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class AzuroError(VenueError):
    """A refused Azuro request."""


def failure(status: int, code: str, message: str) -> JSONResponse:
    """The JSON error response of the simulator."""
    return JSONResponse({"error": code, "errorMessage": message}, status_code=status)


@dataclass(frozen=True)
class AzCondition:
    """A two-outcome condition (outcome ids 29 and 30) with a fair probability and margin."""

    condition_id: str
    game_id: str
    phase: Phase
    p_first: float
    margin: float = 0.05
    outcome_ids: tuple[int, int] = (29, 30)

    @property
    def game_state(self) -> str:
        """`Prematch` or `Live` (toolkit `GameState`)."""
        return "Live" if self.phase == "live" else "Prematch"

    def probability(self, outcome_id: int) -> float:
        """Fair probability that `outcome_id` wins."""
        return self.p_first if outcome_id == self.outcome_ids[0] else 1.0 - self.p_first

    def odds(self, outcome_id: int) -> float:
        """Decimal odds offered on `outcome_id`, margin included."""
        return round(1.0 / (self.probability(outcome_id) + self.margin / 2), 4)

    def to_state_json(self) -> dict[str, Any]:
        """`ConditionStateData` of `POST /market-manager/condition-batch`."""
        return {
            "conditionId": self.condition_id,
            "state": "Active",
            "outcomes": [
                {
                    "id": f"{self.condition_id}_{oid}",
                    "outcomeId": str(oid),
                    "odds": f"{self.odds(oid):.4f}",
                }
                for oid in self.outcome_ids
            ],
        }

    def to_catalogue(self) -> dict[str, Any]:
        """Catalogue entry for `/sim/markets`."""
        return {
            "conditionId": self.condition_id,
            "gameId": self.game_id,
            "phase": self.phase,
            "outcomeIds": list(self.outcome_ids),
        }


@dataclass(frozen=True)
class AzOrder:
    """One bet order and its whole planned timeline."""

    id: str
    bettor: str
    owner: str
    affiliate: str
    environment: str
    condition: AzCondition
    outcome_id: int
    amount_raw: int
    quoted_odds: float
    odds: float
    nonce: str
    created_at: datetime
    placed_at: datetime
    sent_at: datetime
    final_at: datetime
    accepted: bool
    error: str | None
    settle_at: datetime
    void: bool
    won: bool
    bet_id: int
    tx_hash: str

    @property
    def winner_id(self) -> int:
        """The outcome that wins the condition (the bet's own outcome when the bet is won)."""
        first, second = self.condition.outcome_ids
        if self.won:
            return self.outcome_id
        return second if self.outcome_id == first else first

    def state(self, now: datetime) -> str:
        """`BetOrderState` at `now`."""
        if now < self.placed_at:
            return "Created"
        if now < self.sent_at:
            return "Placed"
        if now < self.final_at:
            return "Sent"
        if not self.accepted:
            return "Rejected"
        if now < self.settle_at:
            return "Accepted"
        return "Canceled" if self.void else "Settled"

    def updated_at(self, now: datetime) -> datetime:
        """Time of the last state change before `now`."""
        moments = (self.created_at, self.placed_at, self.sent_at, self.final_at, self.settle_at)
        return max(m for m in moments if m <= now)

    def to_json(self, now: datetime) -> dict[str, Any]:
        """`BetOrderData` at `now`, in the shape of the toolkit type."""
        state = self.state(now)
        accepted = self.accepted and now >= self.final_at
        settled = state in ("Settled", "Canceled")
        amount = self.amount_raw / 10**TOKEN_DECIMALS
        odds = self.odds if accepted else self.quoted_odds
        result = ("Canceled" if self.void else ("Won" if self.won else "Lost")) if settled else None
        payout = _payout(amount, odds, result)
        return {
            "id": self.id,
            "state": state,
            "environment": self.environment,
            "betType": "ORDINARY",
            "core": CORE,
            "bettor": self.bettor,
            "owner": self.owner,
            "affiliate": self.affiliate,
            "amount": amount,
            "payout": payout,
            "odds": odds,
            "bonusId": None,
            "isFreebet": False,
            "isSponsoredBetReturnable": False,
            "betId": self.bet_id if accepted else None,
            "txHash": self.tx_hash if accepted else None,
            "margin": f"{self.condition.margin:.2f}",
            "settledMargin": f"{self.condition.margin:.2f}" if settled else None,
            "result": result,
            "createdAt": format_ts(self.created_at),
            "updatedAt": format_ts(self.updated_at(now)),
            "settledAt": format_ts(self.settle_at) if settled else None,
            "redeemedAt": None,
            "conditions": [self._condition_json(odds, amount, settled)],
            "meta": self._meta_json(odds, amount, result, payout) if accepted else None,
            "error": None if self.accepted or state != "Rejected" else self.error,
            "errorMessage": _reject_text(self.error) if state == "Rejected" else None,
        }

    def _condition_json(self, odds: float, amount: float, settled: bool) -> dict[str, Any]:
        cond = self.condition
        return {
            "conditionId": cond.condition_id,
            "outcomeId": self.outcome_id,
            "orderId": self.id,
            "gameId": cond.game_id,
            "gameState": cond.game_state,
            "conditionMargin": f"{cond.margin:.2f}",
            "selectionMargin": f"{cond.margin:.2f}",
            "settledSelectionMargin": f"{cond.margin:.2f}" if settled else None,
            "result": ("Canceled" if self.void else "Resolved") if settled else None,
            "price": f"{odds:.2f}",
            "potentialAmount": _fmt(amount * odds),
            "potentialLoss": _fmt(amount * (odds - 1)),
        }

    def _meta_json(
        self, odds: float, amount: float, result: str | None, payout: float | None
    ) -> dict[str, Any]:
        cond = self.condition
        raw_odds = str(round(odds * 10**ODDS_DECIMALS))
        created_block_ts = str(int(self.final_at.timestamp()))
        resolved_ts = str(int(self.settle_at.timestamp())) if result else None
        won_ids = None if result in (None, "Canceled") else [str(self.winner_id)]
        graph_status = "Accepted" if result is None else ("Canceled" if self.void else "Resolved")
        raw_payout = None if payout is None else str(round(payout * 10**TOKEN_DECIMALS))
        return {
            "id": f"{CORE}_{self.bet_id}",
            "core": {
                "type": "V3",
                "address": CORE,
                "liquidityPool": {"address": LIQUIDITY_POOL, "asset": "USDT"},
            },
            "odds": _fmt(odds),
            "betId": str(self.bet_id),
            "actor": self.bettor,
            "owner": self.owner,
            "bettor": self.bettor,
            "nonce": self.nonce,
            "amount": _fmt(amount),
            "payout": None if payout is None else _fmt(payout),
            "result": None if result in (None, "Canceled") else result,
            "status": graph_status,
            "rawOdds": raw_odds,
            "affiliate": self.affiliate,
            "rawAmount": str(self.amount_raw),
            "rawPayout": raw_payout,
            "isRedeemed": False,
            "selections": [
                {
                    "id": f"{CORE}_{self.bet_id}_{cond.condition_id}",
                    "odds": _fmt(odds),
                    "result": None if won_ids is None else ("Won" if self.won else "Lost"),
                    "outcome": {
                        "condition": {
                            "id": f"{CORE}_{cond.condition_id}",
                            "gameId": cond.game_id,
                            "status": "Created" if result is None else graph_status,
                            "outcomes": [
                                {
                                    "result": None
                                    if won_ids is None
                                    else ("Won" if str(oid) in won_ids else "Lost"),
                                    "outcomeId": str(oid),
                                    "sortOrder": index,
                                }
                                for index, oid in enumerate(cond.outcome_ids)
                            ],
                            "conditionId": cond.condition_id,
                            "coreAddress": CORE,
                            "wonOutcomeIds": won_ids,
                            "_winningOutcomesCount": 1,
                            "createdBlockTimestamp": str(int(self.created_at.timestamp())),
                            "resolvedBlockTimestamp": resolved_ts,
                        },
                        "outcomeId": str(self.outcome_id),
                        "sortOrder": cond.outcome_ids.index(self.outcome_id),
                    },
                    "rawOdds": raw_odds,
                    "_outcomeId": str(self.outcome_id),
                }
            ],
            "settledOdds": _fmt(odds) if result else None,
            "createdTxHash": self.tx_hash,
            "rawSettledOdds": raw_odds if result else None,
            "potentialPayout": _fmt(amount * odds),
            "potentialLossLimit": _fmt(amount * (odds - 1)),
            "rawPotentialPayout": str(round(amount * odds * 10**TOKEN_DECIMALS)),
            "createdBlockTimestamp": created_block_ts,
            "rawPotentialLossLimit": str(round(amount * (odds - 1) * 10**TOKEN_DECIMALS)),
            "resolvedBlockTimestamp": resolved_ts,
            "isCashedOut": False,
            "isFreebetAmountReturnable": None,
            "paymasterContractAddress": None,
            "redeemedTxHash": None,
            "cashout": None,
        }


def _payout(amount: float, odds: float, result: str | None) -> float | None:
    if result is None:
        return None
    if result == "Canceled":
        return amount
    return round(amount * odds, 6) if result == "Won" else 0.0


def _fmt(value: float) -> str:
    """Format a human amount or odds without trailing zeros (`18.5`, `10`)."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _reject_text(code: str | None) -> str:
    return {
        "ODDS_CHANGED": "odds moved below minOdds before the bet reached the contracts",
        "LIMIT_EXCEEDED": "the bet exceeds the condition's current limit",
        "CONDITION_NOT_ACTIVE": "the condition is not active anymore",
        "TOO_MANY_PENDING": "too many orders of this bettor are still being processed",
    }.get(code or "", "the order was rejected during the contracts checks")


def make_conditions(seed: int, per_phase: int) -> list[AzCondition]:
    """Deterministic condition catalogue: `per_phase` prematch then `per_phase` live."""
    conditions = []
    for index in range(2 * per_phase):
        phase: Phase = "pregame" if index < per_phase else "live"
        p_first = 0.35 + 0.3 * ((index * 6151 + seed * 7561) % 1000) / 1000
        condition_id = "3006100600000000006413131200000" + f"{seed % 10**8:08d}{index:09d}"
        game_id = "1006000000000" + f"{seed % 10**4:04d}{index:05d}"
        conditions.append(AzCondition(condition_id, game_id, phase, round(p_first, 4)))
    return conditions


class AzuroSimulator:
    """The Azuro-like simulator: `.app` is the FastAPI app, `.core` its knobs and log.

    `polygon_rpc_url` makes the subgraph `_meta` block follow that chain's head (minus the
    `subgraph_lag_blocks` knob); without it the head advances one block per 2 s.
    """

    def __init__(
        self,
        *,
        seed: int = 1,
        knobs: KnobBox | None = None,
        clock: Clock | None = None,
        event_log: EventLog | None = None,
        conditions_per_phase: int = 3,
        polygon_rpc_url: str | None = None,
        start_block: int = 81_234_567,
    ) -> None:
        self.core = SimCore("azuro", seed=seed, knobs=knobs, clock=clock, event_log=event_log)
        self.conditions = {c.condition_id: c for c in make_conditions(seed, conditions_per_phase)}
        self.orders: dict[str, AzOrder] = {}
        self._polygon_rpc_url = polygon_rpc_url
        self._start_block = start_block
        self._start_mono = self.core.clock.monotonic()
        self._start_wall = self.core.clock.now_utc()
        self._last_head: tuple[int, int] | None = None
        self._bets = 0
        self.app = self._build_app()

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="Azuro simulator", version="1")
        install_faults(
            app,
            self.core,
            order_paths=frozenset({PLACE_PATH}),
            error_body=lambda status, text: {
                "error": "SERVICE_UNAVAILABLE" if status == 503 else "INTERNAL_ERROR",
                "errorMessage": text,
            },
        )
        app.include_router(
            control_router(self.core, lambda: [c.to_catalogue() for c in self.conditions.values()])
        )
        app.add_api_route(PLACE_PATH, self.place, methods=["POST"])
        app.add_api_route("/bet/orders/{order_id}", self.get_order, methods=["GET"])
        app.add_api_route("/market-manager/condition-batch", self.condition_batch, methods=["POST"])
        app.add_api_route(SUBGRAPH_PATH, self.subgraph, methods=["POST"])
        app.state.simulator = self
        return app

    async def place(self, request: Request) -> JSONResponse:
        """`POST /bet/orders/ordinar`: accept a signed order and answer `{id, state: Created}`."""
        try:
            order = self._create(await self.core.order_body(request, PLACE_PATH))
        except VenueError as err:
            self.core.refused(PLACE_PATH, err)
            return failure(err.status, err.code, err.message)
        if order is None:
            return failure(500, "INTERNAL_ERROR", "internal error (simulated)")
        return JSONResponse({"id": order.id, "state": "Created"})

    def _create(self, body: Any) -> AzOrder | None:
        parsed = _parse_place(body, self.conditions, self.core.clock.now_utc())
        order_id = f"{parsed['bettor']}_{parsed['nonce']}"
        if order_id in self.orders:
            raise AzuroError(400, "ORDER_ALREADY_EXISTS", f"order {order_id} already exists")
        core = self.core
        knobs = core.knobs.current
        condition: AzCondition = parsed["condition"]
        outcome_id: int = parsed["outcome_id"]
        decision = decide(core.order_rng(order_id), knobs, condition.phase)
        now = core.clock.now_utc()
        amount_usd = parsed["amount_raw"] / 10**TOKEN_DECIMALS
        base = {"order_id": order_id, "phase": condition.phase, "market": condition.condition_id}
        core.record("order_submitted", {**base, "requested_usd": amount_usd})
        if decision.error:
            core.record(
                "order_result",
                {
                    **base,
                    "result": "error",
                    "error_code": "INTERNAL_ERROR",
                    "submit_ts": format_ts(now),
                    "decided_ts": format_ts(now),
                    "accept_ts": None,
                    "accept_s": None,
                    "requested_usd": amount_usd,
                    "filled_usd": 0.0,
                },
            )
            return None
        quoted = condition.odds(outcome_id)
        implied = 1.0 / quoted + decision.slippage_bps / 10_000
        odds = round(1.0 / implied, 4) if 0 < implied < 1 else quoted
        busy = sum(1 for o in self.orders.values() if o.final_at > now)
        error: str | None = None
        if busy >= knobs.max_inflight:
            error = "TOO_MANY_PENDING"
        elif decision.outcome == "rejected":
            error = pick(REJECT_REASONS, decision.reject_pick)
        elif odds * 10**ODDS_DECIMALS < parsed["min_odds_raw"]:
            error = "ODDS_CHANGED"
        delay = decision.delay_s
        final = now + timedelta(seconds=delay)
        settle = final + timedelta(seconds=knobs.settle_after_s * knobs.time_scale)
        self._bets += 1
        order = AzOrder(
            id=order_id,
            bettor=parsed["bettor"],
            owner=parsed["owner"],
            affiliate=parsed["affiliate"],
            environment=parsed["environment"],
            condition=condition,
            outcome_id=outcome_id,
            amount_raw=parsed["amount_raw"],
            quoted_odds=quoted,
            odds=odds,
            nonce=parsed["nonce"],
            created_at=now,
            placed_at=now + timedelta(seconds=0.15 * delay),
            sent_at=now + timedelta(seconds=0.4 * delay),
            final_at=final,
            accepted=error is None,
            error=error,
            settle_at=settle,
            void=decision.void,
            won=decision.side_pick < condition.probability(outcome_id),
            bet_id=200_000 + self._bets,
            tx_hash=hex_id("azuro-tx", core.seed, order_id),
        )
        self.orders[order_id] = order
        accepted = error is None
        core.record(
            "order_result",
            {
                **base,
                "result": "filled" if accepted else "rejected",
                "error_code": error,
                "submit_ts": format_ts(now),
                "decided_ts": format_ts(final),
                "latency_s": round(delay, 6),
                "accept_ts": format_ts(final) if accepted else None,
                "accept_s": round(delay, 6) if accepted else None,
                "requested_usd": amount_usd,
                "filled_usd": amount_usd if accepted else 0.0,
                "quoted_odds": quoted,
                "odds": odds,
                "settle_ts": format_ts(settle) if accepted else None,
                "void": decision.void if accepted else None,
            },
        )
        return order

    async def get_order(self, order_id: str) -> JSONResponse:
        """`GET /bet/orders/{id}`: the order as it stands now; 404 for an unknown id."""
        order = self.orders.get(order_id)
        if order is None:
            return failure(404, "NOT_FOUND", f"bet order {order_id} not found")
        return JSONResponse(order.to_json(self.core.clock.now_utc()))

    async def condition_batch(self, request: Request) -> JSONResponse:
        """`POST /market-manager/condition-batch` body `{conditionIds, environment?}`."""
        try:
            body = await request.json()
        except ValueError:
            return failure(400, "INVALID_REQUEST", "body is not valid JSON")
        ids = body.get("conditionIds") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return failure(400, "INVALID_REQUEST", "conditionIds must be a list of strings")
        found = [self.conditions[i].to_state_json() for i in ids if i in self.conditions]
        return JSONResponse({"conditions": found})

    async def subgraph(self, request: Request) -> JSONResponse:
        """GraphQL endpoint answering `{ _meta { block { number timestamp } ... } }` only."""
        try:
            body = await request.json()
            query = body["query"]
            if not isinstance(query, str):
                raise TypeError("query must be a string")
            selection = parse_selection(query)
        except (ValueError, KeyError, TypeError) as err:
            return JSONResponse({"errors": [{"message": f"invalid GraphQL request: {err}"}]}, 400)
        try:
            data = await self._resolve(selection)
        except ValueError as err:
            return JSONResponse({"errors": [{"message": str(err)}]})
        return JSONResponse({"data": data})

    async def _resolve(self, selection: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(selection) - {"_meta"})
        if unknown:
            raise ValueError(f"Type `Query` has no field `{unknown[0]}`")
        meta_sel = selection["_meta"]
        if not isinstance(meta_sel, dict):
            raise ValueError("Field `_meta` of type `_Meta_` must have a selection of subfields")
        knobs = self.core.knobs.current
        number, timestamp = await self._head()
        number -= knobs.subgraph_lag_blocks
        timestamp -= int(knobs.subgraph_lag_blocks * POLYGON_BLOCK_S)
        block = {
            "number": number,
            "timestamp": timestamp,
            "hash": hex_id("polygon-block", number),
            "parentHash": hex_id("polygon-block", number - 1),
        }
        meta = {
            "block": block,
            "hasIndexingErrors": knobs.subgraph_indexing_errors,
            "deployment": "QmQzEehovG8bHd29vSAKSsZKYqQ8A4z2HUcBbyoyfVpeQR",
        }
        return {"_meta": _select(meta, meta_sel, "_Meta_")}

    async def _head(self) -> tuple[int, int]:
        """Chain head (number, unix time): from the Polygon RPC if configured, else synthetic."""
        if self._polygon_rpc_url is not None:
            try:
                async with httpx.AsyncClient() as http:
                    rpc = JsonRpcClient(
                        [self._polygon_rpc_url], chain="polygon", http=http, timeout_s=2.0
                    )
                    self._last_head = await rpc.latest_block()
            except RpcError:
                self.core.record("subgraph_head_error", {"detail": "polygon RPC unreachable"})
            if self._last_head is not None:
                return self._last_head
        elapsed = self.core.clock.monotonic() - self._start_mono
        blocks = int(elapsed / POLYGON_BLOCK_S)
        start_ts = int(self._start_wall.timestamp())
        return self._start_block + blocks, start_ts + int(blocks * POLYGON_BLOCK_S)


_TOKEN = re.compile(r"\s+|#[^\n]*|[_A-Za-z][_0-9A-Za-z]*|[{}]")


def parse_selection(query: str) -> dict[str, Any]:
    """Parse a GraphQL query without arguments into `{field: None | nested selection}`."""
    tokens: list[str] = []
    position = 0
    while position < len(query):
        match = _TOKEN.match(query, position)
        if match is None:
            raise ValueError(
                f"unsupported GraphQL syntax at offset {position} ({query[position]!r}): "
                "only field selections without arguments are served"
            )
        text = match.group(0)
        if not text.isspace() and not text.startswith("#"):
            tokens.append(text)
        position = match.end()
    if tokens[:1] == ["query"]:
        tokens = tokens[2:] if tokens[1:2] != ["{"] else tokens[1:]
    if not tokens or tokens[0] != "{":
        raise ValueError("expected a selection set starting with '{'")
    selection, end = _parse_set(tokens, 1)
    if end != len(tokens):
        raise ValueError("unexpected text after the selection set")
    return selection


def _parse_set(tokens: list[str], index: int) -> tuple[dict[str, Any], int]:
    fields: dict[str, Any] = {}
    while index < len(tokens):
        token = tokens[index]
        if token == "}":
            if not fields:
                raise ValueError("empty selection set")
            return fields, index + 1
        if token == "{":
            raise ValueError("a selection set must follow a field name")
        if index + 1 < len(tokens) and tokens[index + 1] == "{":
            fields[token], index = _parse_set(tokens, index + 2)
        else:
            fields[token] = None
            index += 1
    raise ValueError("unbalanced braces: missing '}'")


def _select(value: dict[str, Any], selection: dict[str, Any], type_name: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, sub in selection.items():
        if name == "__typename":
            out[name] = type_name
            continue
        if name not in value:
            raise ValueError(f"Type `{type_name}` has no field `{name}`")
        field = value[name]
        if isinstance(field, dict):
            if sub is None:
                raise ValueError(f"Field `{name}` must have a selection of subfields")
            out[name] = _select(field, sub, "_Block_")
        elif sub is not None:
            raise ValueError(f"Field `{name}` is a scalar and takes no selection")
        else:
            out[name] = field
    return out


def _parse_place(body: Any, conditions: dict[str, AzCondition], now: datetime) -> dict[str, Any]:
    """Validate a `POST /bet/orders/ordinar` body; raise AzuroError naming the bad field."""
    if not isinstance(body, dict):
        raise AzuroError(400, "INVALID_REQUEST", "body must be a JSON object")
    env = body.get("environment")
    if env not in ENVIRONMENTS:
        raise AzuroError(
            400, "INVALID_ENVIRONMENT", f"environment {env!r} is not one of {list(ENVIRONMENTS)}"
        )
    for key in ("bettor", "betOwner"):
        if not isinstance(body.get(key), str) or not _HEX_ADDRESS.match(body[key]):
            raise AzuroError(400, "INVALID_REQUEST", f"{key} must be a 0x address")
    signature = body.get("bettorSignature")
    if not isinstance(signature, str) or not signature.startswith("0x"):
        raise AzuroError(400, "INVALID_REQUEST", "bettorSignature must be a 0x hex string")
    data = body.get("clientBetData")
    client = data.get("clientData") if isinstance(data, dict) else None
    bet = data.get("bet") if isinstance(data, dict) else None
    if not isinstance(client, dict) or not isinstance(bet, dict):
        raise AzuroError(400, "INVALID_REQUEST", "clientBetData needs clientData and bet objects")
    expires = client.get("expiresAt")
    if isinstance(expires, bool) or not isinstance(expires, int):
        raise AzuroError(400, "INVALID_REQUEST", "clientData.expiresAt must be unix seconds")
    if expires <= now.timestamp():
        raise AzuroError(400, "ORDER_EXPIRED", f"clientData.expiresAt {expires} is in the past")
    for key in ("minOdds", "amount", "nonce"):
        if not isinstance(bet.get(key), str) or not bet[key].isdigit():
            raise AzuroError(400, "INVALID_REQUEST", f"bet.{key} must be an integer string")
    amount_raw = int(bet["amount"])
    if amount_raw <= 0 or amount_raw % 10 ** (TOKEN_DECIMALS - 2):
        raise AzuroError(
            400,
            "INVALID_AMOUNT",
            f"bet.amount {bet['amount']}: stake must be > 0 with at most 2 decimals",
        )
    condition = conditions.get(str(bet.get("conditionId")))
    if condition is None:
        raise AzuroError(
            400, "CONDITION_NOT_FOUND", f"condition {bet.get('conditionId')} not found"
        )
    outcome_id = bet.get("outcomeId")
    if outcome_id not in condition.outcome_ids:
        raise AzuroError(
            400,
            "OUTCOME_NOT_FOUND",
            f"outcome {outcome_id!r} not in condition {condition.condition_id}",
        )
    return {
        "environment": env,
        "bettor": body["bettor"].lower(),
        "owner": body["betOwner"].lower(),
        "affiliate": str(client.get("affiliate", "0x" + "0" * 40)).lower(),
        "condition": condition,
        "outcome_id": outcome_id,
        "amount_raw": amount_raw,
        "min_odds_raw": int(bet["minOdds"]),
        "nonce": bet["nonce"],
    }


def main(argv: list[str] | None = None) -> int:
    """`python -m arbqos_harness.sim.azuro`: serve the Azuro simulator until interrupted."""
    from arbqos_harness.sim.server import run_cli

    parser = argparse.ArgumentParser(
        prog="python -m arbqos_harness.sim.azuro", description="Azuro simulator"
    )
    parser.add_argument("--conditions-per-phase", type=int, default=3)
    parser.add_argument("--polygon-rpc", default=None, help="follow this chain head in _meta")

    def build(args: argparse.Namespace, knobs: KnobBox, log: EventLog | None) -> FastAPI:
        sim = AzuroSimulator(
            seed=args.seed,
            knobs=knobs,
            event_log=log,
            conditions_per_phase=args.conditions_per_phase,
            polygon_rpc_url=args.polygon_rpc,
        )
        return sim.app

    return run_cli(parser, argv, build)


if __name__ == "__main__":
    raise SystemExit(main())
