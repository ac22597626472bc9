"""The service scaffold in process: exit codes, stderr lines, start/stop lines, signals."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from arbqos.config.manager import ConfigManager
from arbqos.daemon import Daemon, ListenFailed, StartupRefused
from arbqos.errors import ExitCode, TokenError
from arbqos.vocab import Service

START_FIELDS = {"service", "pid", "version", "config_hash", "config_sources", "metrics_url"}
STOP_FIELDS = {"service", "pid", "config_hash", "exit_code", "signal", "uptime_s"}


def _daemon(
    write_config: Callable[..., Path],
    service: Service = Service.HEARTBEAT,
    env: dict[str, str] | None = None,
) -> tuple[Daemon, io.StringIO]:
    registry = CollectorRegistry()
    manager = ConfigManager.load(write_config(), env={}, service=service, registry=registry)
    stderr = io.StringIO()
    return Daemon(service, manager, registry=registry, env=env or {}, stderr=stderr), stderr


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    standard = set(vars(logging.makeLogRecord({})))
    return {k: v for k, v in vars(record).items() if k not in standard and k != "message"}


def _records(caplog: pytest.LogCaptureFixture, message: str) -> list[dict[str, Any]]:
    return [_fields(r) for r in caplog.records if r.getMessage() == message]


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (TokenError("ARBQOS_PAUSE_TOKEN_FILE=/x: the token file is empty"), ExitCode.BAD_INPUT),
        (StartupRefused("risk.bank_source = 'x' cannot be read"), ExitCode.BAD_INPUT),
        (ListenFailed("cannot listen on 127.0.0.1:9102"), ExitCode.FAILURE),
    ],
)
def test_an_arbqos_error_exits_with_its_code_and_one_stderr_line(
    write_config: Callable[..., Path],
    caplog: pytest.LogCaptureFixture,
    error: Exception,
    code: ExitCode,
) -> None:
    daemon, stderr = _daemon(write_config, Service.BALANCE_WATCHER)

    async def main() -> int:
        raise error

    assert daemon.run(main) == code
    assert stderr.getvalue() == f"arbqos balance-watcher: {error}\n"
    (refused,) = _records(caplog, f"balance watcher not started: {error}")
    assert refused == {"service": "balance_watcher", "exit_code": int(code)}
    assert not _records(caplog, "balance watcher stopped")  # it never started


def test_an_unexpected_error_is_logged_with_its_traceback_and_exits_1(
    write_config: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    daemon, stderr = _daemon(write_config)

    async def main() -> int:
        daemon.started(metrics_url="http://127.0.0.1:1/metrics")
        raise RuntimeError("boom")

    assert daemon.run(main) == ExitCode.FAILURE
    assert stderr.getvalue() == "arbqos heartbeat: unexpected RuntimeError: boom\n"
    message = "heartbeat failed: unexpected RuntimeError: boom"
    (failed,) = [r for r in caplog.records if r.getMessage() == message]
    assert failed.exc_info is not None
    (stopped,) = _records(caplog, "heartbeat stopped")
    assert stopped["exit_code"] == 1


@pytest.mark.parametrize(
    "service", [Service.ORCHESTRATOR, Service.HEARTBEAT, Service.BALANCE_WATCHER]
)
def test_every_service_logs_the_same_start_and_stop_fields(
    write_config: Callable[..., Path], caplog: pytest.LogCaptureFixture, service: Service
) -> None:
    caplog.set_level(logging.INFO)
    daemon, stderr = _daemon(write_config, service)

    async def main() -> int:
        daemon.started(
            metrics_url="http://127.0.0.1:9/metrics", stop_fields=lambda: {"last": 3}, own=1
        )
        return 0

    assert daemon.run(main) == 0
    label = service.value.replace("_", " ")
    (started,) = _records(caplog, f"{label} started")
    (stopped,) = _records(caplog, f"{label} stopped")
    assert set(started) == START_FIELDS | {"own"}
    assert set(stopped) == STOP_FIELDS | {"last"}
    assert started["service"] == stopped["service"] == service.value
    assert started["config_hash"] == stopped["config_hash"] == daemon.manager.hash
    assert started["pid"] == stopped["pid"] == os.getpid()
    assert (stopped["exit_code"], stopped["signal"], stopped["last"]) == (0, None, 3)
    assert stderr.getvalue() == ""


async def _signalled(daemon: Daemon, sig: signal.Signals, reload: bool) -> list[str]:
    """Send `sig` to this process inside `daemon.signals`; return which hooks ran."""
    calls: list[str] = []
    done = asyncio.Event()

    def hook(name: str) -> Callable[[], None]:
        def call() -> None:
            calls.append(name)
            done.set()

        return call

    with daemon.signals(stop=hook("stop"), reload=hook("reload") if reload else None):
        os.kill(os.getpid(), sig)
        if sig == signal.SIGHUP and not reload:
            await asyncio.sleep(0.2)  # nothing to wait for but the warning
        else:
            await asyncio.wait_for(done.wait(), timeout=5)
    return calls


async def test_sigterm_and_sigint_stop(write_config: Callable[..., Path]) -> None:
    daemon, _ = _daemon(write_config)
    assert await _signalled(daemon, signal.SIGTERM, reload=True) == ["stop"]
    assert await _signalled(daemon, signal.SIGINT, reload=True) == ["stop"]


async def test_sighup_reloads_or_warns(
    write_config: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    daemon, _ = _daemon(write_config, Service.BALANCE_WATCHER)
    assert await _signalled(daemon, signal.SIGHUP, reload=True) == ["reload"]
    assert await _signalled(daemon, signal.SIGHUP, reload=False) == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["SIGHUP ignored: restart the balance watcher to apply a new configuration"]


def test_a_taken_metrics_port_is_a_runtime_failure(write_config: Callable[..., Path]) -> None:
    daemon, _ = _daemon(write_config)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ListenFailed) as failed:
            daemon.serve_metrics(host="127.0.0.1", port=port, section="heartbeat")
    assert failed.value.exit_code == ExitCode.FAILURE
    assert str(failed.value) == (
        f"cannot listen on 127.0.0.1:{port} for /metrics: Address already in use; change "
        "heartbeat.metrics_port or stop the other process"
    )


def test_a_bad_allowance_stops_the_metrics_server_start(write_config: Callable[..., Path]) -> None:
    env = {"ARBQOS_ALLOW_NON_LOOPBACK_METRICS": "true"}
    daemon, _ = _daemon(write_config, env=env)
    with pytest.raises(StartupRefused, match="ARBQOS_ALLOW_NON_LOOPBACK_METRICS='true'"):
        daemon.serve_metrics(host="127.0.0.1", port=0, section="heartbeat")


@pytest.mark.parametrize("port", [0, 65536])
def test_an_out_of_range_port_is_bad_input(write_config: Callable[..., Path], port: int) -> None:
    daemon, _ = _daemon(write_config, Service.ORCHESTRATOR)
    with pytest.raises(StartupRefused, match=rf"^--port {port}: expected 1-65535$"):
        daemon.listen("127.0.0.1", port, port_setting="--port")
