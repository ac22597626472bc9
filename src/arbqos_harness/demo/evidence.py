"""`arbqos evidence`: the contract §8 bundle, measured on a real run of the embedded stack.

Steps: start the stack and let the QoS window fill; snapshot the dashboard; degrade SX Bet
(slower accepts and a fill collapse) and measure breach to pause on the guard and the
Alertmanager paths; restore, wait for recovery and resume with the admin token; stop the
Arbitrum sequencer (uptime feed and blocks) and measure the heartbeat path; snapshot again;
export Prometheus rules and alerts, the heartbeat log and its audit, the notifications the
sink received, and `summary.json`.
"""

from __future__ import annotations

import io
import json
import platform
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

import httpx

import arbqos
from arbqos.clock import format_ts
from arbqos.config import LoadedConfig
from arbqos.log import configure_logging
from arbqos.probes.audit import run_audit
from arbqos_harness.demo.breach import log_files
from arbqos_harness.demo.output import SafeStream, silence_broken_stdout
from arbqos_harness.demo.scenarios import (
    SCENARIOS,
    Scenario,
    ScenarioAborted,
    recover,
    run_scenario,
    wait_warm,
)
from arbqos_harness.demo.session import stop_on_signals
from arbqos_harness.demo.stack import DemoStack, StackError, StackOptions
from arbqos_harness.demo.verdict import ScenarioReport, Targets
from arbqos_harness.process import find_tool
from arbqos_harness.snapshot import render_snapshot

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2
FILES = (
    "dashboard_before.png",
    "dashboard_after.png",
    "rules.json",
    "alerts.json",
    "heartbeat.log",
    "heartbeat_audit.txt",
    "notifications.log",
    "summary.json",
)
"""What `--out DIR` holds afterwards (contract §8)."""
QOS_LOAD: Mapping[str, float] = {"slow_accept": 4.0, "partial_prob": 0.15, "reject_prob": 0.1}
"""The controlled load on the SX Bet simulator: accepts 4x slower (live bets 1.2-3.2 s), 15 %
partial and 10 % rejected fills. The accept time crosses its limit first; the fill ratio
degrades too (about 0.83 of the stake filled per new leg) but more slowly, so the pause
latency is measured against one well-defined breach. It is injected once the engine has
traded for a whole QoS window, so every window statistic covers its full length."""
Say = Callable[[str], None]
WARM_TIMEOUT_S = 120.0
SHOW_PAUSE_S = 8.0


class EvidenceError(RuntimeError):
    """A step of the evidence run failed; the message names it."""


def _load(stack: DemoStack) -> None:
    stack.set_knobs("sx", QOS_LOAD)


QOS_SCENARIO = Scenario(
    "qos-load",
    "SX Bet degraded: accepts 4x slower (live 1.2-3.2 s), 15 % partial and 10 % rejected fills",
    "qos",
    _load,
    lambda stack: stack.reset_knobs(),
    sources=("guard", "alert"),
)


def run_evidence(
    loaded: LoadedConfig,
    *,
    config_dir: Path,
    out: Path,
    options: StackOptions | None = None,
    stream: TextIO | None = None,
) -> int:
    """`arbqos evidence --out DIR`: 0 when every file was written and every path paused."""
    stop = threading.Event()
    safe = SafeStream(stream or sys.stdout, on_broken=stop.set)
    say_to = safe.as_textio()
    if out.exists() and not out.is_dir():
        sys.stderr.write(f"arbqos evidence: --out {out} is a file; give a directory\n")
        return EXIT_BAD_INPUT
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        sys.stderr.write(f"arbqos evidence: --out {out}: cannot create it ({err.strerror})\n")
        return EXIT_BAD_INPUT

    def say(message: str) -> None:
        say_to.write(message + "\n")
        say_to.flush()

    opts = options or StackOptions(prefix="evidence")
    with stop_on_signals(stop) as received:
        say(f"arbqos evidence: base config {loaded.hash[:12]} from {config_dir}; bundle -> {out}")
        stack = DemoStack(loaded.config, opts, out=say_to)
        with (stack.run.logs_dir / "evidence.log").open("a", encoding="utf-8") as log:
            configure_logging(stream=log)
            try:
                stack.start(cancel=stop)
                summary = collect_evidence(stack, out, say=say, stop=stop)
            except (StackError, EvidenceError, ScenarioAborted, OSError) as err:
                say(f"arbqos evidence: FAILED: {err}")
                return EXIT_FAILURE
            finally:
                leftovers = stack.stop()
                if leftovers:
                    say(f"killed leftover processes {leftovers}")
                if safe.broken and stream is None:
                    silence_broken_stdout()
    if received:
        say(f"stopped by {received[0]}")
        return EXIT_FAILURE
    latencies = summary["pause_latency_s"]
    say(
        "pause latency from the breach: "
        + ", ".join(f"{k} {v:.3f} s" for k, v in latencies.items())
    )
    say(f"bundle: {out}  (run directory {stack.run.root})")
    return EXIT_OK if summary["ok"] else EXIT_FAILURE


