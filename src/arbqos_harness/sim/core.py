"""What both venue simulators share: seeded draws, the decision log, limits, faults, control API."""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from arbqos.clock import Clock, SystemClock, format_ts
from arbqos_harness.sim.knobs import KnobBox, KnobError, SimKnobs

Phase = Literal["pregame", "live"]
SimResult = Literal["filled", "partial", "rejected", "error"]
HANG_LIMIT_S = 600.0
"""A hanging request gives up after this long even if the outage never ends."""


@dataclass(frozen=True)
class Decision:
    """Everything the simulator decides about one order, drawn up front from its own seed."""

    error: bool
    """Fail at once with HTTP 500."""
    outcome: Literal["filled", "partial", "rejected"]
    fill_fraction: float
    delay_s: float
    """Wall seconds from submit to accept or reject."""
    slippage_bps: float
    """Fill implied probability minus quoted, bps (positive is worse for the bettor)."""
    void: bool
    trade_failed: bool
    reject_pick: float
    """Uniform draw choosing the reject reason."""
    side_pick: float
    """Uniform draw for anything else binary (e.g. which outcome wins)."""


def decide(rng: random.Random, knobs: SimKnobs, phase: Phase) -> Decision:
    """Draw one order's fate; the number and order of draws never depends on the knobs."""
    u_error, u_outcome, u_fraction, u_delay = (rng.random() for _ in range(4))
    u_jitter, u_void, u_fail, u_reject, u_side = (rng.random() for _ in range(5))
    slip_z = rng.gauss(0.0, 1.0)
    if u_outcome < knobs.reject_prob:
        outcome: Literal["filled", "partial", "rejected"] = "rejected"
    elif u_outcome < knobs.reject_prob + knobs.partial_prob:
        outcome = "partial"
    else:
        outcome = "filled"
    low, high = knobs.partial_fraction
    fraction = low + (high - low) * u_fraction if outcome == "partial" else 1.0
    jitter = -knobs.jitter_s * _log1m(u_jitter) if knobs.jitter_s > 0 else 0.0
    mean, sd = knobs.slippage_bps
    return Decision(
        error=u_error < knobs.error_rate,
        outcome=outcome,
        fill_fraction=fraction if outcome != "rejected" else 0.0,
        delay_s=knobs.accept_delay_s(phase, u_delay, jitter),
        slippage_bps=mean + sd * slip_z,
        void=u_void < knobs.void_prob,
        trade_failed=u_fail < knobs.trade_fail_prob,
        reject_pick=u_reject,
        side_pick=u_side,
    )


def _log1m(u: float) -> float:
    """ln(1 - u) for an exponential draw, safe at u close to 1."""
    return math.log1p(-min(u, 1.0 - 1e-12))


def pick(weights: Mapping[str, float], u: float) -> str:
    """Choose a key of `weights` with the uniform draw `u`."""
    total = sum(weights.values())
    acc = 0.0
    for key, weight in weights.items():
        acc += weight / total
        if u < acc:
            return key
    return list(weights)[-1]


def hex_id(*parts: object, length: int = 64) -> str:
    """A deterministic 0x-prefixed hex id from `parts`."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()
    return "0x" + (digest * 2)[:length]


class EventSink(Protocol):
    """Where decisions are logged: `arbqos_harness.sim.decisionlog.DecisionLog` (bounded on
    disk) or the product's `arbqos.eventlog.EventLog`."""

    def write(self, event: str, fields: Mapping[str, Any]) -> Any:
        """Append one record."""
        ...


