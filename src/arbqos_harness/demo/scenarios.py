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
from arbqos.config import ArbqosConfig
from arbqos.errors import OrchestratorError
from arbqos.vocab import AlertName, PauseSource, Severity, Venue
from arbqos_harness.chain.localchain import DEPLOYER
from arbqos_harness.demo.breach import first_breaches, log_files, read_sim_events
from arbqos_harness.demo.followup import watch_auto_resume, watch_latch, window_empty
from arbqos_harness.demo.notices import NoticeSeen, notices
from arbqos_harness.demo.observe import (
    Observer,
    balance_events,
    longest_failing_run,
    next_tick_at,
    probe_attempts,
)
from arbqos_harness.demo.verdict import (
    Attempts,
    Detection,
    Followup,
    ScenarioReport,
    Targets,
    settings_line,
)

if TYPE_CHECKING:
    from arbqos_harness.demo.stack import DemoStack

Say = Callable[[str], None]
POLL_S = 0.2
LOW_BALANCE_LEFT_USD = 10.0
"""What the low-balance scenario leaves in the wallet (the floor is 15 USD by default)."""
NO_PAUSE_HOLD_S = 5.0
"""How long the low-balance scenario keeps checking that nothing paused after its alert."""
FLAKY_ERROR_RATE = 0.02
"""`rpc-flaky`: the share of SX Rollup RPC requests that fail."""
BLIP_S = 4.0
FLAKY_S = 180.0
OUTAGE_S = 20.0
FIRST_PHASE_NOTICES = frozenset(
    {NoticeSeen.PAUSED, NoticeSeen.FIRING, NoticeSeen.PATH_SILENT, NoticeSeen.DIRECT}
)
"""Notices the first phase waits for; a `then` phase waits for its own (the resume)."""
Watch = Callable[[ArbqosConfig, float], float]
"""How long a no-pause scenario watches, from the injection: f(config, fault_s)."""


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
    forbidden_alerts: tuple[str, ...] = ()
    """Alerts that must not fire (a blip must not look like an outage)."""
    fault_s: float | None = None
    """The fault is undone this long after the injection, while watching (None: at the end)."""
    watch: Watch | None = None
    """No-pause scenarios: watch at least this long after the injection."""
    then: Literal["restore", "auto_resume", "latch"] = "restore"
    """After the pause: just restore; check trading resumes by itself; check the pause holds."""
    notices: tuple[NoticeSeen, ...] = ()
    """Notifications that must reach the demo's sink."""
    notice_severity: Severity = Severity.CRITICAL
    """Severity of the alert behind a `firing` notice (required only when routed to a channel)."""
    detection: Detection = "probe"
    recovered: Callable[[DemoStack], bool] | None = None
    """After restoring, wait for this too before resuming (e.g. the alert path is back)."""
    probed: str | None = None
    """The chain the fault hits: its proxy must fail at least one request (with `align_to_tick`,
    a heartbeat attempt must fail too), else the scenario proved nothing; the report counts
    the heartbeat's attempts and its longest failing run."""
    align_to_tick: bool = False
    """Inject just before a heartbeat tick, so that a short fault meets an attempt."""


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


def _proxy(chain: str, **knobs: Any) -> Callable[[DemoStack], None]:
    def inject(stack: DemoStack) -> None:
        stack.proxy(chain).set_knobs(**knobs)

    return inject


def _proxy_reset(chain: str) -> Callable[[DemoStack], None]:
    def restore(stack: DemoStack) -> None:
        stack.proxy(chain).reset()

    return restore


def _stall_sx(stack: DemoStack) -> None:
    stack.local_chains.stall("sx_rollup")


def _unstall_sx(stack: DemoStack) -> None:
    stack.local_chains.resume("sx_rollup")


def _freeze_engine(stack: DemoStack) -> None:
    stack.freeze("engine")


def _thaw_engine(stack: DemoStack) -> None:
    stack.thaw("engine")


def _stop_prometheus(stack: DemoStack) -> None:
    stack.stop_child("prometheus")


