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
import heapq
import re
import sys
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from arbqos.chain.rpc import JsonRpcClient
from arbqos.clock import Clock, format_ts
from arbqos.errors import RpcError
from arbqos_harness.sim.azuro_orders import (
    ODDS_DECIMALS,
    TOKEN_DECIMALS,
    AzCondition,
    AzOrder,
)
from arbqos_harness.sim.core import (
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
    `subgraph_lag_blocks` knob); without it the head advances one block per 2 s. An order is
    kept until `history_s` after it settled (or was rejected); then `GET /bet/orders/{id}`
    answers 404 and its id may be used again.
    """

    def __init__(
        self,
        *,
        seed: int = 1,
        knobs: KnobBox | None = None,
        clock: Clock | None = None,
        event_log: EventSink | None = None,
        conditions_per_phase: int = 3,
        polygon_rpc_url: str | None = None,
        start_block: int = 81_234_567,
        history_s: float = HISTORY_S,
        max_records: int = MAX_RECORDS,
    ) -> None:
        if history_s <= 0:
            raise ValueError(f"history_s = {history_s}: expected > 0 seconds")
        self.core = SimCore("azuro", seed=seed, knobs=knobs, clock=clock, event_log=event_log)
        self.conditions = {c.condition_id: c for c in make_conditions(seed, conditions_per_phase)}
        self.history_s = history_s
        self.orders: Expiring[AzOrder] = Expiring(max_records)
        self._pending: list[float] = []
        """Heap of the monotonic times at which orders placed so far become final."""
        self._rpc_http: httpx.AsyncClient | None = None
        self._polygon_rpc_url = polygon_rpc_url
        self._start_block = start_block
        self._start_mono = self.core.clock.monotonic()
        self._start_wall = self.core.clock.now_utc()
        self._last_head: tuple[int, int] | None = None
        self._bets = 0
        self.app = self._build_app()

    def kept_records(self) -> int:
        """Orders held in memory (bounded by `history_s` and `max_records`)."""
        return len(self.orders)

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

    def _busy(self, now: float) -> int:
        """Orders placed and not final yet."""
        while self._pending and self._pending[0] <= now:
            heapq.heappop(self._pending)
        return len(self._pending)

    def _create(self, body: Any) -> AzOrder | None:
        parsed = _parse_place(body, self.conditions, self.core.clock.now_utc())
        order_id = f"{parsed['bettor']}_{parsed['nonce']}"
        mono = self.core.clock.monotonic()
        self.orders.expire(mono)
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
        error: str | None = None
        if self._busy(mono) >= knobs.max_inflight:
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
        accepted = error is None
        heapq.heappush(self._pending, mono + delay)
        done_s = (settle - now).total_seconds() if accepted else delay
        self.orders.put(order_id, order, until=mono + done_s + self.history_s)
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
        self.orders.expire(self.core.clock.monotonic())
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
            if self._rpc_http is None:
                self._rpc_http = httpx.AsyncClient()  # one for the app's life, not per request
            try:
                rpc = JsonRpcClient(
                    [self._polygon_rpc_url], chain="polygon", http=self._rpc_http, timeout_s=2.0
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
    return {  # the same few addresses come with every order: keep one copy of each
        "environment": sys.intern(env),
        "bettor": sys.intern(body["bettor"].lower()),
        "owner": sys.intern(body["betOwner"].lower()),
        "affiliate": sys.intern(str(client.get("affiliate", "0x" + "0" * 40)).lower()),
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

    def build(args: argparse.Namespace, knobs: KnobBox, log: EventSink | None) -> FastAPI:
        sim = AzuroSimulator(
            seed=args.seed,
            knobs=knobs,
            event_log=log,
            conditions_per_phase=args.conditions_per_phase,
            polygon_rpc_url=args.polygon_rpc,
            history_s=args.history_s,
        )
        return sim.app

    return run_cli(parser, argv, build)


if __name__ == "__main__":
    raise SystemExit(main())
