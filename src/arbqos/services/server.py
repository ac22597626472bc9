"""`arbqos orchestrator`: check tokens and bind address, open the state, serve with uvicorn."""

from __future__ import annotations

import logging
import socket
import sqlite3
import sys
from collections.abc import Mapping
from pathlib import Path

import uvicorn
from prometheus_client import CollectorRegistry

from arbqos.clock import SystemClock
from arbqos.config import ConfigManager
from arbqos.errors import ArbqosError, TokenError
from arbqos.net import is_loopback
from arbqos.services.auth import Tokens, load_tokens
from arbqos.services.connections import (
    ACCEPT_BURST,
    ConnectionGuard,
    connection_cap,
    guarded_protocol,
    raise_fd_limit,
)
from arbqos.services.http_app import create_app
from arbqos.services.service import ControlService

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2
LISTEN_BACKLOG = 2048
"""Kernel accept queue of the control API's listening socket."""
TICK_S = 1.0
"""How often the dead man's switch and auto-resume are checked."""


def check_tokens(tokens: Tokens, host: str) -> str | None:
    """Return why the service must not start with these tokens on `host`, or None.

    The admin token is always required: without it nobody could ever resume. Off loopback
    both tokens are required, so no caller reaches the API with a shared all-powerful token.
    """
    if tokens.admin is None:
        return (
            "no admin token: set ARBQOS_ADMIN_TOKEN or ARBQOS_ADMIN_TOKEN_FILE "
            "(without it nobody could resume trading)"
        )
    if not is_loopback(host) and tokens.pause is None:
        return (
            f"refusing to bind {host} (not loopback) without a pause token: set "
            "ARBQOS_PAUSE_TOKEN or ARBQOS_PAUSE_TOKEN_FILE, or bind 127.0.0.1"
        )
    return None


def run_orchestrator(
    manager: ConfigManager,
    *,
    registry: CollectorRegistry,
    host: str | None,
    port: int | None,
    state_dir: Path | None,
    env: Mapping[str, str],
) -> int:
    """Run the control service until SIGINT/SIGTERM; flags override `orchestrator.*` config."""
    config = manager.config
    orch = config.orchestrator
    bind_host = host or orch.host
    bind_port = port if port is not None else orch.port
    directory = state_dir or Path(orch.state_dir)
    try:
        tokens = load_tokens(env)
    except TokenError as err:
        return _refuse(str(err))
    problem = check_tokens(tokens, bind_host)
    if problem:
        return _refuse(problem)
    if tokens.pause is None:
        logger.warning("no pause token: only the admin token can pause (set ARBQOS_PAUSE_TOKEN)")
    for scope in tokens.short():
        logger.warning("the %s token is short; use 32 random hex characters or more", scope)
    if not 1 <= bind_port <= 65535:
        return _refuse(f"--port {bind_port}: expected 1-65535")
    try:
        sock = listen_socket(bind_host, bind_port)
    except OSError as err:
        return _refuse(
            f"cannot listen on {bind_host}:{bind_port}: {err.strerror or err}", EXIT_FAILURE
        )
    try:
        service = ControlService.build(
            config,
            state_dir=directory,
            clock=SystemClock(),
            registry=registry,
            config_hash=manager.hash,
            config_sources=manager.loaded.source_kinds,
            alert_log_path=Path(orch.alert_events_log),
        )
    except ArbqosError as err:
        sock.close()
        return _refuse(f"--state-dir {directory}: {err}", err.exit_code)
    except (OSError, sqlite3.Error) as err:
        sock.close()
        return _refuse(f"--state-dir {directory}: cannot open the pause state ({err})")
    if not service.heartbeat_monitor.enabled:
        logger.warning(
            "dead man's switch off: heartbeat.report_to_orchestrator is false, so no report "
            "is expected; set it true to pause when the heartbeat goes silent"
        )
    app = create_app(
        service,
        tokens,
        registry=registry,
        max_body_bytes=orch.max_body_bytes,
        body_timeout_s=orch.body_timeout_s,
        background_interval_s=TICK_S,
    )
    logger.info(
        "orchestrator listening",
        extra={
            "host": bind_host,
            "port": sock.getsockname()[1],
            "state_dir": str(directory),
            "state": service.control.state.value,
            "config_hash": manager.hash,
            "deadman_window_s": service.heartbeat_monitor.window_s,
        },
    )
    soft, _hard = raise_fd_limit()
    guard = ConnectionGuard(connection_cap(orch.max_connections, soft), orch.header_timeout_s)
    server = GuardedServer(
        uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_keep_alive=30,
            http=guarded_protocol(guard),
            backlog=ACCEPT_BURST,
        )
    )
    try:
        server.run(sockets=[sock])
    finally:
        service.close()
        sock.close()
    return EXIT_OK


class GuardedServer(uvicorn.Server):
    """uvicorn's server with a deep kernel accept queue but small accept bursts.

    asyncio accepts up to `backlog` connections per loop turn before any of them reaches the
    connection guard, and uses the same number for `listen()`: a small `backlog` keeps the
    descriptors in use bounded, and listening again after start-up keeps a deep kernel queue
    so a flood of connections waits there instead of in SYN retries.
    """

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start serving, then deepen the kernel accept queue of every listening socket."""
        await super().startup(sockets=sockets)
        for sock in sockets or []:
            sock.listen(LISTEN_BACKLOG)


def listen_socket(host: str, port: int) -> socket.socket:
    """Bind and listen, so a busy port is a clear error before anything else starts.

    The protocol is given explicitly: asyncio sets TCP_NODELAY on accepted connections only
    when the listening socket says IPPROTO_TCP, and without it every answer that is written
    in two parts waits for the peer's delayed ACK (about 40 ms).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
        sock.listen(LISTEN_BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def _refuse(message: str, code: int = EXIT_BAD_INPUT) -> int:
    """Say why the service does not start, on stderr, and return the exit code."""
    logger.error("orchestrator not started: %s", message)
    sys.stderr.write(f"arbqos orchestrator: {message}\n")
    return code
