"""Serve the real orchestrator app with uvicorn on a loopback port, in a thread."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from prometheus_client import CollectorRegistry

from arbqos.clock import SystemClock
from arbqos.config import ArbqosConfig
from arbqos.services import ControlService, create_app
from arbqos_harness.process import free_port, wait_for_http
from tests.services.conftest import CONFIG_HASH, TOKENS


@dataclass(frozen=True)
class Served:
    """A served orchestrator: its URL and its service (to read the state it holds)."""

    url: str
    service: ControlService


@contextlib.contextmanager
def serve_orchestrator(state_dir: Path) -> Iterator[Served]:
    """Run the app (tokens of `tests.services.conftest`) until the block ends."""
    registry = CollectorRegistry()
    service = ControlService.build(
        ArbqosConfig(),
        state_dir=state_dir,
        clock=SystemClock(),
        registry=registry,
        config_hash=CONFIG_HASH,
        config_sources="default",
    )
    app = create_app(service, TOKENS, registry=registry, max_body_bytes=65536)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/healthz", timeout_s=10)
        yield Served(base, service)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        service.close()
