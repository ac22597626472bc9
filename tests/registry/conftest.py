"""The orchestrator for registry tests: a loopback stand-in (uvicorn thread) or the real process."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Header, HTTPException, Response

from arbqos.registry import ChainHealth, RuntimeRegistry, WalletBalance
from arbqos_harness.process import free_port
from tests.conftest import REPO_ROOT
from tests.support.cli import arbqos_service
from tests.support.wait import eventually

TOKEN = "pause-token-for-tests"


@dataclass
class StandIn:
    """The served app's knobs and its backing in-process registry."""

    url: str
    runtime: RuntimeRegistry
    delay_s: float = 0.0
    garbage: bool = False
    wrong_shape: bool = False


def build_app(state: StandIn) -> FastAPI:
    """Just the three registry routes, with the documented JSON bodies and pause-token auth."""
    app = FastAPI()

    def check(authorization: str | None) -> None:
        if authorization != f"Bearer {TOKEN}":
            raise HTTPException(401, "missing or wrong bearer token")

    @app.get("/v1/registry")
    async def snapshot() -> Any:
        await asyncio.sleep(state.delay_s)
        if state.garbage:
            return Response("<html>proxy error</html>", media_type="text/html")
        if state.wrong_shape:
            return {"chains": {"arbitrum": {"block": 1}}}
        return (await state.runtime.snapshot()).to_json()

    @app.put("/v1/registry/chains/{chain}")
    async def chain(
        chain: str, body: dict[str, Any], authorization: str | None = Header(None)
    ) -> Any:
        check(authorization)
        if body.get("chain") != chain:
            raise HTTPException(422, f"body chain {body.get('chain')!r} != path chain {chain!r}")
        await state.runtime.set_chain_health(ChainHealth.from_json(body))
        return (await state.runtime.snapshot()).to_json()

    @app.put("/v1/registry/balances")
    async def balances(body: dict[str, Any], authorization: str | None = Header(None)) -> Any:
        check(authorization)
        parsed = {k: WalletBalance.from_json(v) for k, v in body["balances"].items()}
        await state.runtime.set_balances(parsed)
        return (await state.runtime.snapshot()).to_json()

    return app


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    """Serve the stand-in on a free loopback port; stop it after the test."""
    port = free_port()
    state = StandIn(
        url=f"http://127.0.0.1:{port}", runtime=RuntimeRegistry(None, config_hash="c" * 64)
    )
    config = uvicorn.Config(build_app(state), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    eventually(lambda: server.started, 10, 0.01, what="stand-in orchestrator started")
    yield state
    server.should_exit = True
    thread.join(timeout=10)


@contextlib.contextmanager
def real_orchestrator(workdir: Path, *, pause_token: str, admin_token: str) -> Iterator[str]:
    """Run `arbqos orchestrator` on a free loopback port with a fresh state; yield its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ["orchestrator", "--config-dir", str(REPO_ROOT / "config"), "--port", str(port)]
    args += ["--state-dir", str(workdir / "state")]
    env = {"ARBQOS_PAUSE_TOKEN": pause_token, "ARBQOS_ADMIN_TOKEN": admin_token}
    with arbqos_service(
        "orchestrator", *args, workdir=workdir, env=env, ready_url=f"{url}/healthz"
    ):
        yield url
