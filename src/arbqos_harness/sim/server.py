"""Serve a simulator app with uvicorn: in a background thread (tests, demo) or as a process."""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import uvicorn
from fastapi import FastAPI

from arbqos.clock import SystemClock
from arbqos.log import configure_logging
from arbqos.net import LOOPBACK
from arbqos_harness.process import free_port
from arbqos_harness.sim.decisionlog import DECISION_LOG_RETENTION_S, DecisionLog
from arbqos_harness.sim.history import HISTORY_S
from arbqos_harness.sim.knobs import KnobBox, KnobError, SimKnobs


class SimServer:
    """A uvicorn server running `app` in a daemon thread; `stop()` shuts it down.

    >>> with serve(SxSimulator(seed=1).app) as server:
    ...     httpx.get(server.url + "/metadata")
    """

    def __init__(self, app: FastAPI, host: str = LOOPBACK, port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._app = app
        config = uvicorn.Config(
            app,
            host=self.host,
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, name=f"sim-{self.port}", daemon=True
        )

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:8801`."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 10.0) -> SimServer:
        """Start the thread and wait until the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"simulator on {self.url} exited at start (port in use?)")
            if time.monotonic() > deadline:
                raise TimeoutError(f"simulator on {self.url} not ready after {timeout_s} s")
            time.sleep(0.01)
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """End pending simulated delays (503), ask uvicorn to exit and wait for the thread."""
        simulator = getattr(self._app.state, "simulator", None)
        if simulator is not None:
            simulator.core.closing = True
        self._server.should_exit = True
        self._thread.join(timeout_s)

    def __enter__(self) -> SimServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(app: FastAPI, host: str = LOOPBACK, port: int | None = None) -> SimServer:
    """Start `app` on host:port (a free port when None) in a background thread; return it."""
    return SimServer(app, host, port).start()


AppBuilder = Callable[[argparse.Namespace, KnobBox, DecisionLog | None], FastAPI]


def run_cli(parser: argparse.ArgumentParser, argv: list[str] | None, build: AppBuilder) -> int:
    """Parse the common simulator flags, build the app and serve it in the foreground."""
    parser.add_argument("--host", default=LOOPBACK, help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1, help="seed of every simulated decision")
    parser.add_argument("--event-log", type=Path, default=None, help="JSON-lines decision log")
    parser.add_argument(
        "--log-retention-s",
        type=float,
        default=DECISION_LOG_RETENTION_S,
        help="keep at least this many seconds of the decision log on disk (two segments)",
    )
    parser.add_argument(
        "--history-s",
        type=float,
        default=HISTORY_S,
        help="keep finished trades/orders and fill salts in memory this long",
    )
    parser.add_argument("--config-hash", default="sim", help="config hash stamped on log lines")
    parser.add_argument(
        "--knobs", default="{}", help="initial knobs as JSON, e.g. '{\"time_scale\": 0.1}'"
    )
    args = parser.parse_args(argv)
    for flag in ("log_retention_s", "history_s"):
        if not getattr(args, flag) > 0:
            parser.error(f"--{flag.replace('_', '-')} {getattr(args, flag)}: give seconds > 0")
    try:
        changes = json.loads(args.knobs)
        if not isinstance(changes, dict):
            raise KnobError("--knobs must be a JSON object")
        knobs = KnobBox(SimKnobs().with_changes(changes))
    except (ValueError, KnobError) as err:
        parser.error(f"--knobs {args.knobs!r}: {err}")
    configure_logging()
    log = None
    if args.event_log is not None:
        log = DecisionLog(
            args.event_log,
            SystemClock(),
            config_hash=args.config_hash,
            retention_s=args.log_retention_s,
        )
    app = build(args, knobs, log)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    return 0