def collect_evidence(
    stack: DemoStack, out: Path, *, say: Say, stop: threading.Event
) -> dict[str, Any]:
    """Run the measured faults on a running stack and write every file of the bundle."""
    out.mkdir(parents=True, exist_ok=True)
    began = stack.clock.now_utc()
    seq = SCENARIOS["sequencer-down"]
    window_s = stack.config.exec.qos_window_s
    wait_warm(stack, stop, WARM_TIMEOUT_S + window_s, say, full_window=True)
    _snapshot(stack, out / "dashboard_before.png", say)
    qos = _scenario(stack, QOS_SCENARIO, say, stop, full_window=True)
    _write_json(out / "alerts.json", stack.prom.get_raw("/api/v1/alerts"))
    recover(stack, QOS_SCENARIO, stop=stop, timeout_s=stack.config.exec.qos_window_s + 60, say=say)
    infra = _scenario(stack, seq, say, stop)
    _write_json(out / "alerts_sequencer_outage.json", stack.prom.get_raw("/api/v1/alerts"))
    say(f"holding the outage {SHOW_PAUSE_S:g} s so the dashboard shows the pause")
    if stop.wait(SHOW_PAUSE_S):
        raise ScenarioAborted("stopped during the outage")
    _snapshot(stack, out / "dashboard_after.png", say)
    _write_json(out / "rules.json", stack.prom.get_raw("/api/v1/rules"))
    audit = _heartbeat_files(stack, out)
    _copy_notifications(stack, out)
    summary = _summary(stack, qos, infra, audit, format_ts(began))
    _write_json(out / "summary.json", summary)
    for report in (qos, infra):
        (out / f"scenario_{report.scenario}.txt").write_text(
            "\n".join(report.lines()) + "\n", encoding="utf-8"
        )
    missing = [name for name in FILES if not (out / name).is_file()]
    if missing:
        raise EvidenceError(f"bundle incomplete, missing: {', '.join(missing)}")
    return summary


def _scenario(
    stack: DemoStack,
    scenario: Scenario,
    say: Say,
    stop: threading.Event,
    *,
    full_window: bool = False,
) -> ScenarioReport:
    warm_s = WARM_TIMEOUT_S + (stack.config.exec.qos_window_s if full_window else 0)
    report = run_scenario(
        stack, scenario, say=say, stop=stop, warm_timeout_s=warm_s, full_window=full_window
    )
    for line in report.lines():
        say(line)
    return report


def _snapshot(stack: DemoStack, path: Path, say: Say) -> None:
    """Draw the run's dashboard from its Prometheus, from the stack's start to now."""
    result = render_snapshot(
        stack.run.dashboard,
        stack.prom.base_url,
        path,
        start=stack.started_at,
        end=stack.clock.now_utc(),
        scrape_interval_s=stack.config.alerting.scrape_interval_s,
        title=f"arbqos evidence - {path.stem}",
    )
    say(f"wrote {path} ({result.panel_count} panels, {len(result.errors)} query errors)")
    for error in result.errors:
        say(f"  snapshot: {error}")


