"""The control API: thin FastAPI routes over ControlService, JSON errors, bearer scopes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from arbqos import __version__
from arbqos.clock import Clock, SystemClock
from arbqos.services.apidocs import render_docs
from arbqos.services.auth import Tokens
from arbqos.services.control import ResumeRefused, StateNotPersisted
from arbqos.services.heartbeat import StaleReport
from arbqos.services.limits import BodyLimit, error_response
from arbqos.services.service import ControlService
from arbqos.services.state import Actor
from arbqos.services.store import StateStoreError
from arbqos.vocab import Chain
from arbqos.wire import (
    AlertmanagerPayload,
    AlertmanagerResponse,
    BalancesRequest,
    ChainHealthBody,
    ErrorResponse,
    HeartbeatReport,
    HeartbeatResponse,
    JournalResponse,
    PauseRequest,
    PauseResponse,
    RegistryResponse,
    ResumeRefusedResponse,
    ResumeRequest,
    ResumeResponse,
    StatusResponse,
)

logger = logging.getLogger(__name__)

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 413, 415, 422, 503)
}


class ApiError(Exception):
    """An error answer: status, short code, message naming the problem and the fix."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


WEBHOOK_BODY_MAX = 4 * 1024 * 1024
"""The Alertmanager webhook takes bodies up to this size at least: a big group of alerts must
never be refused (Alertmanager does not retry a 4xx, so the pause would be lost)."""


def create_app(
    service: ControlService,
    tokens: Tokens,
    *,
    registry: CollectorRegistry,
    max_body_bytes: int,
    body_timeout_s: float = 10.0,
    clock: Clock | None = None,
    background_interval_s: float | None = None,
) -> FastAPI:
    """Build the ASGI app; `background_interval_s` starts the dead man's switch/auto-resume task."""
    ticker_clock = clock or SystemClock()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        tasks = []
        if background_interval_s:
            tasks.append(
                asyncio.create_task(_periodic(service, ticker_clock, background_interval_s))
            )
            if service.pinger is not None:
                tasks.append(asyncio.create_task(service.pinger.run()))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(
        title="arbqos orchestrator",
        version=__version__,
        description="Pause state, Alertmanager webhook, heartbeat intake and RuntimeRegistry host.",
        lifespan=lifespan,
        docs_url=None,  # self-hosted below: no third-party script on a page that takes tokens
        redoc_url=None,
    )
    app.add_middleware(
        BodyLimit,
        max_body_bytes=max_body_bytes,
        timeout_s=body_timeout_s,
        larger={"/v1/alertmanager": max(max_body_bytes, WEBHOOK_BODY_MAX)},
    )
    _install_error_handlers(app)
    pause_scope = Depends(_scope_dependency(tokens, "pause"))
    admin_scope = Depends(_scope_dependency(tokens, "admin"))

    @app.get("/healthz", tags=["ops"], responses={503: {"model": ErrorResponse}})
    async def healthz() -> JSONResponse:
        """Health: 200 `ok`, or 503 naming what is wrong (e.g. the state cannot be stored)."""
        problems = service.health()
        if problems:
            return JSONResponse(
                {"status": "unhealthy", "problems": problems, "state": service.control.state},
                status_code=503,
            )
        return JSONResponse({"status": "ok"})

    @app.get("/docs", tags=["ops"], response_class=HTMLResponse, include_in_schema=False)
    async def docs() -> HTMLResponse:
        """The API described as plain HTML (no script, no CDN)."""
        return HTMLResponse(render_docs(app.openapi()))

    @app.get("/metrics", tags=["ops"], response_class=Response)
    async def metrics() -> Response:
        """Prometheus exposition."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/status", response_model=StatusResponse, tags=["control"])
    async def status() -> JSONResponse:
        """Whether trading is allowed, and why not."""
        return JSONResponse(service.status())  # built by the service; no re-validation

    @app.post("/v1/pause", response_model=PauseResponse, responses=_ERRORS, tags=["control"])
    async def pause(body: PauseRequest, actor: Actor = pause_scope) -> dict[str, Any]:
        """Pause trading for (source, reason); idempotent (`changed: false` when already active)."""
        outcome = service.pause(body.source, body.reason, body.detail, actor)
        return {
            "state": outcome.state.value,
            "changed": outcome.changed,
            "persisted": outcome.persisted,
        }

    @app.post(
        "/v1/resume",
        response_model=ResumeResponse,
        responses={**_ERRORS, 409: {"model": ResumeRefusedResponse}},
        tags=["control"],
    )
    async def resume(
        body: ResumeRequest | None = None, actor: Actor = admin_scope
    ) -> dict[str, Any]:
        """Resume trading (admin); 409 while an automatic reason is active unless `force`."""
        request = body or ResumeRequest()
        outcome = service.resume(actor, force=request.force, detail=request.detail)
        return {
            "state": outcome.state.value,
            "changed": outcome.changed,
            "cleared": [r.to_json() for r in outcome.cleared],
        }

    @app.post(
        "/v1/alertmanager", response_model=AlertmanagerResponse, responses=_ERRORS, tags=["intake"]
    )
    async def alertmanager(body: AlertmanagerPayload, actor: Actor = pause_scope) -> dict[str, Any]:
        """Alertmanager webhook (version 4): firing `action="pause"` alerts pause."""
        results = service.alertmanager(body, actor)
        if not service.alerts.persisted:
            raise _not_persisted(service, "the alerts were applied in memory (fail closed)")
        return {"state": service.control.state.value, "results": [vars(r) for r in results]}

    @app.post("/v1/heartbeat", response_model=HeartbeatResponse, responses=_ERRORS, tags=["intake"])
    async def heartbeat(body: HeartbeatReport, actor: Actor = pause_scope) -> dict[str, Any]:
        """Heartbeat tick: updates the registry, pauses on a down chain, feeds the deadman."""
        outcome = await service.heartbeat(body, actor)
        if not outcome.persisted:
            raise _not_persisted(service, "the report was applied in memory (fail closed)")
        return {"state": outcome.state, "changed": outcome.changed, "down": outcome.down}

    @app.get("/v1/registry", response_model=RegistryResponse, tags=["registry"])
    async def registry_get() -> dict[str, Any]:
        """RuntimeRegistry snapshot: chain health, gas, balances, config hash."""
        return await service.registry_snapshot()

    @app.put(
        "/v1/registry/chains/{chain}",
        response_model=RegistryResponse,
        responses=_ERRORS,
        tags=["registry"],
    )
    async def registry_chain(
        chain: Annotated[Chain, Path()],
        body: ChainHealthBody,
        actor: Actor = pause_scope,
    ) -> dict[str, Any]:
        """Record one chain's health (`ChainHealth.to_json()`); body chain must match the path."""
        if body.chain != chain:
            raise ApiError(
                422, "chain_mismatch", f"body.chain is {body.chain!r} but the path says {chain!r}"
            )
        await service.put_chain(chain, body, actor)
        return await service.registry_snapshot()

    @app.put(
        "/v1/registry/balances",
        response_model=RegistryResponse,
        responses=_ERRORS,
        tags=["registry"],
    )
    async def registry_balances(
        body: BalancesRequest, actor: Actor = pause_scope
    ) -> dict[str, Any]:
        """Record wallet balances (`{"balances": {"sx": WalletBalance.to_json(), ...}}`)."""
        await service.put_balances(body, actor)
        return await service.registry_snapshot()

    @app.get("/v1/journal", response_model=JournalResponse, responses=_ERRORS, tags=["control"])
    async def journal(
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        kind: Annotated[Literal["request", "reason", "transition"] | None, Query()] = None,
    ) -> dict[str, Any]:
        """Audit journal, newest first: every request, reason change and state transition."""
        return {"entries": service.journal(limit, kind)}

    return app


