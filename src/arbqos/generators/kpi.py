"""Long-window KPI rules (1 h to 7 d): the story's numbers, cheap enough to keep for a week.

The group runs every `alerting.kpi_interval_s` (the *step*, 60 s by default), not every second
like the QoS group, and reads no raw series over a long range:

1. **Step records** count what happened since the previous evaluation, per series: the value
   now minus the last sample up to one step ago (`last_over_time(x[10 steps] offset step)`).
   No extrapolation is applied, so one balance alert counts 1, not 1.0169, and a scrape
   outage shorter than 10 steps loses nothing (the counter kept counting). A counter that went
   down restarted: it counts its value since the restart. A series without a previous value
   (a reason label seen for the first time) counts its whole value only when its target was
   scraped a step ago; otherwise (Prometheus just started, a new target, a long outage) it
   counts 0, so a long-running counter is never taken for a burst.
2. **Horizon records** add the step records up with `sum_over_time(...[H])`: H / step samples
   per series (1,440 for 24 h at 60 s) instead of H / scrape interval (86,400 at 1 s), and no
   subquery. Consecutive steps share their boundary sample, so the sums tile exactly. The
   range is H minus half a step (`[23h59m30s]`): step records sit exactly one step apart,
   and Prometheus 2 ranges include both ends, so `[24h]` would hold one step too many. Each
   step record reads 10 steps of raw samples per series (600 at a 1 s scrape).

Heartbeat uptime is completed ticks / expected ticks, where expected counts the steps
Prometheus recorded in the horizon (not the horizon itself), so a Prometheus that started an
hour ago does not report 4 % uptime over 24 h. A tick Prometheus never scraped (the heartbeat
died before the next scrape) does not count: this is the uptime the alerts could see.
"""

from __future__ import annotations

from arbqos.config import ArbqosConfig
from arbqos.generators.promql import bucket, count, counter, duration, gauge, number

HORIZONS_S: dict[str, int] = {"1h": 3600, "6h": 21600, "24h": 86400, "7d": 604800}
"""Horizon name (the suffix of every horizon record and the dashboard variable) -> seconds."""
DEFAULT_HORIZON = "24h"
PARTIAL = '{result="partial"}'
LOOKBACK_STEPS = 10
"""How far back (in steps) a step record looks for a counter's previous value."""

FILLED_STEP = "venue:arb_stake_filled_usd:increase_step"
RESOLVED_STEP = "venue:arb_stake_resolved_usd:increase_step"
RESULTS_STEP = "venue_result:arb_order_results:increase_step"
VOIDED_STEP = "venue:arb_bets_voided:increase_step"
SETTLED_STEP = "venue:arb_bets_settled:increase_step"
ACCEPT_BUCKET_STEP = "venue_le:arb_accept_time_seconds_bucket:increase_step"
ACCEPT_COUNT_STEP = "venue:arb_accept_time_seconds_count:increase_step"
QUOTE_BUCKET_STEP = "venue_le:arb_quote_to_fill_seconds_bucket:increase_step"
QUOTE_COUNT_STEP = "venue:arb_quote_to_fill_seconds_count:increase_step"
TICKS_STEP = "global:arb_heartbeat_ticks:increase_step"
LOW_EVENTS_STEP = "wallet:arb_balance_low_events:increase_step"
PAUSES_STEP = "source:arb_orchestrator_pauses:increase_step"
PAUSED_STEP = "global:arb_orchestrator_paused:avg_step"

# Horizon records: `<name>_<horizon>`, e.g. `venue:arb_fill_ratio:ratio_24h`.
FILL_RATIO = "venue:arb_fill_ratio:ratio"
ACCEPT_P95 = "venue:arb_accept_time_seconds:p95"
QUOTE_TO_FILL_P95 = "venue:arb_quote_to_fill_seconds:p95"
PARTIAL_RATIO = "venue:arb_order_results_partial:ratio"
VOID_RATIO = "venue:arb_bets_voided:ratio"
HEARTBEAT_UPTIME = "global:arb_heartbeat_ticks:uptime_ratio"
LOW_EVENTS = "wallet:arb_balance_low_events:increase"
PAUSES = "source:arb_orchestrator_pauses:increase"
PAUSED_SECONDS = "global:arb_orchestrator_paused:seconds"

HORIZON_RECORDS = (
    FILL_RATIO,
    ACCEPT_P95,
    QUOTE_TO_FILL_P95,
    PARTIAL_RATIO,
    VOID_RATIO,
    HEARTBEAT_UPTIME,
    LOW_EVENTS,
    PAUSES,
    PAUSED_SECONDS,
)


def horizon(record: str, name: str) -> str:
    """The record of `record` over horizon `name` (`1h`, `24h`, or `${horizon}` in panels)."""
    return f"{record}_{name}"


