"""The embedded stack: anvil chains, venue simulators, services, Prometheus, Alertmanager, engine.

`DemoStack.start()` brings everything up in dependency order on free loopback ports under a
fresh `.run/demo-<UTC timestamp>/`, printing one progress line per step; `stop()` stops
every child by PID and checks that none is left.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx

from arbqos.clock import Clock, SystemClock
from arbqos.config import ArbqosConfig, LoadedConfig, load_config
from arbqos.generators import render_all
from arbqos.sdk import JournalKind, OrchestratorClient, Route
from arbqos.vocab import Venue
from arbqos.wire import JournalEntryOut, StatusResponse
from arbqos_harness.chain.localchain import LocalChains
from arbqos_harness.chain.rpcproxy import RpcProxy
from arbqos_harness.demo.children import Children, Crash, child_env, kill_leftovers
from arbqos_harness.demo.promstack import PromClient, PrometheusStack
from arbqos_harness.demo.runconfig import DemoTuning, LocalEndpoints, demo_config, write_config_dir
from arbqos_harness.demo.rundir import RUNS_DIR, Ports, RunDir, Tokens
from arbqos_harness.demo.traffic import ChainTraffic
from arbqos_harness.process import ManagedProcess
from arbqos_harness.sim.azuro import SUBGRAPH_PATH
from arbqos_harness.sim.knobs import SimKnobs
from arbqos_harness.sink import NotificationSink, SinkRecord

BASE_KNOBS: Mapping[str, Any] = {
    "time_scale": 0.1,
    "live_delay_s": [3.0, 8.0],
    "reject_prob": 0.005,
    "partial_prob": 0.01,
}
"""Simulator knobs of a healthy run. SX Bet's betting delays run 10x faster: pregame 0.5 s
becomes 0.05 s, live 3-8 s (NFL 3 s up to basketball and football 8 s; soccer's 10 s left
out) becomes 0.3-0.8 s, well under the demo's 1200 ms p95 limit. Rejections and partial
fills are rare enough that a window of 20 legs does not dip below the fill ratio floor by
chance; with the simulators' defaults (3 % and 5 %) it does now and then, and the alert rule,
which counts requested stake at submission, dips further while legs are in flight."""


class StackError(RuntimeError):
    """A piece of the stack did not start; the message names it and shows its output."""


@dataclass(frozen=True)
class StackOptions:
    """How the demo stack runs."""

    tuning: DemoTuning = field(default_factory=DemoTuning)
    engine_rate: float = 2.0
    """Arb opportunities per second (each sends an SX leg and an Azuro leg)."""
    seed: int = 7
    mint_usd: float = 500.0
    """Stablecoins minted to each venue wallet at start."""
    knobs: Mapping[str, Any] = field(default_factory=lambda: dict(BASE_KNOBS))
    runs_dir: Path = Path(RUNS_DIR)
    prefix: str = "demo"
    ready_timeout_s: float = 40.0


class Progress:
    """Prints `starting x... ok (1.9 s)` lines."""

    def __init__(self, out: TextIO, clock: Clock) -> None:
        self._out = out
        self._clock = clock

    @contextlib.contextmanager
    def step(self, what: str) -> Iterator[None]:
        """Print `what...`, run the block, then `ok (t s)` or `FAILED`."""
        self._out.write(f"{what}... ")
        self._out.flush()
        start = self._clock.monotonic()
        try:
            yield
        except BaseException:
            self._out.write(f"FAILED ({self._clock.monotonic() - start:.1f} s)\n")
            self._out.flush()
            raise
        self._out.write(f"ok ({self._clock.monotonic() - start:.1f} s)\n")
        self._out.flush()


class DemoStack:
    """Every piece of the local stack, started and stopped as one.

    >>> stack = DemoStack(loaded.config, StackOptions(), out=sys.stdout).start()
    >>> stack.status().state
    'running'
    >>> stack.stop()
    """

    def __init__(
        self,
        base: ArbqosConfig,
        options: StackOptions | None = None,
        *,
        out: TextIO | None = None,
        env: Mapping[str, str] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.base = base
        self.options = options or StackOptions()
        self.out = out or sys.stdout
        self.clock: Clock = clock or SystemClock()
        self._env = dict(env or {})
        self.started_at = self.clock.now_utc()
        self.run = RunDir.create(
            self.options.runs_dir.resolve(), self.started_at, self.options.prefix
        )
        self.ports = Ports.allocate()
        self.tokens: Tokens = self.run.write_tokens()
        self.children = Children(self.run.logs_dir, child_env(self._env, {}), cwd=self.run.root)
        self.chains: LocalChains | None = None
        self.traffic: ChainTraffic | None = None
        self.config: ArbqosConfig = base
        self.loaded: LoadedConfig | None = None
        self.stopped_chains: set[str] = set()
        self._prom: PrometheusStack | None = None
        self._anvil_pids: set[int] = set()
        self._http = httpx.Client(timeout=3.0)
        self._orchestrator: OrchestratorClient | None = None
        self.proxies: dict[str, RpcProxy] = {}
        """chain -> the fault proxy every arbqos service reaches that chain through."""
        self.sink: NotificationSink | None = None
        """The loopback notification sink (the demo's only channel)."""

    # --- lifecycle -------------------------------------------------------------------

    def start(self, cancel: threading.Event | None = None) -> DemoStack:
        """Start every piece in dependency order; on failure stop what started and raise.

        Setting `cancel` (e.g. from a SIGINT handler) stops the start after the current step
        with StackError.
        """
        progress = Progress(self.out, self.clock)
        self.out.write(f"run directory {self.run.root}\n")
        steps: list[tuple[str, Callable[[], None]]] = [
            (
                "starting anvil chains (SX Rollup 4162, Arbitrum 42161, Polygon 137)",
                self._start_chains,
            ),
            (
                "starting RPC fault proxies and the notification sink",
                self._start_proxies_and_sink,
            ),
            ("writing config, tokens and rendered rules/dashboard", self._write_config),
            (
                "starting venue simulators and orchestrator",
                lambda: self._start_python_stage(("sim-sx", "sim-azuro", "orchestrator")),
            ),
            (
                "starting heartbeat and balance watcher",
                lambda: self._start_python_stage(("heartbeat", "balance-watcher")),
            ),
            ("starting Prometheus and Alertmanager", self._start_prometheus),
            (
                "starting arb engine (instrumented, QoS guard)",
                lambda: self._start_python_stage(("engine",)),
            ),
        ]
        try:
            for what, action in steps:
                if cancel is not None and cancel.is_set():
                    raise StackError("start cancelled (signal received)")
                with progress.step(what):
                    action()
        except BaseException:
            self.stop()
            raise
        self._write_pids()
        return self

    def stop(self) -> list[int]:
        """Stop every child (engine first, chains last); return PIDs that had to be killed."""
        self.children.stop_all()
        if self.traffic is not None:
            self.traffic.stop()
            self.traffic = None
        for proxy in self.proxies.values():
            proxy.stop()
        if self.sink is not None:
            self.sink.stop()
        if self.chains is not None:
            self.chains.stop()
        self._http.close()
        if self._orchestrator is not None:
            self._orchestrator.close()
        pids = [pid for pids in self.children.pids_seen.values() for pid in pids]
        return kill_leftovers(pids + sorted(self._anvil_pids))

    def anvil_pids(self) -> list[int]:
        """Every PID the anvil nodes had (restarts included)."""
        return sorted(self._anvil_pids)

    def crashed(self) -> list[Crash]:
        """Children (and anvil nodes) that died without a planned stop."""
        crashes = self.children.crashed()
        if self.chains is None:
            return crashes
        for chain in self.chains.chains:
            if chain in self.stopped_chains:
                continue
            try:
                self.chains.pid(chain)
            except RuntimeError:
                log = self.run.chains_dir / f"anvil-{chain}.log"
                crashes.append(Crash(f"anvil-{chain}", None, _tail(log), log))
        return crashes

    # --- the running stack -----------------------------------------------------------

    @property
    def prom(self) -> PromClient:
        """Client of the run's Prometheus."""
        if self._prom is None:
            raise RuntimeError("Prometheus is not running")
        return PromClient(self._prom.prometheus_url, timeout_s=3.0)

    @property
    def local_chains(self) -> LocalChains:
        """The anvil chains (harness: mint, drain, stall, stop a node)."""
        return self._chains()

    @property
    def orchestrator_url(self) -> str:
        """Base URL of the orchestrator."""
        return self.config.endpoints.orchestrator_url

    @property
    def orchestrator(self) -> OrchestratorClient:
        """The SDK client of the run's orchestrator, with the admin token (no status cache)."""
        url = self.orchestrator_url
        if self._orchestrator is None or self._orchestrator.base_url != url.rstrip("/"):
            if self._orchestrator is not None:
                self._orchestrator.close()
            self._orchestrator = OrchestratorClient(
                url, self.tokens.admin, timeout_s=3.0, cache_s=0
            )
        return self._orchestrator

    def sim_url(self, venue: str) -> str:
        """Base URL of a venue simulator."""
        return f"http://127.0.0.1:{self._sim_port(venue)}"

    def urls(self) -> list[tuple[str, str]]:
        """What to open, in display order."""
        orch = self.orchestrator_url
        port = self.ports
        return [
            ("Prometheus", f"http://127.0.0.1:{port.prometheus}"),
            ("Prometheus alerts", f"http://127.0.0.1:{port.prometheus}/alerts"),
            ("Alertmanager", f"http://127.0.0.1:{port.alertmanager}"),
            ("orchestrator API docs", f"{orch}/docs"),
            ("orchestrator status", self.orchestrator.url(Route.STATUS)),
            ("orchestrator /metrics", f"{orch}/metrics"),
            ("engine /metrics", f"http://{self.config.alerting.engine_target}/metrics"),
            ("heartbeat /metrics", f"http://127.0.0.1:{port.heartbeat}/metrics"),
            ("balance watcher /metrics", f"http://127.0.0.1:{port.balance}/metrics"),
            ("SX Bet simulator", f"{self.sim_url('sx')}/docs"),
            ("Azuro simulator", f"{self.sim_url('azuro')}/docs"),
            ("notifications (sink log)", str(self.run.notifications_log)),
            ("run directory", str(self.run.root)),
            ("Grafana dashboard to import", str(self.run.dashboard)),
        ]

    def status(self) -> StatusResponse:
        """The orchestrator's status (raises `OrchestratorError` when it does not answer)."""
        return self.orchestrator.status()

    def journal(self, limit: int = 200, kind: JournalKind | None = None) -> list[JournalEntryOut]:
        """The orchestrator's journal, newest first."""
        return self.orchestrator.journal(limit, kind)

    def resume(self, *, force: bool = False, detail: str = "demo") -> bool:
        """Resume with the admin token; `OrchestratorError` (409) while automatic reasons are
        active."""
        return self.orchestrator.resume(force=force, detail=detail)

    def set_knobs(self, venue: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change a simulator's knobs at runtime (`POST /sim/knobs`)."""
        response = self._http.post(f"{self.sim_url(venue)}/sim/knobs", json=dict(changes))
        if response.status_code != 200:
            raise StackError(f"{venue} simulator refused knobs {dict(changes)}: {response.text}")
        knobs: dict[str, Any] = response.json()
        return knobs

    def reset_knobs(self) -> None:
        """Put every knob of both simulators back to the healthy baseline."""
        baseline = SimKnobs().with_changes(self.options.knobs).to_json()
        for venue in Venue:
            self.set_knobs(venue, baseline)

    def engine_status(self) -> dict[str, Any] | None:
        """The engine's latest status file (legs, guard windows), or None before the first."""
        try:
            body: dict[str, Any] = json.loads(self.run.engine_status.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return body

    def stop_chain(self, chain: str) -> None:
        """Take a chain's RPC down on purpose (not reported as a crash)."""
        self.stopped_chains.add(chain)
        self._chains().stop_node(chain)

    def start_chain(self, chain: str) -> None:
        """Bring a stopped chain back with its state."""
        self._chains().start_node(chain)
        self.stopped_chains.discard(chain)
        self._note_anvil_pids()

    def proxy(self, chain: str) -> RpcProxy:
        """The fault proxy in front of `chain` (knobs: error_rate, latency_s, stall, down)."""
        try:
            return self.proxies[chain]
        except KeyError:
            known = sorted(self.proxies)
            raise StackError(f"no RPC proxy for {chain!r}; chains: {known}") from None

    def notifications(self, after: float | None = None) -> list[SinkRecord]:
        """Notifications the sink received (after unix time `after`), oldest first."""
        if self.sink is None:
            return []
        records = self.sink.records
        if after is None:
            return records
        return [r for r in records if r.received_at.timestamp() >= after]

    def stop_child(self, name: str) -> None:
        """Stop a child on purpose (a fault scenario, e.g. Prometheus); not a crash."""
        self.children.stop(name)

    def start_child_again(self, name: str) -> None:
        """Start a child stopped by `stop_child` with the same command, and wait until ready."""
        proc = self.children.start_again(name)
        ready = {
            "prometheus": f"http://{self.config.alerting.prometheus_listen}/-/ready",
            "alertmanager": f"http://{self.config.alerting.alertmanager_listen}/-/ready",
        }
        url = ready.get(name) or self._argv(name)[2]
        wait_ready(proc, url, self.options.ready_timeout_s)

    def freeze(self, name: str) -> None:
        """SIGSTOP a child: it keeps its sockets but answers nothing (a wedged process)."""
        self.children.freeze(name)

    def thaw(self, name: str) -> None:
        """SIGCONT a child frozen by `freeze`."""
        self.children.thaw(name)

    # --- internals -------------------------------------------------------------------

    def _chains(self) -> LocalChains:
        if self.chains is None:
            raise RuntimeError("the chains are not running")
        return self.chains

    def _note_anvil_pids(self) -> None:
        chains = self._chains()
        for chain in chains.chains:
            with contextlib.suppress(RuntimeError):
                self._anvil_pids.add(chains.pid(chain))

    def _start_chains(self) -> None:
        self.run.chains_dir.mkdir(exist_ok=True)
        chains = LocalChains.start(self.run.chains_dir)
        self.chains = chains
        self._note_anvil_pids()
        for venue, wallet in self.base.risk.wallets.items():
            if wallet.chain not in chains.tokens:
                raise StackError(
                    f"risk.wallets.{venue}.chain is {wallet.chain}; the local stack has test "
                    f"tokens on {sorted(chains.tokens)} only"
                )
            chains.mint(wallet.chain, wallet.address, self.options.mint_usd)
        self.traffic = ChainTraffic(chains, "sx_rollup", seed=self.options.seed)
        self.traffic.start()

    def _start_proxies_and_sink(self) -> None:
        chains = self._chains()
        for index, chain in enumerate(chains.chains):
            proxy = RpcProxy(chains.rpc_url(chain), seed=self.options.seed + index)
            self.proxies[chain] = proxy.start()
        self.sink = NotificationSink(log_path=self.run.notifications_log).start()
        # one channel tagged `demo`: it gets every severity routed to `all` channels
        self.run.write_secret(
            self.run.notify_urls_file.name, f"demo={self.sink.apprise_url('/notify')}\n"
        )

    def _write_config(self) -> None:
        chains = self._chains()
        assert chains.feed is not None
        port = self.ports
        sink_url = self.sink.url if self.sink is not None else None
        local = LocalEndpoints(
            rpc_urls={c: self.proxy(c).url for c in chains.chains},
            token_addresses=dict(chains.tokens),
            feed_address=chains.feed,
            sx_api_url=self.sim_url("sx"),
            azuro_api_url=self.sim_url("azuro"),
            azuro_subgraph_url=self.sim_url("azuro") + SUBGRAPH_PATH,
            orchestrator_port=port.orchestrator,
            heartbeat_port=port.heartbeat,
            balance_port=port.balance,
            engine_port=port.engine,
            prometheus_port=port.prometheus,
            alertmanager_port=port.alertmanager,
            notify_urls_file=str(self.run.notify_urls_file),
            sink_url=sink_url,
        )
        self.config = demo_config(self.base, local, self.run.root, self.options.tuning)
        write_config_dir(self.config, self.run.config_dir)
        self.loaded = load_config(self.run.config_dir, {}, ())
        for relative, text in render_all(self.config).items():
            path = self.run.root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")

    def _argv(self, name: str) -> tuple[list[str], dict[str, str], str]:
        """argv, extra environment and readiness URL of a Python child."""
        py, cfg = sys.executable, str(self.run.config_dir)
        pause_env = {"ARBQOS_PAUSE_TOKEN_FILE": str(self.tokens.pause_file)}
        config_hash = self.loaded.hash if self.loaded else "demo"
        if name.startswith("sim-"):
            venue = name.removeprefix("sim-")
            argv = [py, "-m", f"arbqos_harness.sim.{venue}", "--port", str(self._sim_port(venue))]
            argv += ["--seed", str(self.options.seed), "--event-log", str(self.run.sim_log(venue))]
            argv += ["--config-hash", config_hash, "--knobs", json.dumps(dict(self.options.knobs))]
            if venue == "azuro":
                argv += ["--polygon-rpc", self._chains().rpc_url("polygon")]
            return argv, {}, f"{self.sim_url(venue)}/sim/healthz"
        if name == "orchestrator":
            env = {**pause_env, "ARBQOS_ADMIN_TOKEN_FILE": str(self.tokens.admin_file)}
            return (
                [py, "-m", "arbqos", name, "--config-dir", cfg],
                env,
                f"{self.orchestrator_url}/healthz",
            )
        if name in ("heartbeat", "balance-watcher"):
            port = self.ports.heartbeat if name == "heartbeat" else self.ports.balance
            return (
                [py, "-m", "arbqos", name, "--config-dir", cfg],
                pause_env,
                f"http://127.0.0.1:{port}/metrics",
            )
        if name == "engine":
            argv = [py, "-m", "arbqos_harness.demo.engine_main", "--config-dir", cfg]
            argv += ["--sx-url", self.sim_url("sx"), "--azuro-url", self.sim_url("azuro")]
            argv += ["--status-file", str(self.run.engine_status), "--seed", str(self.options.seed)]
            argv += ["--rate", str(self.options.engine_rate)]
            delay = 2 * self.config.alerting.scrape_interval_s + 0.5
            argv += ["--start-delay-s", f"{delay:g}"]
            return argv, pause_env, f"http://{self.config.alerting.engine_target}/metrics"
        raise ValueError(f"unknown child {name!r}")

    def _sim_port(self, venue: str) -> int:
        return self.ports.sim_sx if venue == "sx" else self.ports.sim_azuro

    def _start_python_stage(self, names: tuple[str, ...]) -> None:
        waits = []
        for name in names:
            argv, env, url = self._argv(name)
            waits.append((self.children.start(name, argv, env), url))
        for proc, url in waits:
            wait_ready(proc, url, self.options.ready_timeout_s)

    def _start_prometheus(self) -> None:
        alerting = self.config.alerting
        prom = PrometheusStack(
            self.run.root,
            alerting.prometheus_listen,
            alerting.alertmanager_listen,
            self.run.logs_dir,
        )
        self._prom = prom
        try:
            prom.start(timeout_s=self.options.ready_timeout_s)
        finally:
            for proc in prom.processes:
                self.children.adopt(proc)

    def _write_pids(self) -> None:
        pids = {name: self.children.get(name).pid for name in self.children.names}
        chains = self._chains()
        pids.update({f"anvil-{c}": chains.pid(c) for c in chains.chains})
        (self.run.root / "pids.json").write_text(json.dumps(pids, indent=2), encoding="utf-8")


def _tail(path: Path, lines: int = 12) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def wait_ready(proc: ManagedProcess, url: str, timeout_s: float) -> None:
    """Wait until `GET url` answers 200; fail at once (with its output) if `proc` exits."""
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    with httpx.Client(timeout=1.0) as http:
        while time.monotonic() < deadline:
            if not proc.alive():
                code = proc.proc.returncode if proc.proc else None
                raise StackError(
                    f"{proc.name} exited (code {code}) before it was ready:\n{proc.tail()}"
                )
            try:
                response = http.get(url)
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}"
            except httpx.HTTPError as err:
                last = f"{type(err).__name__}"
            time.sleep(0.1)
    raise StackError(
        f"{proc.name} not ready at {url} after {timeout_s:.0f} s ({last}):\n{proc.tail()}"
    )
