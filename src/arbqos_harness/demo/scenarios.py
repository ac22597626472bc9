"""Fault scenarios: inject a fault into the warm stack, watch who pauses, judge the outcome.

Each scenario waits until the QoS window holds `min_orders_in_window` legs on both venues
(guard and Prometheus), injects its fault, then polls the orchestrator and Prometheus until
its expectation holds or its time is up. Latencies run from the breach (contract §8): for a
QoS fault the first moment the exact window statistic of the simulators' own decision logs
crosses the threshold (`arbqos_harness.demo.breach`), for an infrastructure fault the injection.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from arbqos.clock import parse_ts
from arbqos.errors import OrchestratorError
from arbqos.vocab import PauseSource, Venue
from arbqos_harness.chain.localchain import DEPLOYER
from arbqos_harness.demo.breach import first_breaches, log_files, read_sim_events
from arbqos_harness.demo.observe import Observer, balance_events
from arbqos_harness.demo.verdict import ScenarioReport, Targets

if TYPE_CHECKING:
    from arbqos_harness.demo.stack import DemoStack

Say = Callable[[str], None]
POLL_S = 0.2
LOW_BALANCE_LEFT_USD = 10.0
"""What the low-balance scenario leaves in the wallet (the floor is 15 USD by default)."""
NO_PAUSE_HOLD_S = 5.0
"""How long the low-balance scenario keeps checking that nothing paused after its alert."""


class ScenarioAborted(RuntimeError):
    """The stack is stopping (Ctrl-C, crash) before the scenario could finish."""


@dataclass(frozen=True)
class Scenario:
    """A fault, how to undo it, and what must happen."""

    name: str
    what: str
    kind: Literal["qos", "infra", "balance"]
    inject: Callable[[DemoStack], None]
    restore: Callable[[DemoStack], None]
    sources: tuple[str, ...] = ()
    """Pause sources that must appear; `guard` must come before `alert` when both are listed."""
    alerts: tuple[str, ...] = ()
    """Prometheus alerts that must fire."""
    no_pause: bool = False
    low_wallet: str | None = None
    timeout_s: float = 75.0


def _knobs(venue: str, changes: dict[str, float]) -> Callable[[DemoStack], None]:
    def inject(stack: DemoStack) -> None:
        stack.set_knobs(venue, changes)

    return inject


def _reset_knobs(stack: DemoStack) -> None:
    stack.reset_knobs()


def _sequencer_down(stack: DemoStack) -> None:
    chains = stack.local_chains
    chains.set_feed(1)
    chains.stall("arbitrum")


def _sequencer_up(stack: DemoStack) -> None:
    chains = stack.local_chains
    chains.resume("arbitrum")
    grace = stack.config.endpoints.sequencer_grace_s
    # The feed reports "up since before the grace period", so the next scenario starts clean.
    chains.set_feed(0, started_at=int(time.time()) - grace - 5)


def _rpc_down(stack: DemoStack) -> None:
    stack.stop_chain("sx_rollup")


def _rpc_up(stack: DemoStack) -> None:
    stack.start_chain("sx_rollup")


def _drain(stack: DemoStack) -> None:
    wallet = stack.config.risk.wallets[Venue.AZURO]
    chains = stack.local_chains
    balance = chains.token_balance(wallet.chain, wallet.address)
    left = Decimal(str(LOW_BALANCE_LEFT_USD))
    chains.transfer_from_wallet(wallet.chain, wallet.address, DEPLOYER, balance - left)


def _refill(stack: DemoStack) -> None:
    wallet = stack.config.risk.wallets[Venue.AZURO]
    stack.local_chains.set_token_balance(wallet.chain, wallet.address, stack.options.mint_usd)


def _kill_heartbeat(stack: DemoStack) -> None:
    stack.children.kill("heartbeat")


def _restart_heartbeat(stack: DemoStack) -> None:
    stack.children.restart("heartbeat")


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "slow-accept",
            "SX Bet accepts 4x slower (live bets 1.2-3.2 s): p95 accept time above the limit",
            "qos",
            _knobs("sx", {"slow_accept": 4.0}),
            _reset_knobs,
            sources=("guard", "alert"),
            alerts=("ArbAcceptTimeP95High",),
        ),
        Scenario(
            "fill-collapse",
            "SX Bet fills collapse: 40 % partial, 50 % rejected: fill ratio below the minimum",
            "qos",
            _knobs("sx", {"partial_prob": 0.4, "reject_prob": 0.5}),
            _reset_knobs,
            sources=("guard", "alert"),
            alerts=("ArbFillRatioLow",),
        ),
        Scenario(
            "sequencer-down",
            "Arbitrum sequencer down: uptime feed answers 1 and the chain stops making blocks",
            "infra",
            _sequencer_down,
            _sequencer_up,
            sources=("heartbeat", "alert"),
            alerts=("ArbSequencerDown",),
        ),
        Scenario(
            "rpc-down",
            "SX Rollup RPC down: the anvil node serving chain 4162 is stopped",
            "infra",
            _rpc_down,
            _rpc_up,
            sources=("heartbeat", "alert"),
            alerts=("ArbRpcDown",),
        ),
        Scenario(
            "low-balance",
            f"Azuro wallet drained to {LOW_BALANCE_LEFT_USD:g} USD: alert only, trading goes on",
            "balance",
            _drain,
            _refill,
            alerts=("ArbWalletBalanceLow",),
            no_pause=True,
            low_wallet="azuro",
        ),
        Scenario(
            "heartbeat-dead",
            "the heartbeat process is killed: dead man's switch and ArbHeartbeatStale",
            "infra",
            _kill_heartbeat,
            _restart_heartbeat,
            sources=("deadman",),
            alerts=("ArbHeartbeatStale",),
        ),
    )
}


def wait_warm(
    stack: DemoStack,
    stop: threading.Event,
    timeout_s: float,
    say: Say,
    *,
    full_window: bool = False,
) -> None:
    """Wait until trading runs and both venues have `min_orders_in_window` legs in the window.

    Checked on the guard (engine status file) and in Prometheus (the alert rules' input).
    With `full_window`, also wait until the engine has traded for a whole QoS window, so
    every window statistic covers its full length.
    """
    need = stack.config.exec.min_orders_in_window
    window_s = stack.config.exec.qos_window_s
    deadline = time.monotonic() + timeout_s
    whole = f" and {window_s} s of trading" if full_window else ""
    say(f"warming up: waiting for {need} legs per venue in the QoS window{whole}")
    while True:
        _refuse_if_paused(stack)
        engine = stack.engine_status() or {}
        guard = engine.get("guard") or {}
        guard_ok = bool(guard) and all(w.get("submitted", 0) >= need for w in guard.values())
        if full_window:
            guard_ok = guard_ok and trading_for_s(engine) >= window_s
        prom_ok = False
        if guard_ok:
            try:
                rows = stack.prom.query("venue:arb_orders_submitted:increase_window")
                prom_ok = len(rows) >= 2 and all(float(r["value"][1]) >= need for r in rows)
            except Exception:  # Prometheus not answering yet: keep waiting
                prom_ok = False
        if guard_ok and prom_ok:
            return
        if stop.is_set():
            raise ScenarioAborted("stopped while warming up")
        if time.monotonic() > deadline:
            raise ScenarioAborted(f"the QoS window did not reach {need} legs in {timeout_s:.0f} s")
        stop.wait(0.5)


def trading_for_s(engine_status: dict[str, Any]) -> float:
    """Seconds the engine has been allowed to trade without a break (0 when it is not)."""
    changes = (engine_status.get("engine") or {}).get("pause_changes") or []
    if not changes or not changes[-1][1]:
        return 0.0
    return time.time() - parse_ts(changes[-1][0]).timestamp()


def _refuse_if_paused(stack: DemoStack) -> None:
    """A scenario needs a running stack: a pause before the fault would hide its effect."""
    try:
        status = stack.status()
    except Exception:  # the orchestrator may still be starting: keep waiting
        return
    if status.paused:
        reasons = ", ".join(f"{r.source}:{r.name}" for r in status.reasons)
        raise ScenarioAborted(f"trading paused before the fault was injected ({reasons})")


def run_scenario(
    stack: DemoStack,
    scenario: Scenario,
    *,
    say: Say,
    stop: threading.Event,
    warm_timeout_s: float = 120.0,
    full_window: bool = False,
) -> ScenarioReport:
    """Warm up, inject, watch until the expectation holds or time is up; return the report."""
    wait_warm(stack, stop, warm_timeout_s, say, full_window=full_window)
    say(f"injecting {scenario.name}: {scenario.what}")
    injected = time.time()
    scenario.inject(stack)
    say(f"injected in {time.time() - injected:.3f} s; watching the orchestrator and Prometheus")
    seen = Observer(stack, after=injected)
    deadline = time.monotonic() + scenario.timeout_s
    settled_at: float | None = None
    while not stop.is_set() and time.monotonic() < deadline:
        now = time.time()
        seen.poll(now)
        if scenario.no_pause and seen.pauses:
            break
        if _expectation_met(stack, scenario, seen, injected):
            if not scenario.no_pause:
                break
            settled_at = settled_at or time.monotonic()
            if time.monotonic() - settled_at >= NO_PAUSE_HOLD_S:
                break
        stop.wait(POLL_S)
    if stop.is_set():
        raise ScenarioAborted(f"stopped while watching {scenario.name}")
    return _report(stack, scenario, seen, injected)


def _expectation_met(stack: DemoStack, scenario: Scenario, seen: Observer, after: float) -> bool:
    if any(seen.first_pause(s) is None for s in scenario.sources):
        return False
    if any(seen.first_alert(a) is None for a in scenario.alerts):
        return False
    if scenario.low_wallet is not None:
        log = stack.run.monitoring_dir / "balance_watcher.log"
        lows = balance_events(log, "low", after)
        if not any(r.get("wallet") == scenario.low_wallet for r in lows):
            return False
    return True


def _report(
    stack: DemoStack, scenario: Scenario, seen: Observer, injected: float
) -> ScenarioReport:
    now = time.time()
    breaches = []
    breach_at: float | None = injected
    if scenario.kind == "qos":
        paths = [p for v in Venue for p in log_files(stack.run.sim_log(v))]
        events = read_sim_events(paths, since=injected - stack.config.exec.qos_window_s)
        breaches = first_breaches(events, stack.config.exec, after=injected, until=now)
        breach_at = breaches[0].at if breaches else None
    elif scenario.kind == "balance":
        breach_at = None
    lows = []
    if scenario.low_wallet is not None:
        log = stack.run.monitoring_dir / "balance_watcher.log"
        lows = [
            r
            for r in balance_events(log, "low", injected)
            if r.get("wallet") == scenario.low_wallet
        ]
    return ScenarioReport.judge(
        scenario_name=scenario.name,
        what=scenario.what,
        kind=scenario.kind,
        injected_at=injected,
        breach_at=breach_at,
        breaches=breaches,
        observer=seen,
        required_sources=scenario.sources,
        required_alerts=scenario.alerts,
        no_pause=scenario.no_pause,
        low_events=lows,
        low_wallet=scenario.low_wallet,
        targets=Targets.of(stack.config),
    )


def recover(
    stack: DemoStack, scenario: Scenario, *, stop: threading.Event, timeout_s: float, say: Say
) -> None:
    """Undo the fault, wait until its effects are gone, then resume with the admin token.

    Gone means: no automatic reason is active and, after a QoS fault, the QoS window holds no
    leg from the degraded period (else the guard and the alert would trip again as soon as
    trading brings the window back above `min_orders_in_window`).
    """
    scenario.restore(stack)
    drain = scenario.kind == "qos"
    what = "the QoS window to empty and " if drain else ""
    say(f"restored after {scenario.name}; waiting for {what}every automatic reason to clear")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not stop.is_set():
        status = stack.status()
        if not status.paused:
            return
        active = [
            r
            for r in status.reasons
            if r.active and r.source not in (PauseSource.GUARD, PauseSource.MANUAL)
        ]
        if not active and (not drain or window_empty(stack)):
            with contextlib.suppress(OrchestratorError):  # 409: a reason came back meanwhile
                stack.resume(detail=f"demo: {scenario.name} restored")
                say("resumed with the admin token")
                return
        stop.wait(0.5)
    raise ScenarioAborted(
        f"trading did not become resumable within {timeout_s:.0f} s after {scenario.name}"
    )


def window_empty(stack: DemoStack) -> bool:
    """True when the guard's QoS window holds no submission and no result on any venue."""
    guard = (stack.engine_status() or {}).get("guard") or {}
    return bool(guard) and all(
        w.get("submitted", 0) == 0 and w.get("results", 0) == 0 for w in guard.values()
    )