def step_increase(by: str, selector: str, step: str, lookback: str) -> str:
    """`sum by (by)` of what each series of `selector` counted since the previous step.

    The previous value is the last sample up to one step ago within `lookback`, so a scrape
    outage shorter than `lookback` loses nothing: the counter kept counting meanwhile.
    """
    previous = f"last_over_time({selector}[{lookback}] offset {step})"
    grouping = f"sum by ({by})" if by else "sum"
    return (
        f"{grouping} (\n"
        f"  ({selector} - {previous}) >= 0\n"
        f"  or ({selector} and {previous})\n"
        f"  or (({selector} unless {previous}) and on (instance, job) (up offset {step} == 1))\n"
        ")"
    )


def _step_rules(cfg: ArbqosConfig) -> list[tuple[str, str]]:
    step = duration(cfg.alerting.kpi_interval_s)
    lookback = duration(cfg.alerting.kpi_interval_s * LOOKBACK_STEPS)

    def delta(by: str, selector: str) -> str:
        return step_increase(by, selector, step, lookback)

    accept, quote = "arb_accept_time_seconds", "arb_quote_to_fill_seconds"
    recorded_anything = f"count(up offset {step}) > 0"
    ticks = delta("", counter("arb_heartbeat_ticks_total"))
    return [
        (FILLED_STEP, delta("venue", counter("arb_stake_filled_usd_total"))),
        (RESOLVED_STEP, delta("venue", counter("arb_stake_resolved_usd_total"))),
        (RESULTS_STEP, delta("venue, result", counter("arb_order_results_total"))),
        (VOIDED_STEP, delta("venue", counter("arb_bets_voided_total"))),
        (SETTLED_STEP, delta("venue", counter("arb_bets_settled_total"))),
        (ACCEPT_BUCKET_STEP, delta("venue, le", bucket(accept))),
        (ACCEPT_COUNT_STEP, delta("venue", count(accept))),
        (QUOTE_BUCKET_STEP, delta("venue, le", bucket(quote))),
        (QUOTE_COUNT_STEP, delta("venue", count(quote))),
        (TICKS_STEP, f"{ticks}\nor (vector(0) and on () ({recorded_anything}))"),
        (LOW_EVENTS_STEP, delta("wallet", counter("arb_balance_low_events_total"))),
        (PAUSES_STEP, delta("source", counter("arb_orchestrator_pauses_total"))),
        (PAUSED_STEP, f"max(avg_over_time({gauge('arb_orchestrator_paused')}[{step}]))"),
    ]


def _sum(record: str, window: str, selector: str = "") -> str:
    return f"sum_over_time({record}{selector}[{window}])"


def _share(part: str, whole: str) -> str:
    """`part / (whole > 0)`, with `part` counted as 0 where only `whole` has a series."""
    return f"({part} or {whole} * 0)\n/ ({whole} > 0)"


def _quantile(q: float, buckets: str, counts: str, window: str) -> str:
    return (
        f"histogram_quantile({number(q)}, {_sum(buckets, window)})\n"
        f"and on (venue) ({_sum(counts, window)} > 0)"
    )


def _horizon_rules(cfg: ArbqosConfig, name: str, seconds: int) -> list[tuple[str, str]]:
    step_s = cfg.alerting.kpi_interval_s
    w = duration(seconds - step_s / 2)
    per_step = number(step_s / cfg.heartbeat.interval_s)
    partial = f"sum by (venue) ({_sum(RESULTS_STEP, w, PARTIAL)})"
    results = f"sum by (venue) ({_sum(RESULTS_STEP, w)})"
    rules = {
        FILL_RATIO: f"{_sum(FILLED_STEP, w)}\n/ ({_sum(RESOLVED_STEP, w)} > 0)",
        ACCEPT_P95: _quantile(0.95, ACCEPT_BUCKET_STEP, ACCEPT_COUNT_STEP, w),
        QUOTE_TO_FILL_P95: _quantile(0.95, QUOTE_BUCKET_STEP, QUOTE_COUNT_STEP, w),
        PARTIAL_RATIO: _share(partial, results),
        VOID_RATIO: _share(_sum(VOIDED_STEP, w), _sum(SETTLED_STEP, w)),
        HEARTBEAT_UPTIME: (
            f"clamp_max(\n  {_sum(TICKS_STEP, w)}\n"
            f"  / (count_over_time({TICKS_STEP}[{w}]) * {per_step}),\n  1\n)"
        ),
        LOW_EVENTS: _sum(LOW_EVENTS_STEP, w),
        PAUSES: _sum(PAUSES_STEP, w),
        PAUSED_SECONDS: f"{_sum(PAUSED_STEP, w)} * {number(step_s)}",
    }
    return [(horizon(record, name), rules[record]) for record in HORIZON_RECORDS]


def build_kpi_rules(cfg: ArbqosConfig) -> list[dict[str, str]]:
    """Step records, then every KPI over every horizon of `HORIZONS_S`, in dependency order."""
    rules = _step_rules(cfg)
    for name, seconds in HORIZONS_S.items():
        rules += _horizon_rules(cfg, name, seconds)
    return [{"record": record, "expr": expr} for record, expr in rules]