def _not_persisted(service: ControlService, what: str) -> ApiError:
    """The 503 for a request whose changes could not be written to disk."""
    return ApiError(
        503,
        "state_not_persisted",
        f"{what}, but the pause state cannot be written to disk ({service.control.store_error}); "
        f"trading is {service.control.state.value}; retry later",
    )


async def _periodic(service: ControlService, clock: Clock, interval_s: float) -> None:
    """Run the dead man's switch and auto-resume every `interval_s`; never dies on an error."""
    while True:
        await clock.sleep(interval_s)
        try:
            service.tick()
        except Exception:
            logger.exception("periodic check failed; retrying next interval")


def _scope_dependency(
    tokens: Tokens, needed: Literal["pause", "admin"]
) -> Callable[..., Awaitable[Actor]]:
    bearer = HTTPBearer(auto_error=False, description=f"the {needed} token (or the admin token)")
    credentials_dependency = Depends(bearer)

    async def check(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = credentials_dependency,
    ) -> Actor:
        if credentials is None:
            raise ApiError(401, "unauthorized", "send Authorization: Bearer <token>")
        scope = tokens.scope_of(credentials.credentials)
        if scope is None:
            raise ApiError(
                401,
                "unauthorized",
                "unknown token: it matches neither the pause nor the admin token this "
                "orchestrator was started with",
            )
        if needed == "admin" and scope != "admin":
            raise ApiError(
                403, "forbidden", "this call needs the admin token; the pause token cannot resume"
            )
        return Actor(scope, request.client.host if request.client else "")

    return check


def _install_error_handlers(app: FastAPI) -> None:
    """Answer every failure with `{"error", "message", "errors"}`; never a bare 500."""

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return error_response(exc.status, exc.error, exc.message, headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        raw = exc.errors()
        errors = [
            {
                "field": ".".join(str(part) for part in err.get("loc", ())),
                "message": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
            for err in raw
        ]
        bad_json = [e for e in raw if e.get("type") == "json_invalid"]
        if bad_json:
            ctx = bad_json[0].get("ctx") or {}
            position = bad_json[0].get("loc", ("body", "?"))[-1]
            message = (
                f"body is not valid JSON: {ctx.get('error', 'decode error')} at char {position}"
            )
            return JSONResponse(
                {"error": "bad_json", "message": message, "errors": errors}, status_code=400
            )
        message = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return JSONResponse(
            {"error": "validation_failed", "message": message, "errors": errors}, status_code=422
        )

    @app.exception_handler(ResumeRefused)
    async def resume_refused(_: Request, exc: ResumeRefused) -> JSONResponse:
        return JSONResponse(
            {
                "error": "reasons_active",
                "message": str(exc),
                "errors": [],
                "active_reasons": [r.to_json() for r in exc.active],
            },
            status_code=409,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return error_response(exc.status_code, f"http_{exc.status_code}", message, exc.headers)

    @app.exception_handler(StaleReport)
    async def stale_report(_: Request, exc: StaleReport) -> JSONResponse:
        return error_response(422, "stale_report", str(exc))

    @app.exception_handler(StateNotPersisted)
    async def not_persisted(_: Request, exc: StateNotPersisted) -> JSONResponse:
        return error_response(503, "state_not_persisted", str(exc))

    @app.exception_handler(sqlite3.Error)
    @app.exception_handler(StateStoreError)
    async def storage_error(_: Request, exc: Exception) -> JSONResponse:
        logger.error("state store failed: %s", exc)
        return error_response(
            503,
            "state_store_failed",
            f"the pause state store failed ({exc}); trading is paused while it cannot be "
            "stored; check the state dir",
        )
