"""`arbqos demo`: start the stack, show it, run a scenario, stop everything on Ctrl-C or crash."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TextIO

from arbqos.clock import Clock, SystemClock, format_ts
from arbqos.config import LoadedConfig
from arbqos.log import configure_logging
from arbqos.sdk import Route
from arbqos_harness.demo.output import SafeStream, silence_broken_stdout
from arbqos_harness.demo.scenarios import SCENARIOS, ScenarioAborted, run_scenario
from arbqos_harness.demo.stack import DemoStack, StackError, StackOptions
from arbqos_harness.demo.summary import Screen, gather
from arbqos_harness.demo.verdict import ScenarioReport

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2
REFRESH_S = 1.0


class ScenarioThread(threading.Thread):
    """Runs one scenario next to the screen refresh; `report` or `error` when done."""

    def __init__(
        self, stack: DemoStack, name: str, say: Callable[[str], None], stop: threading.Event
    ) -> None:
        super().__init__(name=f"scenario-{name}", daemon=True)
        self._stack = stack
        self._scenario = SCENARIOS[name]
        self._say = say
        self._stop_event = stop
        self.report: ScenarioReport | None = None
        self.error: str | None = None

    def run(self) -> None:
        """Run the scenario; never raises."""
        try:
            self.report = run_scenario(
                self._stack, self._scenario, say=self._say, stop=self._stop_event
            )
        except ScenarioAborted as err:
            self.error = str(err)
        except Exception as err:  # reported as the scenario's failure, never lost
            self.error = f"{type(err).__name__}: {err}"


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""Ctrl-C, `kill`, and the terminal closing: each stops everything the demo started."""


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[list[str]]:
    """Set `stop` on SIGINT/SIGTERM/SIGHUP while inside; yields the names of signals received."""
    received: list[str] = []

    def handler(signum: int, _frame: FrameType | None) -> None:
        received.append(signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def banner(stack: DemoStack, scenario: str | None) -> list[str]:
    """What to open and how to drive the stack, printed once at start."""
    hash_ = stack.loaded.hash[:12] if stack.loaded else "?"
    lines = [f"arbqos demo running: config {hash_}, scenario {scenario or 'none'}. Open:"]
    width = max(len(name) for name, _ in stack.urls())
    lines += [f"  {name:<{width}}  {url}" for name, url in stack.urls()]
    resume_url = stack.orchestrator.url(Route.RESUME)
    lines += [
        "Drive it:",
        f'  resume  curl -X POST -H "Authorization: Bearer $(cat {stack.tokens.admin_file})" '
        f"{resume_url}",
        f"  faults  curl -X POST {stack.sim_url('sx')}/sim/knobs -d '{{\"slow_accept\": 4}}'",
        f"          curl -X POST {stack.proxy('sx_rollup').url}/proxy/knobs "
        "-d '{\"error_rate\": 0.02}'   (SX Rollup RPC; also latency_s, stall, down)",
        "  timings " + "; ".join(stack.options.tuning.lines()),
        "  scenarios: " + ", ".join(SCENARIOS),
    ]
    return lines


def run_session(
    loaded: LoadedConfig,
    *,
    config_dir: Path,
    scenario: str | None,
    duration_s: float | None,
    options: StackOptions | None = None,
    out: TextIO | None = None,
    env: Mapping[str, str] | None = None,
    clock: Clock | None = None,
    route_logs: bool = True,
) -> int:
    """Run the demo; 0 when it ran (or the scenario passed), 1 on failure, 2 on bad input.

    With `route_logs` this process's own log records go to `<run dir>/logs/demo.log`, so
    the terminal shows only the summary.
    """
    stop = threading.Event()
    safe = SafeStream(out or sys.stdout, on_broken=stop.set)
    stream = safe.as_textio()
    if scenario is not None and scenario not in SCENARIOS:
        sys.stderr.write(
            f"arbqos demo: --scenario {scenario!r} is unknown; "
            f"choose one of {', '.join(SCENARIOS)}\n"
        )
        return EXIT_BAD_INPUT
    if duration_s is not None and not duration_s > 0:
        sys.stderr.write(
            f"arbqos demo: --duration-s {duration_s}: give a positive number of seconds\n"
        )
        return EXIT_BAD_INPUT
    clock = clock or SystemClock()
    try:
        return _session(
            loaded, config_dir, scenario, duration_s, options, stream, env, clock, route_logs, stop
        )
    finally:
        if safe.broken and out is None:
            silence_broken_stdout()


def _session(
    loaded: LoadedConfig,
    config_dir: Path,
    scenario: str | None,
    duration_s: float | None,
    options: StackOptions | None,
    stream: TextIO,
    env: Mapping[str, str] | None,
    clock: Clock,
    route_logs: bool,
    stop: threading.Event,
) -> int:
    """Start the stack and supervise it; every path out stops what was started."""
    with stop_on_signals(stop) as received:
        stream.write(f"arbqos demo: base config {loaded.hash[:12]} from {config_dir}\n")
        environ = os.environ if env is None else env
        stack = DemoStack(loaded.config, options, out=stream, env=environ, clock=clock)
        with (stack.run.logs_dir / "demo.log").open("a", encoding="utf-8") as log:
            if route_logs:
                configure_logging(stream=log)
            try:
                stack.start(cancel=stop)
            except (StackError, RuntimeError, OSError, TimeoutError) as err:
                stream.write(f"arbqos demo: the stack did not start: {err}\n")
                return EXIT_FAILURE
            return supervise(
                stack,
                scenario=scenario,
                duration_s=duration_s,
                stop=stop,
                received=received,
                out=stream,
                clock=clock,
            )


def supervise(
    stack: DemoStack,
    *,
    scenario: str | None,
    duration_s: float | None,
    stop: threading.Event,
    received: list[str],
    out: TextIO,
    clock: Clock,
) -> int:
    """Show the running stack until stop, duration, scenario end or a crash; then stop it all.

    Returns 1 when a child crashed or the scenario failed, else 0.
    """
    out.write("\n".join(banner(stack, scenario)) + "\n\n")
    out.flush()
    screen = Screen(out, clock, tty=out.isatty())
    worker = ScenarioThread(stack, scenario, screen.say, stop) if scenario else None
    if worker is not None:
        worker.start()
    started = clock.monotonic()
    code = EXIT_OK
    try:
        while not stop.is_set():
            crashes = stack.crashed()
            if crashes:
                screen.release()
                for crash in crashes:
                    out.write(crash.report() + "\n")
                out.write("arbqos demo: a process of the stack crashed; stopping everything\n")
                code = EXIT_FAILURE
                break
            elapsed = clock.monotonic() - started
            header = (
                f"arbqos demo  {format_ts(clock.now_utc())}  up {elapsed:.0f}s  "
                f"scenario {scenario or 'none'}"
            )
            screen.draw(gather(stack, clock.now_utc()), stack.config, header)
            if worker is not None and not worker.is_alive():
                break
            if duration_s is not None and elapsed >= duration_s:
                if worker is not None:
                    screen.say(f"--duration-s {duration_s:g} reached before {scenario} finished")
                    code = EXIT_FAILURE
                break
            stop.wait(REFRESH_S)
    finally:
        stop.set()
        if worker is not None:
            worker.join(timeout=10)
        begin = time.monotonic()
        leftovers = stack.stop()  # first: nothing written to the terminal can prevent it
        screen.release()
        count = sum(len(p) for p in stack.children.pids_seen.values()) + len(stack.anvil_pids())
        if leftovers:
            out.write(
                f"{len(leftovers)} of {count} processes did not stop when asked; "
                f"killed PIDs {leftovers}\n"
            )
        else:
            out.write(
                f"stopped {count} processes in {time.monotonic() - begin:.1f} s; "
                "none left running\n"
            )
    if received:
        out.write(f"stopped by {received[0]}\n")
    if worker is not None:
        if worker.report is not None:
            out.write("\n".join(worker.report.lines()) + "\n")
            if not worker.report.ok:
                code = EXIT_FAILURE
        else:
            out.write(f"scenario {scenario}: FAIL - {worker.error or 'did not finish'}\n")
            code = EXIT_FAILURE
    out.write(f"run directory: {stack.run.root}\n")
    out.flush()
    return code
