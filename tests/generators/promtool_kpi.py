"""promtool tests of the long-window KPI rules (`arbqos.generators.kpi`), with a Python oracle.

Series are sampled once per KPI step, so every sample is one evaluation of the KPI group
(promtool evaluates every group at the test's `evaluation_interval`, whatever its own
interval). Each counter is built from *events per step*: the events of step t happened in
(t-1, t]. The expected value of a horizon record at T counts the events of the steps in
(T - H, T] straight from those lists, so the rules are checked against the events, not
against a second copy of the PromQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from arbqos.config import ArbqosConfig
from arbqos.generators import kpi
from arbqos.generators.promql import duration
from tests.generators.promtool_cases import BALANCE, ENGINE, HEARTBEAT, ORCHESTRATOR, selector

DAY_STEPS_EXTRA = 1
"""Steps simulated beyond one day, so the 24 h window starts after the first sample."""
Part = tuple[list[dict[str, str]], list[dict[str, Any]]]
"""Input series and `promql_expr_test` checks of one case."""


@dataclass
class Counter:
    """A counter sampled once per step: events per step, restarts and scrape outages."""

    events: list[int]
    down: set[int] = field(default_factory=set)
    """Steps whose scrape failed (the sample is stale, the target's `up` is 0)."""
    restart_after: set[int] = field(default_factory=set)
    """Steps after which the process restarted: the counter starts again at 0."""
    first: int = 0
    """The first step the series exists (a label value seen for the first time)."""

    def values(self) -> str:
        """promtool series notation: one value per step, `stale` when down, `_` before `first`."""
        total, out = 0, []
        stale_written = False
        for step, count in enumerate(self.events):
            total += count
            if step < self.first:
                out.append("_")
            elif step in self.down:
                out.append("_" if stale_written else "stale")
                stale_written = True
            else:
                out.append(str(total))
                stale_written = False
            if step in self.restart_after:
                total = 0
        return " ".join(out)

    def between(self, start: int, end: int) -> int:
        """Events of the steps in (start, end]."""
        return sum(self.events[start + 1 : end + 1])


def up(steps: int, down: set[int]) -> str:
    """The `up` series of a target: 1, or 0 for the steps in `down`."""
    return " ".join("0" if step in down else "1" for step in range(steps))


def _series(metric: str, labels: dict[str, str], values: str) -> dict[str, str]:
    return {"series": selector(metric, labels), "values": values}


def _sample(labels: dict[str, str], value: float) -> dict[str, Any]:
    inner = ", ".join(f'{k}="{v}"' for k, v in labels.items())
    return {"labels": "{" + inner + "}", "value": value}


def _check(expr: str, at_step: int, step_s: float, *samples: dict[str, Any]) -> dict[str, Any]:
    return {
        "expr": expr,
        "eval_time": duration(at_step * step_s),
        "exp_samples": list(samples),
    }


def _record(name: str, h: str) -> str:
    return kpi.horizon(name, h)


class KpiCases:
    """The KPI test groups for one config."""

    def __init__(self, cfg: ArbqosConfig) -> None:
        self.cfg = cfg
        self.step_s = cfg.alerting.kpi_interval_s
        self.day = round(86400 / self.step_s)
        self.hour = round(3600 / self.step_s)
        self.steps = self.day + DAY_STEPS_EXTRA + 1
        self.end = self.steps - 1

    def void_rate_case(self) -> Part:
        """24 h void rate of sx across an engine restart; idle azuro has no series (no NaN)."""
        steps, restart = self.steps, self.steps // 2
        settled = Counter([0] + [3] * (steps - 1), down={restart + 1}, restart_after={restart})
        voided = Counter(
            [0] + [1 if i % 17 == 0 else 0 for i in range(1, steps)],
            down={restart + 1},
            restart_after={restart},
        )
        for counter in (settled, voided):
            counter.events[restart + 1] = 0  # the engine was restarting
        sx, azuro = {"venue": "sx", **ENGINE}, {"venue": "azuro", **ENGINE}
        inputs = [
            _series("arb_bets_settled_total", sx, settled.values()),
            _series("arb_bets_voided_total", sx, voided.values()),
            _series("arb_bets_settled_total", azuro, f"0x{steps - 1}"),
            _series("arb_bets_voided_total", azuro, f"0x{steps - 1}"),
            _series("up", ENGINE, up(steps, {restart + 1})),
        ]
        checks = []
        for h, span in (("24h", self.day), ("1h", self.hour)):
            at = self.end
            ratio = Fraction(voided.between(at - span, at), settled.between(at - span, at))
            checks.append(
                _check(
                    _record(kpi.VOID_RATIO, h),
                    at,
                    self.step_s,
                    _sample({"__name__": _record(kpi.VOID_RATIO, h), "venue": "sx"}, float(ratio)),
                )
            )
        return inputs, checks

    def uptime_case(self) -> Part:
        """Heartbeat uptime with a planted 10-minute gap: the process is down, then restarts."""
        per_step = round(self.step_s / self.cfg.heartbeat.interval_s)
        steps, gap_steps = self.steps, round(600 / self.step_s)
        gap_start = self.end - 2 * self.hour  # inside the 24 h window, outside the last hour
        gap = set(range(gap_start + 1, gap_start + 1 + gap_steps))
        events = [0] + [0 if i in gap else per_step for i in range(1, steps)]
        ticks = Counter(events, down=gap, restart_after={gap_start})
        inputs = [
            _series("arb_heartbeat_ticks_total", {"result": "ok", **HEARTBEAT}, ticks.values()),
            _series("up", HEARTBEAT, up(steps, gap)),
        ]
        name = kpi.HEARTBEAT_UPTIME
        checks = []
        hour_after_gap = gap_start + gap_steps + self.hour // 2
        for h, span, at in (
            ("24h", self.day, self.end),
            ("1h", self.hour, hour_after_gap),
            ("1h", self.hour, self.end),
        ):
            expected = Fraction(ticks.between(at - span, at), span * per_step)
            checks.append(
                _check(
                    _record(name, h),
                    at,
                    self.step_s,
                    _sample({"__name__": _record(name, h)}, float(expected)),
                )
            )
        return inputs, checks

    def counts_case(self) -> Part:
        """Whole numbers: balance alerts, pauses by source (a new reason label), time paused."""
        steps, end, day = self.steps, self.end, self.day
        low = Counter([0] * steps)
        low.events[end - day // 5] = low.events[end - day // 2] = 1
        alert = Counter([0] * steps)
        for at in (end - day * 2 // 3, end - day // 3, end - 1):
            alert.events[at] = 1
        manual = Counter([0] * steps, first=end - 2)
        manual.events[end - 2] = 1  # the series appears at 1 while its target is up
        paused_n = min(30, day // 8)
        paused_steps = set(range(end - day // 4, end - day // 4 + paused_n))
        paused = " ".join("1" if i in paused_steps else "0" for i in range(steps))
        pauses = "arb_orchestrator_pauses_total"
        inputs = [
            _series("arb_balance_low_events_total", {"wallet": "sx", **BALANCE}, low.values()),
            _series("up", BALANCE, up(steps, set())),
            _series(
                pauses, {"source": "alert", "reason": "ArbRpcDown", **ORCHESTRATOR}, alert.values()
            ),
            _series(
                pauses,
                {"source": "manual", "reason": "maintenance", **ORCHESTRATOR},
                manual.values(),
            ),
            _series("arb_orchestrator_paused", ORCHESTRATOR, paused),
            _series("up", ORCHESTRATOR, up(steps, set())),
        ]
        at, h = end, "24h"
        checks = [
            _check(
                _record(kpi.LOW_EVENTS, h),
                at,
                self.step_s,
                _sample({"__name__": _record(kpi.LOW_EVENTS, h), "wallet": "sx"}, 2),
            ),
            _check(
                _record(kpi.PAUSES, h),
                at,
                self.step_s,
                _sample({"__name__": _record(kpi.PAUSES, h), "source": "alert"}, 3),
                _sample({"__name__": _record(kpi.PAUSES, h), "source": "manual"}, 1),
            ),
            _check(
                _record(kpi.PAUSED_SECONDS, h),
                at,
                self.step_s,
                _sample({"__name__": _record(kpi.PAUSED_SECONDS, h)}, paused_n * self.step_s),
            ),
        ]
        return inputs, checks

    def document(self, rules_path: str) -> dict[str, Any]:
        """The promtool test file: one timeline (one pass of evaluations) for every case."""
        inputs: list[dict[str, str]] = []
        checks: list[dict[str, Any]] = []
        for part in (self.void_rate_case(), self.uptime_case(), self.counts_case()):
            inputs += part[0]
            checks += part[1]
        test = {
            "name": "KPIs: 24 h void rate, uptime with a 10-minute gap, exact counts",
            "interval": duration(self.step_s),
            "input_series": inputs,
            "promql_expr_test": checks,
        }
        return {
            "rule_files": [rules_path],
            "evaluation_interval": duration(self.step_s),
            "tests": [test],
        }