def _heartbeat_files(stack: DemoStack, out: Path) -> dict[str, Any]:
    """Copy the heartbeat log (rotated files first) and write the audit's output."""
    live = Path(stack.config.heartbeat.log_path)
    text = "".join(p.read_text(encoding="utf-8") for p in log_files(live))
    copied = out / "heartbeat.log"
    copied.write_text(text, encoding="utf-8")
    stdout, stderr = io.StringIO(), io.StringIO()
    interval = stack.config.heartbeat.interval_s
    code = run_audit([copied], max_gap_s=None, interval_s=interval, out=stdout, err=stderr)
    report = stdout.getvalue() + stderr.getvalue()
    (out / "heartbeat_audit.txt").write_text(
        f"$ arbqos heartbeat-audit heartbeat.log  (interval {interval:g} s)\n{report}exit {code}\n",
        encoding="utf-8",
    )
    last = stdout.getvalue().strip().splitlines()[-1:] or [""]
    return {"exit_code": code, "result": last[0]}


def _copy_notifications(stack: DemoStack, out: Path) -> None:
    """Copy what the notification sink received (every pause, resume and alert notice)."""
    source = stack.run.notifications_log
    text = source.read_text(encoding="utf-8") if source.is_file() else ""
    (out / "notifications.log").write_text(text, encoding="utf-8")


def _summary(
    stack: DemoStack,
    qos: ScenarioReport,
    infra: ScenarioReport,
    audit: dict[str, Any],
    began: str,
) -> dict[str, Any]:
    targets = Targets.of(stack.config).by_source
    latency = {
        "guard": qos.latencies.get("guard"),
        "heartbeat": infra.latencies.get("heartbeat"),
        "alertmanager": qos.latencies.get("alert"),
    }
    limits = {
        "guard": targets["guard"],
        "heartbeat": targets["heartbeat"],
        "alertmanager": targets["alert"],
    }
    within = {k: v is not None and v <= limits[k] for k, v in latency.items()}
    return {
        "config_hash": stack.loaded.hash if stack.loaded else "",
        "pause_latency_s": {k: round(v, 3) if v is not None else None for k, v in latency.items()},
        "targets_s": limits,
        "within_target": within,
        "ok": qos.ok and infra.ok and all(within.values()),
        "alertmanager_latency_infra_s": round(infra.latencies["alert"], 3)
        if "alert" in infra.latencies
        else None,
        "pause_to_notice_s": {
            name: round(report.latencies["notify"], 3) if "notify" in report.latencies else None
            for name, report in (("qos_load", qos), ("sequencer_outage", infra))
        },
        "breach_definition": (
            "QoS fault: first moment the exact window statistic from the simulators' decision "
            "logs crosses the configured threshold; infrastructure fault: the injection"
        ),
        "scenarios": {"qos_load": qos.to_json(), "sequencer_outage": infra.to_json()},
        "heartbeat_audit": audit,
        "started_at": began,
        "run_dir": str(stack.run.root),
        "settings": {
            "qos_window_s": stack.config.exec.qos_window_s,
            "fill_ratio_min": stack.config.exec.fill_ratio_min,
            "p95_accept_time_ms_max": stack.config.exec.p95_accept_time_ms_max,
            "min_orders_in_window": stack.config.exec.min_orders_in_window,
            "heartbeat_interval_s": stack.config.heartbeat.interval_s,
            "probe_timeout_s": stack.config.heartbeat.probe_timeout_s,
            "scrape_interval_s": stack.config.alerting.scrape_interval_s,
            "evaluation_interval_s": stack.config.alerting.evaluation_interval_s,
            "qos_load": dict(QOS_LOAD),
        },
        "versions": _versions(stack),
    }


def _versions(stack: DemoStack) -> dict[str, str]:
    found = {"arbqos": arbqos.__version__, "python": platform.python_version()}
    try:
        found["prometheus"] = str(stack.prom.get("/api/v1/status/buildinfo")["version"])
    except (OSError, RuntimeError, KeyError, ValueError):
        found["prometheus"] = "?"
    try:
        am = httpx.get(
            f"http://{stack.config.alerting.alertmanager_listen}/api/v2/status", timeout=3
        )
        found["alertmanager"] = str(am.json()["versionInfo"]["version"])
    except (httpx.HTTPError, KeyError, ValueError):
        found["alertmanager"] = "?"
    try:
        anvil = subprocess.run(  # noqa: S603 - our own tool path, no shell
            [find_tool("anvil"), "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        found["anvil"] = anvil.stdout.strip().splitlines()[0] if anvil.stdout.strip() else "?"
    except (OSError, subprocess.TimeoutExpired):
        found["anvil"] = "?"
    return found


def _write_json(path: Path, body: Any) -> None:
    path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")