def _start_prometheus(stack: DemoStack) -> None:
    stack.start_child_again("prometheus")


def _alert_path_up(stack: DemoStack) -> bool:
    alerting = stack.status().alerting
    return alerting is None or alerting.pipeline_up


def _past_detection(intervals: float) -> Watch:
    """Watch until the fault is over plus the heartbeat's detection bound and `intervals` more."""

    def watch(config: ArbqosConfig, fault_s: float) -> float:
        detect = Targets.of(config).by_source["heartbeat"]
        return fault_s + detect + intervals * config.heartbeat.interval_s

    return watch


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
            notices=(NoticeSeen.PAUSED,),
        ),
        Scenario(
            "fill-collapse",
            "SX Bet fills collapse: 40 % partial, 50 % rejected: fill ratio below the minimum",
            "qos",
            _knobs("sx", {"partial_prob": 0.4, "reject_prob": 0.5}),
            _reset_knobs,
            sources=("guard", "alert"),
            alerts=("ArbFillRatioLow",),
            notices=(NoticeSeen.PAUSED,),
        ),
        Scenario(
            "sequencer-down",
            "Arbitrum sequencer down: uptime feed answers 1 and the chain stops making blocks",
            "infra",
            _sequencer_down,
            _sequencer_up,
            sources=("heartbeat", "alert"),
            alerts=("ArbSequencerDown",),
            notices=(NoticeSeen.PAUSED,),
        ),
        Scenario(
            "rpc-down",
            "SX Rollup RPC down: the anvil node serving chain 4162 is stopped",
            "infra",
            _rpc_down,
            _rpc_up,
            sources=("heartbeat", "alert"),
            alerts=("ArbRpcDown",),
            notices=(NoticeSeen.PAUSED,),
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
            notices=(NoticeSeen.FIRING,),
            notice_severity=Severity.WARNING,
        ),
        Scenario(
            "heartbeat-dead",
            "the heartbeat process is killed: dead man's switch and ArbHeartbeatStale",
            "infra",
            _kill_heartbeat,
            _restart_heartbeat,
            sources=("deadman",),
            alerts=("ArbHeartbeatStale",),
            notices=(NoticeSeen.PAUSED,),
        ),
        Scenario(
            "rpc-blip",
            f"SX Rollup RPC refuses every connection for {BLIP_S:g} s: no pause, no ArbRpcDown",
            "infra",
            _proxy("sx_rollup", down=True),
            _proxy_reset("sx_rollup"),
            no_pause=True,
            forbidden_alerts=(AlertName.RPC_DOWN, AlertName.SEQUENCER_DOWN),
            fault_s=BLIP_S,
            watch=_past_detection(1),
            probed="sx_rollup",
            align_to_tick=True,
        ),
        Scenario(
            "rpc-flaky",
            f"{FLAKY_ERROR_RATE:.0%} of SX Rollup RPC requests fail (one in "
            f"{1 / FLAKY_ERROR_RATE:.0f}) for {FLAKY_S:g} s: no pause",
            "infra",
            _proxy("sx_rollup", error_rate=FLAKY_ERROR_RATE, error_pattern="even"),
            _proxy_reset("sx_rollup"),
            no_pause=True,
            forbidden_alerts=(AlertName.RPC_DOWN, AlertName.SEQUENCER_DOWN),
            fault_s=FLAKY_S,
            watch=_past_detection(0),
            timeout_s=FLAKY_S + 60,
            probed="sx_rollup",
        ),
        Scenario(
            "sx-stall",
            "SX Rollup stops making blocks while its RPC still answers: heartbeat and alert pause",
            "infra",
            _stall_sx,
            _unstall_sx,
            sources=("heartbeat", "alert"),
            alerts=("ArbSequencerDown",),
            notices=(NoticeSeen.PAUSED,),
            detection="stall",
        ),
        Scenario(
            "engine-metrics-gone",
            "the engine is frozen (SIGSTOP): its exporter answers nothing; ArbEngineMetricsAbsent",
            "infra",
            _freeze_engine,
            _thaw_engine,
            alerts=(AlertName.ENGINE_METRICS_ABSENT,),
            no_pause=True,
            notices=(NoticeSeen.FIRING,),
        ),
        Scenario(
            "infra-recovery",
            f"SX Rollup RPC down for {OUTAGE_S:g} s, then back: paused, then resumed by itself",
            "infra",
            _proxy("sx_rollup", down=True),
            _proxy_reset("sx_rollup"),
            sources=("heartbeat", "alert"),
            alerts=("ArbRpcDown",),
            notices=(NoticeSeen.PAUSED, NoticeSeen.RESUMED_AUTOMATICALLY),
            fault_s=OUTAGE_S,
            then="auto_resume",
        ),
        Scenario(
            "qos-latches",
            "SX Bet accepts 4x slower, then heals: the QoS pause stays until an admin resumes",
            "qos",
            _knobs("sx", {"slow_accept": 4.0}),
            _reset_knobs,
            sources=("guard", "alert"),
            alerts=("ArbAcceptTimeP95High",),
            notices=(NoticeSeen.PAUSED,),
            then="latch",
        ),
        Scenario(
            "alerting-dead",
            "Prometheus is stopped: the orchestrator notices ArbWatchdog is silent and says so",
            "infra",
            _stop_prometheus,
            _start_prometheus,
            no_pause=True,
            notices=(NoticeSeen.PATH_SILENT,),
            recovered=_alert_path_up,
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
    """Warm up, inject, watch until the expectation holds or time is up; return the report.

    A scenario with `fault_s` undoes its fault that long after the injection while it watches;
    `then` adds a second phase after the pause (automatic resume, or a pause that must hold).
    """
    wait_warm(stack, stop, warm_timeout_s, say, full_window=full_window)
    say(f"timings: {settings_line(stack.config)}")
    if scenario.align_to_tick:
        _wait_for_tick(stack, stop)
    say(f"injecting {scenario.name}: {scenario.what}")
    injected = time.time()
    scenario.inject(stack)
    say(f"injected in {time.time() - injected:.3f} s; watching the orchestrator and Prometheus")
    seen = Observer(stack, after=injected)
    follow = Followup()
    proxy_before = _proxy_failures(stack, scenario.probed)
    watch_s = scenario.watch(stack.config, scenario.fault_s or 0.0) if scenario.watch else 0.0
    deadline = time.monotonic() + max(scenario.timeout_s, watch_s + 10)
    settled_at: float | None = None
    while not stop.is_set() and time.monotonic() < deadline:
        now = time.time()
        seen.poll(now)
        _undo_when_due(stack, scenario, follow, injected, say)
        if scenario.no_pause and seen.pauses:
            break
        if any(seen.first_alert(a) is not None for a in scenario.forbidden_alerts):
            break
        if _expectation_met(stack, scenario, seen, injected):
            if not scenario.no_pause:
                break
            settled_at = settled_at or time.monotonic()
            held = time.monotonic() - settled_at >= NO_PAUSE_HOLD_S
            if held and time.time() - injected >= watch_s:
                break
        stop.wait(POLL_S)
    if stop.is_set():
        raise ScenarioAborted(f"stopped while watching {scenario.name}")
    if scenario.then == "auto_resume" and seen.pauses:
        _undo_at(stack, scenario, follow, injected + (scenario.fault_s or 0.0), say, stop)
        watch_auto_resume(stack, seen, follow, injected=injected, stop=stop, say=say)
    elif scenario.then == "latch" and seen.pauses:
        _undo_now(stack, scenario, follow, say)
        watch_latch(stack, seen, follow, alerts=scenario.alerts, stop=stop, say=say)
    if stop.is_set():
        raise ScenarioAborted(f"stopped while watching {scenario.name}")
    proxied = _proxy_failures(stack, scenario.probed) - proxy_before
    return _report(stack, scenario, seen, injected, follow, proxied)


def _proxy_failures(stack: DemoStack, chain: str | None) -> int:
    """Requests the fault proxy in front of `chain` failed on purpose so far (0 without one)."""
    if chain is None or chain not in stack.proxies:
        return 0
    stats = stack.proxy(chain).stats
    return stats.refused + stats.injected_errors + stats.stalled


def _wait_for_tick(stack: DemoStack, stop: threading.Event, lead_s: float = 0.5) -> None:
    """Return `lead_s` before the heartbeat's next tick (at once when it is unknown)."""
    interval = stack.config.heartbeat.interval_s
    log = stack.run.monitoring_dir / "heartbeat.log"
    at = next_tick_at(log, interval, time.time() + lead_s)
    if at is not None:
        stop.wait(max(0.0, at - lead_s - time.time()))


def _undo_when_due(
    stack: DemoStack, scenario: Scenario, follow: Followup, injected: float, say: Say
) -> None:
    """Undo a timed fault once `fault_s` has passed since the injection."""
    if scenario.fault_s is not None and time.time() - injected >= scenario.fault_s:
        _undo_now(stack, scenario, follow, say)


def _undo_at(
    stack: DemoStack,
    scenario: Scenario,
    follow: Followup,
    at: float,
    say: Say,
    stop: threading.Event,
) -> None:
    """Undo the fault at unix time `at` (at once when that has passed)."""
    if follow.restored_at is None:
        stop.wait(max(0.0, at - time.time()))
    _undo_now(stack, scenario, follow, say)


def _undo_now(stack: DemoStack, scenario: Scenario, follow: Followup, say: Say) -> None:
    """Undo the fault once (later calls do nothing) and note when."""
    if follow.restored_at is not None:
        return
    scenario.restore(stack)
    follow.restored_at = time.time()
    say(f"fault of {scenario.name} undone")


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
    kinds = {n.kind for n in notices(stack.notifications(after))}
    wanted = [k for k in required_notices(stack, scenario) if k in FIRST_PHASE_NOTICES]
    return all(k in kinds for k in wanted)


def required_notices(stack: DemoStack, scenario: Scenario) -> tuple[NoticeSeen, ...]:
    """The scenario's notices, less an alert notice its severity is not routed to any channel."""
    routed = bool(stack.config.alerting.notify_tags(scenario.notice_severity))
    return tuple(k for k in scenario.notices if k is not NoticeSeen.FIRING or routed)


def _report(
    stack: DemoStack,
    scenario: Scenario,
    seen: Observer,
    injected: float,
    follow: Followup,
    proxied: int,
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
        breach_at = injected
    lows = []
    if scenario.low_wallet is not None:
        log = stack.run.monitoring_dir / "balance_watcher.log"
        lows = [
            r
            for r in balance_events(log, "low", injected)
            if r.get("wallet") == scenario.low_wallet
        ]
    attempts = None
    if scenario.probed is not None:
        log = stack.run.monitoring_dir / "heartbeat.log"
        seen_attempts = probe_attempts(log, scenario.probed, injected)
        failed = sum(1 for _, ok in seen_attempts if not ok)
        attempts = Attempts(
            scenario.probed,
            len(seen_attempts),
            failed,
            longest_failing_run(seen_attempts),
            proxied,
            must_meet=scenario.align_to_tick,
        )
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
        targets=Targets.of(stack.config, scenario.detection),
        forbidden_alerts=scenario.forbidden_alerts,
        required_notices=required_notices(stack, scenario),
        notices=notices(stack.notifications(injected)),
        followup=follow,
        settings=settings_line(stack.config) if scenario.kind == "infra" else "",
        attempts=attempts,
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
        if scenario.recovered is not None and not _quietly(scenario.recovered, stack):
            stop.wait(0.5)
            continue
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


def _quietly(check: Callable[[DemoStack], bool], stack: DemoStack) -> bool:
    """`check(stack)`, False while what it reads does not answer."""
    try:
        return check(stack)
    except Exception:  # the orchestrator restarting or slow: not recovered yet
        return False