class VenueError(Exception):
    """A refused venue request: HTTP status, the venue's error code, a message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


class SimCore:
    """State every simulator app shares: clock, knobs, seeded draws, event log, limits.

    Order draws are keyed by the order's own id (SX fillSalt, Azuro nonce), so the same orders
    get the same fate under the same seed whatever the arrival order or timing.
    """

    def __init__(
        self,
        venue: str,
        *,
        seed: int,
        knobs: KnobBox | None = None,
        clock: Clock | None = None,
        event_log: EventSink | None = None,
    ) -> None:
        self.venue = venue
        self.seed = seed
        self.knobs = knobs or KnobBox()
        self.clock: Clock = clock or SystemClock()
        self.event_log = event_log
        self.inflight = 0
        self.closing = False
        """Set when the server stops: pending delays end at once with 503 SHUTTING_DOWN."""
        self.counts: Counter[str] = Counter()
        self._requests: deque[float] = deque()
        self._misc_rng = random.Random(f"{seed}:{venue}:misc")  # noqa: S311 - simulation

    def order_rng(self, key: str) -> random.Random:
        """A random generator that depends only on the seed, the venue and `key`."""
        return random.Random(f"{self.seed}:{self.venue}:{key}")  # noqa: S311 - simulation

    def now_ts(self) -> str:
        """The current UTC time formatted for logs and payloads."""
        return format_ts(self.clock.now_utc())

    def record(self, event: str, fields: Mapping[str, Any]) -> None:
        """Write one simulator decision to the event log (if any) and count it."""
        self.counts[event] += 1
        if self.event_log is not None:
            self.event_log.write(event, {"venue": self.venue, **fields})

    def rate_limited(self) -> bool:
        """Count one order request; True when the rolling-minute budget is exhausted."""
        now = self.clock.monotonic()
        while self._requests and self._requests[0] <= now - 60.0:
            self._requests.popleft()
        if len(self._requests) >= self.knobs.current.rate_limit_per_min:
            return True
        self._requests.append(now)
        return False

    async def order_body(self, request: Request, endpoint: str) -> Any:
        """Parse an order request's JSON and count it against the rate limit (VenueError)."""
        try:
            body = await request.json()
        except ValueError:
            raise VenueError(400, "INVALID_REQUEST", "body is not valid JSON") from None
        if self.rate_limited():
            self.record("rate_limited", {"endpoint": endpoint, "status": 429})
            raise VenueError(429, "RATE_LIMITED", "too many requests: order rate limit reached")
        return body

    def refused(self, endpoint: str, err: VenueError) -> VenueError:
        """Log a refused request (other than rate limiting) and return the error."""
        if err.status != 429:
            self.record("request_invalid", {"endpoint": endpoint, "error_code": err.code})
        return err

    async def delay(self, seconds: float) -> None:
        """Sleep on the simulator clock in short slices; raise VenueError 503 when closing."""
        remaining = seconds
        while remaining > 0:
            if self.closing:
                raise VenueError(503, "SHUTTING_DOWN", "the simulator is shutting down")
            step = min(remaining, 0.05)
            await self.clock.sleep(step)
            remaining -= step

    def misc_error(self) -> bool:
        """Draw whether a non-order request fails (HTTP 500) under `error_rate`."""
        return self._misc_rng.random() < self.knobs.current.error_rate

    def later(self, seconds: float) -> datetime:
        """UTC time `seconds` wall seconds from now."""
        return self.clock.now_utc() + timedelta(seconds=seconds)


def install_faults(
    app: FastAPI,
    core: SimCore,
    *,
    order_paths: frozenset[str],
    error_body: Callable[[int, str], dict[str, Any]],
) -> None:
    """Add the outage / error-rate middleware to every venue endpoint (not `/sim/*`)."""

    @app.middleware("http")
    async def faults(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Any:
        path = request.url.path
        if path.startswith("/sim/"):
            return await call_next(request)
        outage = core.knobs.current.outage
        if outage == "503":
            core.record("outage_refused", {"endpoint": path, "status": 503})
            return JSONResponse(error_body(503, "service unavailable (simulated outage)"), 503)
        if outage == "hang":
            core.record("outage_hang", {"endpoint": path})
            await _hang_while_outage(core)
        if path not in order_paths and core.misc_error():
            core.record("request_error", {"endpoint": path, "status": 500})
            return JSONResponse(error_body(500, "internal error (simulated)"), 500)
        return await call_next(request)


async def _hang_while_outage(core: SimCore) -> None:
    """Hold the request open while the `hang` outage lasts (wall time, at most HANG_LIMIT_S)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HANG_LIMIT_S
    # Polled on purpose: knobs may be swapped from another thread, which cannot set an Event.
    while _hanging(core) and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)


def _hanging(core: SimCore) -> bool:
    return core.knobs.current.outage == "hang" and not core.closing


def control_router(core: SimCore, markets: Callable[[], list[dict[str, Any]]]) -> APIRouter:
    """The `/sim/*` endpoints: knobs (GET/POST), market catalogue, decision counts, health."""
    router = APIRouter(prefix="/sim", tags=["simulator control"])

    @router.get("/knobs")
    async def get_knobs() -> dict[str, Any]:
        return core.knobs.current.to_json()

    @router.post("/knobs")
    async def set_knobs(request: Request) -> Response:
        try:
            changes = await request.json()
        except ValueError:
            return JSONResponse({"detail": "body must be a JSON object of knob changes"}, 400)
        if not isinstance(changes, dict):
            return JSONResponse({"detail": "body must be a JSON object of knob changes"}, 400)
        try:
            knobs = core.knobs.update(changes)
        except KnobError as err:
            return JSONResponse({"detail": str(err)}, 400)
        core.record("knobs_changed", {"changes": changes, "knobs": knobs.to_json()})
        return JSONResponse(knobs.to_json())

    @router.get("/markets")
    async def get_markets() -> list[dict[str, Any]]:
        return markets()

    @router.get("/stats")
    async def get_stats() -> dict[str, Any]:
        return {"venue": core.venue, "inflight": core.inflight, "events": dict(core.counts)}

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "venue": core.venue}

    return router
