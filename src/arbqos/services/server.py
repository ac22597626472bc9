"""`arbqos orchestrator`: check tokens and bind address, open the state, serve with uvicorn."""

from __future__ import annotations

import contextlib
import logging
import socket
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path

import uvicorn
from prometheus_client import CollectorRegistry

from arbqos.clock import SystemClock
from arbqos.config import ConfigManager
from arbqos.config.delivery import delivery_warnings, notify_urls_source
from arbqos.daemon import Daemon, ListenFailed, StartupRefused, http_url, loopback_refusal
from arbqos.daemon import listen_socket as listen_socket
from arbqos.errors import ExitCode
from arbqos.notify import Channel, load_channels
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
from arbqos.vocab import Service

logger = logging.getLogger(__name__)

TICK_S = 1.0
"""How often the dead man's switch and auto-resume are checked."""
LISTEN_BACKLOG = 2048
"""Kernel accept queue of the control API's listening socket."""


def check_tokens(tokens: Tokens, host: str) -> str | None:
    """Return why the service must not start with these tokens on `host`, or None.

    The admin token is always required: without it nobody could ever resume. Off loopback
    both tokens are required, so no caller reaches the API with a shared all-powerful token;
    that is the API's allowance under the loopback rule every listener follows.
    """
    if tokens.admin is None:
        return (
            "no admin token: set ARBQOS_ADMIN_TOKEN or ARBQOS_ADMIN_TOKEN_FILE "
            "(without it nobody could resume trading)"
        )
    return loopback_refusal(
        host,
        allowed=tokens.pause is not None,
        refusal=f"refusing to bind {host} (not loopback) without a pause token",
        fix="set ARBQOS_PAUSE_TOKEN or ARBQOS_PAUSE_TOKEN_FILE",
    )


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
    daemon = Daemon(Service.ORCHESTRATOR, manager, registry=registry, env=env)
    return daemon.run(lambda: _serve(daemon, host=host, port=port, state_dir=state_dir))


async def _serve(
    daemon: Daemon, *, host: str | None, port: int | None, state_dir: Path | None
) -> int:
    orch = daemon.config.orchestrator
    bind_host = host or orch.host
    bind_port = port if port is not None else orch.port
    directory = state_dir or Path(orch.state_dir)
    tokens = load_tokens(daemon.env)
    problem = check_tokens(tokens, bind_host)
    if problem:
        raise StartupRefused(problem)
    if tokens.pause is None:
        logger.warning("no pause token: only the admin token can pause (set ARBQOS_PAUSE_TOKEN)")
    for scope in tokens.short():
        logger.warning("the %s token is short; use 32 random hex characters or more", scope)
    sock = daemon.listen(bind_host, bind_port, port_setting="--port")
    with contextlib.closing(sock), _control_service(daemon, directory) as service:
        app = create_app(
            service,
            tokens,
            registry=daemon.registry,
            max_body_bytes=orch.max_body_bytes,
            body_timeout_s=orch.body_timeout_s,
            background_interval_s=TICK_S,
        )
        soft, _hard = raise_fd_limit()
        guard = ConnectionGuard(connection_cap(orch.max_connections, soft), orch.header_timeout_s)
        server = _Server(
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
        with daemon.signals(stop=server.stop):  # before the start line: a signal is never lost
            listening = sock.getsockname()
            daemon.started(
                metrics_url=http_url(bind_host, listening[1], "/metrics"),
                host=bind_host,
                port=listening[1],
                state_dir=str(directory),
                state=service.control.state.value,
                deadman_window_s=service.heartbeat_monitor.window_s,
            )
            await server.serve(sockets=[sock])
        if not server.started:
            raise ListenFailed("the control API did not start; the log above says why")
    return ExitCode.OK


def _channels(daemon: Daemon) -> tuple[Channel, ...]:
    """The notification channels (exit 2 on a bad URLs file); warn about what reaches nobody."""
    for warning in delivery_warnings(daemon.config, daemon.env):
        logger.warning("notifications: %s", warning)
    source = notify_urls_source(daemon.config, daemon.env)
    if source.path is None or not source.path.exists():
        return ()
    loaded = load_channels(source.path)
    for warning in loaded.warnings:
        logger.warning("notifications: %s", warning)
    logger.info(
        "notification channels loaded",
        extra={"channels": [c.label for c in loaded.channels], "from": source.origin},
    )
    return loaded.channels


def _ping_url(path: str | None) -> str | None:
    """Read the dead man's switch URL from its file (a secret: never logged)."""
    if not path:
        return None
    try:
        url = Path(path).read_text(encoding="utf-8").strip()
    except OSError as err:
        raise StartupRefused(
            f"orchestrator.heartbeat_ping_url_file {path}: cannot read it "
            f"({err.strerror or err}); fix the path or unset the key"
        ) from err
    if not url.startswith(("http://", "https://")):
        raise StartupRefused(
            f"orchestrator.heartbeat_ping_url_file {path}: expected one http(s) URL in it"
        )
    return url


@contextlib.contextmanager
def _control_service(daemon: Daemon, directory: Path) -> Iterator[ControlService]:
    """Open the pause state (exit 2 when the directory is unusable); close it on the way out."""
    orch = daemon.config.orchestrator
    channels = _channels(daemon)
    ping_url = _ping_url(orch.heartbeat_ping_url_file)
    try:
        service = ControlService.build(
            daemon.config,
            state_dir=directory,
            clock=SystemClock(),
            registry=daemon.registry,
            config_hash=daemon.manager.hash,
            config_sources=daemon.manager.loaded.source_kinds,
            alert_log_path=Path(orch.alert_events_log),
            channels=channels,
            ping_url=ping_url,
        )
    except (OSError, sqlite3.Error) as err:
        raise StartupRefused(
            f"--state-dir {directory}: cannot open the pause state ({err})"
        ) from err
    if not service.heartbeat_monitor.enabled:
        logger.warning(
            "dead man's switch off: heartbeat.report_to_orchestrator is false, so no report "
            "is expected; set it true to pause when the heartbeat goes silent"
        )
    try:
        yield service
    finally:
        service.close()


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling, with small accept bursts over a deep queue.

    `Daemon.signals` owns SIGTERM, SIGINT and SIGHUP: uvicorn would re-raise a captured
    SIGTERM after shutting down, so the process would end by the signal (exit 143) before the
    pause state is closed. asyncio accepts up to `backlog` connections per loop turn before any
    of them reaches the connection guard, and uses the same number for `listen()`: a small
    `backlog` keeps the descriptors in use bounded, and listening again once serving keeps a
    deep kernel queue, so a flood of connections waits there instead of in SYN retries.
    """

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start serving, then deepen the kernel accept queue of every listening socket."""
        await super().startup(sockets=sockets)
        for sock in sockets or []:
            sock.listen(LISTEN_BACKLOG)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Install nothing."""
        yield

    def stop(self) -> None:
        """Shut down gracefully; a second request stops without waiting for connections."""
        if self.should_exit:
            self.force_exit = True
        self.should_exit = True
