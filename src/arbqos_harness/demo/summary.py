"""The demo's terminal view: one screen refreshed every second, or a line now and then in a pipe."""

from __future__ import annotations

import shutil
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TextIO

from arbqos.clock import Clock, format_ts, parse_ts
from arbqos.config import ArbqosConfig
from arbqos.wire import StatusResponse
from arbqos_harness.demo.notices import headline
from arbqos_harness.demo.promstack import PromClient
from arbqos_harness.sink import SinkRecord

NOTICES_SHOWN = 3
"""How many of the latest notifications the screen shows."""
HIDDEN_ALERTS = frozenset({"ArbWatchdog"})
"""Always firing by design; shown as `alert path alive` instead of an alert."""


class SummarySource(Protocol):
    """What the view reads (a running `DemoStack`)."""

    config: ArbqosConfig

    @property
    def prom(self) -> PromClient:
        """Client of the run's Prometheus."""
        ...

    def status(self) -> StatusResponse:
        """The orchestrator's status (through the SDK)."""
        ...

    def engine_status(self) -> dict[str, Any] | None:
        """The engine's status file."""
        ...

    def notifications(self, after: float | None = None) -> list[SinkRecord]:
        """What the notification sink received, oldest first."""
        ...


@dataclass
class SummaryData:
    """One refresh worth of facts; a field is None when its source did not answer."""

    at: datetime
    status: StatusResponse | None = None
    engine: dict[str, Any] | None = None
    balances: list[tuple[str, str, str, float]] = field(default_factory=list)
    """(wallet, chain, token, USD)."""
    heartbeat_age_s: float | None = None
    firing: list[str] = field(default_factory=list)
    watchdog: bool = False
    notices: list[tuple[datetime, str]] = field(default_factory=list)
    """The last notifications the sink received: (when, headline)."""
    notices_total: int = 0
    problems: list[str] = field(default_factory=list)


def gather(source: SummarySource, now: datetime) -> SummaryData:
    """Read the orchestrator, the engine status file and Prometheus; never raises."""
    data = SummaryData(at=now)
    try:
        data.status = source.status()
    except Exception as err:  # a view must survive any failure of what it shows
        data.problems.append(f"orchestrator: {type(err).__name__}")
    data.engine = source.engine_status()
    records = source.notifications()
    data.notices_total = len(records)
    data.notices = [(r.received_at, headline(r)) for r in records[-NOTICES_SHOWN:]]
    try:
        prom = source.prom
        for row in prom.query("arb_wallet_balance_usd"):
            labels = row["metric"]
            key = (labels.get("wallet", "?"), labels.get("chain", "?"), labels.get("token", "?"))
            if key not in {b[:3] for b in data.balances}:
                data.balances.append((*key, float(row["value"][1])))
        data.balances.sort()
        data.heartbeat_age_s = prom.scalar(
            "time() - max(arb_heartbeat_last_tick_timestamp_seconds > 0)"
        )
        for alert in prom.firing_alerts():
            name = alert["labels"].get("alertname", "?")
            if name in HIDDEN_ALERTS:
                data.watchdog = True
                continue
            data.firing.append(alert_label(alert["labels"]))
    except Exception as err:  # same: Prometheus may be restarting or slow
        data.problems.append(f"prometheus: {type(err).__name__}")
    data.firing.sort()
    return data


def alert_label(labels: dict[str, str]) -> str:
    """`ArbRpcDown{chain="sx_rollup"}` from an alert's labels (identifying labels only)."""
    shown = {k: v for k, v in labels.items() if k not in ("alertname", "severity", "action")}
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(shown.items()))
    return labels.get("alertname", "?") + (f"{{{inner}}}" if inner else "")


def _ago(ts: str | None, now: datetime) -> str:
    if not ts:
        return "?"
    try:
        return f"{(now - parse_ts(ts)).total_seconds():.1f}s ago"
    except ValueError:
        return "?"


def render(data: SummaryData, config: ArbqosConfig, header: str) -> list[str]:
    """The screen lines for `data`."""
    lines = [header, *_state_lines(data.status)]
    lines += _window_lines(data.engine or {}, config)
    lines.append(_engine_line(data.engine))
    floor = config.risk.balance_alert_usd
    shown = [
        f"{w} {usd:.2f} {token} ({chain}){' LOW' if usd < floor else ''}"
        for w, chain, token, usd in data.balances
    ]
    lines.append(f"balances (floor {floor:g} USD): " + ("; ".join(shown) or "?"))
    lines.append(_heartbeat_line(data, config.heartbeat.interval_s))
    alive = "alert path alive (ArbWatchdog)" if data.watchdog else "no ArbWatchdog yet"
    lines.append(f"alerts firing: {', '.join(data.firing) or 'none'}  [{alive}]")
    shown_notices = len(data.notices)
    lines.append(
        f"notifications: {data.notices_total} sent to the sink"
        + (f", last {shown_notices}:" if shown_notices else "")
    )
    lines += [f"  {format_ts(at)}  {text[:110]}" for at, text in data.notices]
    if data.problems:
        lines.append("unreachable: " + ", ".join(data.problems))
    return lines


def _state_lines(status: StatusResponse | None) -> list[str]:
    if status is None:
        return ["TRADING: unknown (orchestrator not answering)"]
    lines = [f"TRADING: {status.state.upper()}  since {status.since}"]
    for reason in status.reasons:
        flag = "active" if reason.active else "recovered"
        lines.append(
            f"  reason [{reason.source}] {reason.name} ({flag}, since "
            f"{reason.since}): {reason.detail[:90]}"
        )
    return lines


