"""A simulated arb engine: quotes both venues, sends paired legs, stops while trading is paused.

Each opportunity quotes an SX market and the matching Azuro condition, then sends two legs
(SX `POST /orders/fill/v2`, Azuro `POST /bet/orders/ordinar` polled until final). Before
every leg it asks `trading_allowed()` (sync or async; an exception counts as "not allowed";
`EngineQos.trading_allowed` from `arbqos.engine.connect()` does no I/O, so it never blocks
the event loop). Every leg, settlement and venue call goes to an `EngineObserver`.

>>> engine = ArbEngine(settings, trading_allowed=qos.trading_allowed, observer=obs)
>>> stats = await engine.run(duration_s=60)   # or run() in a task and call engine.stop()
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from arbqos.clock import Clock, SystemClock, format_ts, parse_ts
from arbqos_harness.sim.legs import (
    AZURO_ODDS_DECIMALS,
    SX_ODDS_ONE,
    SX_USDC,
    Pair,
    Quote,
    azuro_bet_body,
    sx_fill_body,
)
from arbqos_harness.sim.observer import EngineObserver, LegInfo, LegResult, RecordingObserver

logger = logging.getLogger(__name__)

TradingAllowed = Callable[[], bool | Awaitable[bool]]
AZURO_FINAL = frozenset({"Accepted", "Rejected", "Canceled", "Settled"})
SX_EXPIRED_CODES = frozenset({"AFTER_ORDER_EXPIRY"})
SX_START_MARGIN_S = 10
"""Settlement lookups ask SX for trades from this long before the oldest open one (clocks)."""
PAUSE_CHANGES_KEPT = 1000


@dataclass(frozen=True)
class EngineSettings:
    """Where the venues are and how hard to trade."""

    sx_url: str
    azuro_url: str
    opportunities_per_s: float = 1.0
    """Arb opportunities per second; each sends one SX leg and one Azuro leg."""
    max_concurrency: int = 8
    """Legs in flight at most; an opportunity that does not fit is skipped."""
    stake_usd: tuple[float, float] = (5.0, 25.0)
    """SX leg stake, uniform in [min, max] USD; the Azuro leg balances the payout."""
    live_fraction: float = 0.3
    """Share of opportunities on live markets."""
    odds_slippage_pct: int = 2
    """SX `oddsSlippage` and the Azuro `minOdds` tolerance, percent."""
    poll_interval_s: float = 1.0
    """Azuro order polling (the official SDK polls every 1000 ms)."""
    order_ttl_s: float = 30.0
    """Azuro `expiresAt` from now; a leg not final by then is `expired`."""
    request_timeout_s: float = 15.0
    settle_poll_s: float = 5.0
    """How often accepted bets are checked for settlement."""
    shutdown_grace_s: float = 5.0
    """On stop, how long in-flight legs may finish before they are cancelled."""
    settle_give_up_s: float = 3600.0
    """An accepted bet not seen settled this long after acceptance is no longer looked up
    (counted in `EngineStats.unsettled_dropped`), so lookups never grow without bound."""
    seed: int = 1
    taker: str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    bettor: str = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"

    def __post_init__(self) -> None:
        if self.opportunities_per_s <= 0:
            raise ValueError(f"opportunities_per_s = {self.opportunities_per_s}: expected > 0")
        if self.max_concurrency < 2:
            raise ValueError(f"max_concurrency = {self.max_concurrency}: expected >= 2 (a pair)")
        if not 0 < self.stake_usd[0] <= self.stake_usd[1]:
            raise ValueError(f"stake_usd = {self.stake_usd}: expected 0 < min <= max")
        if not 0.0 <= self.live_fraction <= 1.0:
            raise ValueError(f"live_fraction = {self.live_fraction}: expected within [0, 1]")
        if not 0 <= self.odds_slippage_pct <= 100:
            raise ValueError(f"odds_slippage_pct = {self.odds_slippage_pct}: expected 0-100")


@dataclass
class EngineStats:
    """What the engine did; `pause_changes` lists `(utc_ts, allowed)` at the latest
    `PAUSE_CHANGES_KEPT` transitions."""

    opportunities: int = 0
    skipped_paused: int = 0
    skipped_busy: int = 0
    blocked_legs: int = 0
    quote_failures: int = 0
    legs: Counter[str] = field(default_factory=Counter)
    results: Counter[str] = field(default_factory=Counter)
    settled: Counter[str] = field(default_factory=Counter)
    failed_trades: int = 0
    unsettled_dropped: int = 0
    """Accepted bets given up on: gone from the venue, or unsettled after `settle_give_up_s`."""
    pause_changes: deque[tuple[str, bool]] = field(
        default_factory=lambda: deque(maxlen=PAUSE_CHANGES_KEPT)
    )

    def to_json(self) -> dict[str, Any]:
        """The stats as plain JSON values."""
        return {
            "opportunities": self.opportunities,
            "skipped_paused": self.skipped_paused,
            "skipped_busy": self.skipped_busy,
            "blocked_legs": self.blocked_legs,
            "quote_failures": self.quote_failures,
            "legs": dict(self.legs),
            "results": dict(self.results),
            "settled": dict(self.settled),
            "failed_trades": self.failed_trades,
            "unsettled_dropped": self.unsettled_dropped,
            "pause_changes": [list(p) for p in self.pause_changes],
        }


class ArbEngine:
    """Sends paired legs at a fixed rate while `trading_allowed()` says yes."""

    def __init__(
        self,
        settings: EngineSettings,
        *,
        trading_allowed: TradingAllowed,
        observer: EngineObserver | None = None,
        clock: Clock | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.settings = settings
        self._allowed_fn = trading_allowed
        self.observer: EngineObserver = observer or RecordingObserver()
        self._clock: Clock = clock or SystemClock()
        self._http = http
        self._owns_http = http is None
        self._rng = random.Random(settings.seed)  # noqa: S311 - simulation
        self._stop = asyncio.Event()
        self._inflight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._allowed_last: bool | None = None
        self._pairs: list[Pair] = []
        self._sx_open: dict[str, float] = {}
        """fillHash -> unix time the fill was accepted, until seen settled or failed."""
        self._azuro_open: dict[str, float] = {}
        """Order id -> unix time it was accepted, until seen settled or canceled."""
        self._nonce = 0
        self.stats = EngineStats()

    def stop(self) -> None:
        """Ask `run()` to stop sending and return after in-flight legs finish."""
        self._stop.set()

    @property
    def pairs(self) -> list[Pair]:
        """The market pairs found by `prepare()` (empty before)."""
        return list(self._pairs)

    @property
    def inflight(self) -> int:
        """Legs sent and not final yet."""
        return self._inflight

    async def run(self, duration_s: float | None = None) -> EngineStats:
        """Trade until `stop()` or `duration_s` (engine clock) elapses; return the stats."""
        settle_task: asyncio.Task[None] | None = None
        try:
            if not await self.prepare():
                return self.stats
            settle_task = asyncio.create_task(self._settlement_loop())
            period = 1.0 / self.settings.opportunities_per_s
            start = self._clock.monotonic()
            next_at = start
            while not self._stop.is_set():
                now = self._clock.monotonic()
                if duration_s is not None and now - start >= duration_s:
                    break
                await self.tick()
                next_at += period
                await self._sleep_or_stop(next_at - self._clock.monotonic())
        finally:
            await self.drain()
            if settle_task is not None:
                settle_task.cancel()
                await asyncio.gather(settle_task, return_exceptions=True)
            await self.close()
        return self.stats

    async def prepare(self) -> bool:
        """Open the HTTP client and pair the venues' markets; False when stopped before."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.settings.request_timeout_s)
        self._pairs = await self._discover()
        return bool(self._pairs)

    async def close(self) -> None:
        """Close the HTTP client if the engine opened it."""
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _sleep_or_stop(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        sleeper = asyncio.ensure_future(self._clock.sleep(seconds))
        stopper = asyncio.ensure_future(self._stop.wait())
        await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for pending in (sleeper, stopper):
            pending.cancel()

    async def drain(self) -> None:
        """Wait for in-flight opportunities (at most `shutdown_grace_s`), then cancel them."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=self.settings.shutdown_grace_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _discover(self) -> list[Pair]:
        """Read both market catalogues, retrying while a venue is down (until stopped)."""
        while True:
            try:
                return await self._discover_once()
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as err:
                logger.warning("market discovery failed (%s); retrying", err.__class__.__name__)
            if self._stop.is_set():
                return []
            await self._sleep_or_stop(0.5)

    async def _discover_once(self) -> list[Pair]:
        """Pair SX markets with Azuro conditions of the same phase (simulator catalogues)."""
        assert self._http is not None
        sx = (await self._http.get(self.settings.sx_url + "/sim/markets")).json()
        azuro = (await self._http.get(self.settings.azuro_url + "/sim/markets")).json()
        pairs = []
        for phase in ("pregame", "live"):
            sx_ids = [m["marketHash"] for m in sx if m["phase"] == phase]
            az = [c for c in azuro if c["phase"] == phase]
            for sx_id, cond in zip(sx_ids, az, strict=False):
                pairs.append(Pair(phase, sx_id, cond["conditionId"], int(cond["outcomeIds"][1])))
        if not pairs:
            raise ValueError("the venue simulators list no markets to pair (GET /sim/markets)")
        return pairs

    async def trading_allowed(self) -> bool:
        """Ask the injected callable; an exception means not allowed (fail closed)."""
        try:
            answer = self._allowed_fn()
            if inspect.isawaitable(answer):
                answer = await answer
            allowed = bool(answer)
        except Exception:
            logger.exception("trading_allowed() failed; not trading")
            allowed = False
        if allowed != self._allowed_last:
            self._allowed_last = allowed
            self.stats.pause_changes.append((format_ts(self._clock.now_utc()), allowed))
            logger.info("trading %s", "allowed" if allowed else "paused")
        return allowed

    async def tick(self) -> None:
        """Take one opportunity now if trading is allowed and a pair of legs fits."""
        if not await self.trading_allowed():
            self.stats.skipped_paused += 1
            return
        if self._inflight + 2 > self.settings.max_concurrency:
            self.stats.skipped_busy += 1
            return
        self.stats.opportunities += 1
        live = [p for p in self._pairs if p.phase == "live"]
        pregame = [p for p in self._pairs if p.phase == "pregame"]
        pool = live if (live and self._rng.random() < self.settings.live_fraction) else pregame
        pair = self._rng.choice(pool or self._pairs)
        stake = round(self._rng.uniform(*self.settings.stake_usd), 2)
        salt = str(self._rng.getrandbits(256))
        self._inflight += 2
        task = asyncio.create_task(self._opportunity(pair, stake, salt))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _opportunity(self, pair: Pair, stake: float, salt: str) -> None:
        try:
            quote = await self._quote(pair)
            if quote is None:
                self.stats.quote_failures += 1
                return
            az_stake = round(stake * (1.0 / quote.sx_prob) / quote.azuro_odds, 2)
            legs = []
            if await self.trading_allowed():
                legs.append(self._sx_leg(pair, quote, stake, salt))
            else:
                self.stats.blocked_legs += 1
            if await self.trading_allowed():
                legs.append(self._azuro_leg(pair, quote, max(az_stake, 1.0)))
            else:
                self.stats.blocked_legs += 1
            await asyncio.gather(*legs)
        finally:
            self._inflight -= 2

    async def _quote(self, pair: Pair) -> Quote | None:
        assert self._http is not None
        s = self.settings
        try:
            with self.observer.call("sx", "orders_odds_best") as call:
                resp = await self._http.get(
                    s.sx_url + "/orders/odds/best",
                    params={"marketHashes": pair.sx_market, "baseToken": SX_USDC},
                )
                call.fail_status(resp.status_code)
            best = resp.json()["data"]["bestOdds"][0] if resp.status_code == 200 else None
            with self.observer.call("azuro", "condition_batch") as call:
                az = await self._http.post(
                    s.azuro_url + "/market-manager/condition-batch",
                    json={"conditionIds": [pair.azuro_condition], "environment": "PolygonUSDT"},
                )
                call.fail_status(az.status_code)
            conditions = az.json()["conditions"] if az.status_code == 200 else []
        except (httpx.HTTPError, ValueError, KeyError, IndexError) as err:
            logger.warning("quote failed: %s", err.__class__.__name__)
            return None
        if best is None or not conditions:
            return None
        outcomes = {int(o["outcomeId"]): float(o["odds"]) for o in conditions[0]["outcomes"]}
        # A taker on outcome one fills makers betting outcome two.
        sx_prob = 1.0 - int(best["outcomeTwo"]["percentageOdds"]) / SX_ODDS_ONE
        return Quote(sx_prob, outcomes[pair.azuro_outcome], self._clock.monotonic())

    def _leg(self, venue: str, pair: Pair, stake: float, prob: float, quote: Quote) -> LegInfo:
        self._nonce += 1
        self.stats.legs[venue] += 1
        return LegInfo(
            leg_id=f"{venue}-{self._nonce}",
            venue=venue,
            phase=pair.phase,
            stake_usd=stake,
            quoted_prob=prob,
            quoted_at=quote.at,
            submitted_at=self._clock.monotonic(),
        )

    async def _send(self, leg: LegInfo, send: Awaitable[LegResult]) -> None:
        """Report the leg, run `send`, report its result exactly once (also on failure)."""
        self.observer.leg_submitted(leg)
        try:
            result = await send
        except httpx.HTTPError as err:
            result = LegResult("error", 0.0, code=_error_class(err))
        except (ValueError, KeyError, TypeError) as err:
            logger.warning("%s leg: unreadable venue answer (%s)", leg.venue, err)
            result = LegResult("error", 0.0, code="bad_response")
        except asyncio.CancelledError:
            self._finish(leg, LegResult("error", 0.0, code="cancelled"))
            raise
        self._finish(leg, result)

    def _finish(self, leg: LegInfo, result: LegResult) -> None:
        self.stats.results[f"{leg.venue}:{result.result}"] += 1
        self.observer.leg_result(leg, result)

    async def _sx_leg(self, pair: Pair, quote: Quote, stake: float, salt: str) -> None:
        s = self.settings
        body = sx_fill_body(
            pair, quote, stake, salt, taker=s.taker, odds_slippage_pct=s.odds_slippage_pct
        )
        leg = self._leg("sx", pair, stake, quote.sx_prob, quote)
        await self._send(leg, self._sx_fill(body, stake))

    async def _sx_fill(self, body: dict[str, Any], stake: float) -> LegResult:
        assert self._http is not None
        with self.observer.call("sx", "orders_fill") as call:
            resp = await self._http.post(self.settings.sx_url + "/orders/fill/v2", json=body)
            payload = _json(resp)
            code = payload.get("errorCode") if isinstance(payload, dict) else None
            if resp.status_code == 400 and code:
                call.fail("rejected")
            else:
                call.fail_status(resp.status_code)
        return self._sx_result(resp, payload, stake)

    def _sx_result(self, resp: httpx.Response, payload: Any, stake: float) -> LegResult:
        now = self._clock.monotonic()
        if resp.status_code == 200 and isinstance(payload, dict):
            data = payload.get("data", {})
            filled = int(data.get("totalFilled", "0")) / 10**6
            if filled <= 0:
                return LegResult("rejected", 0.0, code="NOTHING_FILLED")
            fill_hash = str(data.get("fillHash"))
            self._sx_open[fill_hash] = self._clock.now_utc().timestamp()
            return LegResult(
                "partial" if data.get("isPartialFill") else "filled",
                filled if data.get("isPartialFill") else stake,
                filled_prob=int(data["averageOdds"]) / SX_ODDS_ONE,
                accepted_at=now,
                order_id=fill_hash,
            )
        code = payload.get("errorCode") if isinstance(payload, dict) else None
        if resp.status_code == 400 and code:
            if code in SX_EXPIRED_CODES:
                return LegResult("expired", 0.0, code=str(code))
            return LegResult("rejected", 0.0, code=str(code))
        return LegResult("error", 0.0, code=f"http_{resp.status_code}")

    async def _azuro_leg(self, pair: Pair, quote: Quote, stake: float) -> None:
        nonce = str(int(self._clock.now_utc().timestamp() * 1000) * 1000 + self._nonce % 1000)
        expires = int(self._clock.now_utc().timestamp() + self.settings.order_ttl_s)
        body = azuro_bet_body(
            pair,
            quote,
            stake,
            bettor=self.settings.bettor,
            odds_slippage_pct=self.settings.odds_slippage_pct,
            nonce=nonce,
            expires_at=expires,
        )
        leg = self._leg("azuro", pair, stake, 1.0 / quote.azuro_odds, quote)
        await self._send(leg, self._azuro_bet(leg, body, stake))

    async def _azuro_bet(self, leg: LegInfo, body: dict[str, Any], stake: float) -> LegResult:
        assert self._http is not None
        with self.observer.call("azuro", "bet_order_place") as call:
            resp = await self._http.post(self.settings.azuro_url + "/bet/orders/ordinar", json=body)
            call.fail_status(resp.status_code)
        payload = _json(resp)
        if resp.status_code != 200 or not isinstance(payload, dict) or "id" not in payload:
            code = payload.get("error") if isinstance(payload, dict) else None
            detail = str(code or f"http_{resp.status_code}")
            if resp.status_code == 400:
                return LegResult("rejected", 0.0, code=detail)
            return LegResult("error", 0.0, code=detail)
        return await self._poll_azuro(leg, str(payload["id"]), stake)

    async def _poll_azuro(self, leg: LegInfo, order_id: str, stake: float) -> LegResult:
        assert self._http is not None
        s = self.settings
        deadline = leg.submitted_at + s.order_ttl_s
        while self._clock.monotonic() < deadline:
            await self._clock.sleep(s.poll_interval_s)
            try:
                with self.observer.call("azuro", "bet_order_get") as call:
                    resp = await self._http.get(f"{s.azuro_url}/bet/orders/{order_id}")
                    call.fail_status(resp.status_code)
            except httpx.HTTPError:
                continue
            order = _json(resp)
            if resp.status_code != 200 or not isinstance(order, dict):
                continue
            state = order.get("state")
            if state not in AZURO_FINAL:
                continue
            if state in ("Rejected", "Canceled"):
                return LegResult("rejected", 0.0, code=str(order.get("error") or state))
            self._azuro_open[order_id] = self._clock.now_utc().timestamp()
            return LegResult(
                "filled",
                float(order.get("amount") or stake),
                filled_prob=_azuro_prob(order),
                accepted_at=self._accepted_at(leg, order.get("updatedAt")),
                order_id=order_id,
            )
        return LegResult("expired", 0.0, code="NOT_FINAL_BEFORE_EXPIRY", order_id=order_id)

    def _accepted_at(self, leg: LegInfo, updated: Any) -> float:
        """The venue's accept moment on the engine's monotonic clock, clamped to submit..now."""
        now = self._clock.monotonic()
        if not isinstance(updated, str):
            return now
        try:
            moment: datetime = parse_ts(updated)
        except ValueError:
            return now
        venue_mono = now - (self._clock.now_utc() - moment).total_seconds()
        return min(max(venue_mono, leg.submitted_at), now)

    async def _settlement_loop(self) -> None:
        while True:
            await self._clock.sleep(self.settings.settle_poll_s)
            await self.check_settlements()

    async def check_settlements(self) -> None:
        """Look up every open bet once on both venues; a failed lookup is retried next time."""
        try:
            await self._check_sx_settlements()
            await self._check_azuro_settlements()
        except (httpx.HTTPError, ValueError, KeyError) as err:
            logger.warning("settlement check failed: %s", err.__class__.__name__)

    def open_bets(self) -> int:
        """Accepted bets still looked up for their settlement."""
        return len(self._sx_open) + len(self._azuro_open)

    def _give_up_old(self) -> None:
        """Stop looking up bets accepted more than `settle_give_up_s` ago."""
        horizon = self._clock.now_utc().timestamp() - self.settings.settle_give_up_s
        for book in (self._sx_open, self._azuro_open):
            stale = [key for key, accepted in book.items() if accepted < horizon]
            for key in stale:
                del book[key]
            if stale:
                self.stats.unsettled_dropped += len(stale)
                logger.warning(
                    "%d bets unsettled after %g s; no longer looked up",
                    len(stale),
                    self.settings.settle_give_up_s,
                )

    async def _check_sx_settlements(self) -> None:
        """Page through the wallet's trades from the oldest open one on (`startDate`)."""
        assert self._http is not None
        self._give_up_old()
        if not self._sx_open:
            return
        start = int(min(self._sx_open.values())) - SX_START_MARGIN_S
        key: str | None = "0"
        while key is not None and self._sx_open:
            params = {
                "bettor": self.settings.taker,
                "startDate": str(start),
                "pageSize": "1000",
                "paginationKey": key,
            }
            with self.observer.call("sx", "trades") as call:
                resp = await self._http.get(self.settings.sx_url + "/trades", params=params)
                call.fail_status(resp.status_code)
            if resp.status_code != 200:
                return
            data = resp.json()["data"]
            for trade in data["trades"]:
                fill_hash = trade["fillHash"]
                if fill_hash not in self._sx_open:
                    continue
                if trade["tradeStatus"] == "FAILED":
                    del self._sx_open[fill_hash]
                    self.stats.failed_trades += 1
                elif trade["settled"]:
                    del self._sx_open[fill_hash]
                    outcome = int(trade["outcome"])
                    won = (outcome == 1) == bool(trade["bettingOutcomeOne"])
                    self._settle("sx", "void" if outcome == 0 else ("won" if won else "lost"))
            key = data.get("nextKey")

    async def _check_azuro_settlements(self) -> None:
        assert self._http is not None
        for order_id in list(self._azuro_open):
            with self.observer.call("azuro", "bet_order_get") as call:
                resp = await self._http.get(f"{self.settings.azuro_url}/bet/orders/{order_id}")
                call.fail_status(resp.status_code)
            if resp.status_code == 404:
                del self._azuro_open[order_id]  # the venue no longer knows it
                self.stats.unsettled_dropped += 1
                continue
            if resp.status_code != 200:
                continue
            order = resp.json()
            if order.get("state") == "Canceled":
                del self._azuro_open[order_id]
                self._settle("azuro", "void")
            elif order.get("state") == "Settled":
                del self._azuro_open[order_id]
                self._settle("azuro", "won" if order.get("result") == "Won" else "lost")

    def _settle(self, venue: str, outcome: str) -> None:
        self.stats.settled[f"{venue}:{outcome}"] += 1
        self.observer.bet_settled(venue, outcome)  # type: ignore[arg-type]


def _json(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


def _azuro_prob(order: dict[str, Any]) -> float | None:
    meta = order.get("meta")
    try:
        if isinstance(meta, dict) and meta.get("rawOdds"):
            return float(10**AZURO_ODDS_DECIMALS / int(meta["rawOdds"]))
        return float(1.0 / float(order["odds"]))
    except (KeyError, ValueError, ZeroDivisionError, TypeError):
        return None


def _error_class(err: httpx.HTTPError) -> str:
    if isinstance(err, httpx.TimeoutException):
        return "timeout"
    if isinstance(err, httpx.ConnectError):
        return "connect"
    return "other"
