"""The life of a long-running command: config, tokens, signals, start/stop lines, exit codes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from prometheus_client import CollectorRegistry

from arbqos import __version__
from arbqos.config.manager import ConfigManager
from arbqos.config.schema import ArbqosConfig
from arbqos.daemon.listen import (
    ListenFailed,
    MetricsServer,
    StartupRefused,
    listen_socket,
    metrics_allowed_off_loopback,
    serve_metrics,
)
from arbqos.errors import ArbqosError, ConfigError, ExitCode
from arbqos.log import configure_logging
from arbqos.tokens import read_pause_token
from arbqos.vocab import Service

logger = logging.getLogger(__name__)

ServiceMain = Callable[..., int]
"""`run_x(manager, *, registry, env, **flags) -> exit code` of a long-running service."""
StopFields = Callable[[], Mapping[str, object]]
"""What a service adds to its stop line (`last_tick`, `last_poll`), read when it stops."""
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def launch(
    service: Service,
    run: ServiceMain,
    *,
    config_dir: Path,
    overrides: Sequence[str],
    env: Mapping[str, str],
    **flags: Any,
) -> int:
    """Configure logging once, load the config (exit 2 with every error), run the service."""
    configure_logging()
    registry = CollectorRegistry()
    try:
        manager = ConfigManager.load(
            config_dir, env=env, overrides=overrides, service=service, registry=registry
        )
    except ConfigError as err:
        sys.stderr.write(f"{err}\n")
        return ExitCode.BAD_INPUT
    return run(manager, registry=registry, env=env, **flags)


class Daemon:
    """One long-running command: its config, registry and environment, how it starts and stops.

    Every service runs its body through `run()`, which turns an `ArbqosError` into its exit code
    with one line on stderr (`arbqos heartbeat: <message>`), never a traceback, and logs the
    same start and stop lines for every service:

    >>> daemon = Daemon(Service.HEARTBEAT, manager, registry=registry, env=os.environ)
    >>> daemon.run(lambda: body(daemon))  # body calls daemon.started(...) once it serves
    0
    """

    def __init__(
        self,
        service: Service,
        manager: ConfigManager,
        *,
        registry: CollectorRegistry,
        env: Mapping[str, str],
        stderr: TextIO | None = None,
    ) -> None:
        self.service = service
        self.manager = manager
        self.registry = registry
        self.env = env
        self.label = service.value.replace("_", " ")
        """How log lines name the service: `balance watcher`."""
        self.command = f"arbqos {service.value.replace('_', '-')}"
        """The command that runs it: `arbqos balance-watcher`."""
        self._stderr = stderr
        self._started_at: float | None = None
        self._stop_fields: StopFields | None = None
        self._signal: str | None = None

    @property
    def config(self) -> ArbqosConfig:
        """The current validated configuration."""
        return self.manager.config

    def pause_token(self) -> str | None:
        """The pause token from `ARBQOS_PAUSE_TOKEN(_FILE)`; a `TokenError` ends the run, exit 2."""
        return read_pause_token(self.env)

    def serve_metrics(self, *, host: str, port: int, section: str) -> MetricsServer:
        """Serve the registry's `/metrics` on `section.host`:`section.metrics_port`.

        Loopback only unless `ARBQOS_ALLOW_NON_LOOPBACK_METRICS=1` (exit 2 otherwise); a port
        that cannot be bound ends the run with exit 1.
        """
        allowed = metrics_allowed_off_loopback(self.env)
        try:
            return serve_metrics(
                self.registry,
                host=host,
                port=port,
                allow_non_loopback=allowed,
                setting=f"{section}.host",
            )
        except OSError as err:
            raise ListenFailed(
                f"cannot listen on {host}:{port} for /metrics: {err.strerror or err}; change "
                f"{section}.metrics_port or stop the other process"
            ) from err

    def listen(self, host: str, port: int, *, port_setting: str) -> socket.socket:
        """A listening TCP socket on host:port (exit 2 for a bad port, 1 when it is taken)."""
        if not 1 <= port <= 65535:
            raise StartupRefused(f"{port_setting} {port}: expected 1-65535")
        try:
            return listen_socket(host, port)
        except OSError as err:
            raise ListenFailed(
                f"cannot listen on {host}:{port}: {err.strerror or err}; change "
                f"{port_setting} or stop the other process"
            ) from err

    @contextlib.contextmanager
    def signals(
        self, *, stop: Callable[[], None], reload: Callable[[], None] | None = None
    ) -> Iterator[None]:
        """Within the running loop: SIGTERM/SIGINT call `stop`, SIGHUP calls `reload`.

        Without a `reload` hook SIGHUP is ignored with a warning saying to restart instead
        (never the default action, which would end the process).
        """
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self._on_stop, sig, stop)
        loop.add_signal_handler(signal.SIGHUP, self._on_hangup, reload)
        try:
            yield
        finally:
            for sig in (*STOP_SIGNALS, signal.SIGHUP):
                loop.remove_signal_handler(sig)

    def started(
        self, *, metrics_url: str, stop_fields: StopFields | None = None, **fields: Any
    ) -> None:
        """Log `<service> started` with the fields every service logs, then its own `fields`."""
        self._started_at = time.monotonic()
        self._stop_fields = stop_fields
        common = {
            "service": self.service.value,
            "pid": os.getpid(),
            "version": __version__,
            "config_hash": self.manager.hash,
            "config_sources": self.manager.loaded.source_kinds,
            "metrics_url": metrics_url,
        }
        logger.info("%s started", self.label, extra={**common, **fields})

    def run(self, main: Callable[[], Awaitable[int]]) -> int:
        """Run `main` in a fresh event loop and return the process exit code.

        An `ArbqosError` exits with its `exit_code` and one line on stderr; an interrupt before
        `signals()` is installed exits 1; any other exception is logged with its traceback and
        exits 1.
        """
        try:
            code = int(asyncio.run(_awaited(main)))
        except ArbqosError as err:
            code = self._fail(str(err), err.exit_code)
        except KeyboardInterrupt:  # SIGINT while no stop handler was installed (start-up, --once)
            code = self._fail("interrupted by SIGINT", ExitCode.FAILURE)
        except Exception as err:
            message = f"unexpected {err.__class__.__name__}: {err}"
            code = self._fail(message, ExitCode.FAILURE, traceback=True)
        if self._started_at is not None:
            self._log_stop(code)
        return code

    def _fail(self, message: str, code: ExitCode, *, traceback: bool = False) -> int:
        what = "failed" if self._started_at is not None else "not started"
        logger.error(
            "%s %s: %s",
            self.label,
            what,
            message,
            exc_info=traceback,
            extra={"service": self.service.value, "exit_code": int(code)},
        )
        (self._stderr or sys.stderr).write(f"{self.command}: {message}\n")
        return int(code)

    def _log_stop(self, code: int) -> None:
        started_at = self._started_at or time.monotonic()
        fields = {
            "service": self.service.value,
            "pid": os.getpid(),
            "config_hash": self.manager.hash,
            "exit_code": code,
            "signal": self._signal,
            "uptime_s": round(time.monotonic() - started_at, 3),
        }
        extra = dict(self._stop_fields()) if self._stop_fields is not None else {}
        logger.info("%s stopped", self.label, extra={**fields, **extra})

    def _on_stop(self, sig: signal.Signals, stop: Callable[[], None]) -> None:
        first = self._signal is None
        self._signal = sig.name
        if first:
            logger.info(
                "%s stopping on %s",
                self.label,
                sig.name,
                extra={"service": self.service.value, "signal": sig.name},
            )
        stop()

    def _on_hangup(self, reload: Callable[[], None] | None) -> None:
        if reload is None:
            logger.warning(
                "SIGHUP ignored: restart the %s to apply a new configuration",
                self.label,
                extra={"service": self.service.value},
            )
            return
        logger.info("SIGHUP: reloading the configuration", extra={"service": self.service.value})
        reload()


async def _awaited(main: Callable[[], Awaitable[int]]) -> int:
    return await main()