def _window_lines(engine: dict[str, Any], config: ArbqosConfig) -> list[str]:
    ex = config.exec
    lines = [
        f"QoS window {ex.qos_window_s}s: fill ratio min {ex.fill_ratio_min}, "
        f"p95 accept max {ex.p95_accept_time_ms_max} ms, min {ex.min_orders_in_window} legs",
        f"  {'venue':<7}{'legs':>6}{'fill ratio':>12}{'p95 accept':>12}{'slow':>10}  gate",
    ]
    for venue, stats in sorted((engine.get("guard") or {}).items()):
        fill = stats.get("fill_ratio")
        p95 = stats.get("p95_accept_s")
        lines.append(
            f"  {venue:<7}{stats.get('submitted', 0):>6}"
            f"{(f'{fill:.3f}' if fill is not None else '-'):>12}"
            f"{(f'{p95 * 1000:.0f} ms' if p95 is not None else '-'):>12}"
            f"{stats.get('slow_accepts', 0):>5}/{stats.get('accepts', 0):<4}"
            f"  {'open' if stats.get('gate_open') else 'closed'}"
            + ("  FILL LOW" if stats.get("fill_ratio_low") else "")
            + ("  P95 HIGH" if stats.get("accept_p95_high") else "")
        )
    return lines


def _engine_line(engine: dict[str, Any] | None) -> str:
    if not engine:
        return "engine: no status yet"
    counters = engine.get("engine", {})
    bank = engine.get("bank_usd")
    return (
        f"engine: {'trading' if engine.get('trading_allowed') else 'stopped (paused)'}; "
        f"{counters.get('opportunities', 0)} opportunities, "
        f"{counters.get('skipped_paused', 0)} skipped while paused, "
        f"{engine.get('inflight', 0)} legs in flight, bank "
        + (f"{bank:.2f} USD" if bank is not None else "?")
    )


def _heartbeat_line(data: SummaryData, interval_s: float) -> str:
    age = data.heartbeat_age_s
    heartbeat = data.status.heartbeat if data.status is not None else None
    report = heartbeat.last_report if heartbeat is not None else None
    down = ", ".join(report.down if report is not None else []) or "none"
    return (
        f"heartbeat: last tick {f'{age:.1f}s ago' if age is not None else '?'} "
        f"(every {interval_s:g}s); last report tick {report.tick if report else '?'} "
        f"{_ago(report.received_at if report else None, data.at)}, down: {down}"
    )


def one_line(data: SummaryData) -> str:
    """A compact line for logs and pipes."""
    status = data.status
    reasons = [f"{r.source}:{r.name}" for r in status.reasons] if status is not None else []
    state = status.state if status is not None else "?"
    parts = [f"state={state}", f"reasons={','.join(reasons) or '-'}"]
    for venue, stats in sorted(((data.engine or {}).get("guard") or {}).items()):
        fill, p95 = stats.get("fill_ratio"), stats.get("p95_accept_s")
        parts.append(
            f"{venue}: n={stats.get('submitted', 0)} fill="
            + (f"{fill:.3f}" if fill is not None else "-")
            + " p95="
            + (f"{p95 * 1000:.0f}ms" if p95 is not None else "-")
        )
    if data.heartbeat_age_s is not None:
        parts.append(f"hb={data.heartbeat_age_s:.1f}s")
    parts.append(f"alerts={','.join(data.firing) or '-'}")
    parts.append(f"notices={data.notices_total}")
    return " ".join(parts)


class Screen:
    """Redraws the summary in place on a terminal; elsewhere prints a line every `every_s`.

    Event lines (`say()`) appear under the summary on a terminal and at once elsewhere.
    """

    def __init__(self, out: TextIO, clock: Clock, *, tty: bool, every_s: float = 5.0) -> None:
        self._out = out
        self._clock = clock
        self.tty = tty
        self._every_s = every_s
        self._drawn = 0
        self._last_line = float("-inf")
        self._events: deque[str] = deque(maxlen=8)
        self._lock = threading.Lock()

    def say(self, message: str) -> None:
        """Show an event line (scenario progress, crashes)."""
        line = f"{format_ts(self._clock.now_utc())} {message}"
        with self._lock:
            self._events.append(line)
            if not self.tty:
                self._out.write(line + "\n")
                self._out.flush()

    def draw(self, data: SummaryData, config: ArbqosConfig, header: str) -> None:
        """Draw one refresh."""
        with self._lock:
            if self.tty:
                lines = render(data, config, header)
                if self._events:
                    lines += ["events:", *(f"  {e}" for e in self._events)]
                lines.append("Ctrl-C stops everything.")
                width = max(shutil.get_terminal_size((120, 40)).columns - 1, 40)
                lines = [line[:width] for line in lines]
                up = f"\x1b[{self._drawn}F" if self._drawn else ""
                self._out.write(up + "\x1b[J" + "\n".join(lines) + "\n")
                self._drawn = len(lines)
            elif self._clock.monotonic() - self._last_line >= self._every_s:
                self._last_line = self._clock.monotonic()
                self._out.write(f"{format_ts(data.at)} {one_line(data)}\n")
            self._out.flush()

    def release(self) -> None:
        """Stop redrawing in place: later output goes below the last screen."""
        with self._lock:
            self._drawn = 0
