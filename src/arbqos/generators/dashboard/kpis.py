"""The KPI row: the story's numbers over the `horizon` variable (24 h by default).

Each stat reads one horizon record of `arbqos.generators.kpi` (the variable picks the
record, `..._${horizon}`), so a panel costs one cheap series per venue whatever the horizon.
The big number is the KPI over the horizon now; the sparkline is how it moved over the time
range.
"""

from __future__ import annotations

from typing import Any

from arbqos.config import ArbqosConfig
from arbqos.generators import kpi
from arbqos.generators.dashboard.exprs import HORIZON, VENUE, WALLET
from arbqos.generators.dashboard.panels import AMBER, GREEN, Pos, Query, Steps, above, below, row
from arbqos.generators.dashboard.stats import stat_panel
from arbqos.generators.promql import number

UPTIME_WARN, UPTIME_MIN = 0.999, 0.99
"""Heartbeat uptime colours: amber below 99.9 %, red below 99 % (about 14 min a day)."""
NEUTRAL = Steps("blue")
ANY_IS_NEWS = Steps(GREEN, ((1, AMBER),))


def _record(name: str, selector: str = VENUE) -> str:
    inner = f"{{{selector}}}" if selector else ""
    return f"{kpi.horizon(name, HORIZON)}{inner}"


def kpi_panels(cfg: ArbqosConfig, y: int) -> list[Any]:
    """The row header at `y` and two lines of stats (ids 8-17)."""
    ex = cfg.exec
    limit_s = ex.p95_accept_time_ms_max / 1000
    top, low = y + 1, y + 5
    step = number(cfg.alerting.kpi_interval_s)
    source = f"Recorded every {step} s by the arbqos_kpi rule group."
    return [
        row(8, "Story KPIs over $horizon", y),
        stat_panel(
            9,
            "p95 accept time ($horizon)",
            Pos(0, top, 4, 4),
            [Query(_record(kpi.ACCEPT_P95), "{{venue}}")],
            description=(
                "95th percentile of submit-to-accepted over the horizon, per venue. Red above "
                f"exec.p95_accept_time_ms_max = {ex.p95_accept_time_ms_max} ms: the threshold "
                "is a bucket boundary, so the colour is exact even where the number is "
                f"interpolated. {source}"
            ),
            unit="s",
            steps=above(limit_s),
        ),
        stat_panel(
            10,
            "Fill ratio ($horizon)",
            Pos(4, top, 4, 4),
            [Query(_record(kpi.FILL_RATIO), "{{venue}}")],
            description=(
                "Filled / requested stake of legs that reached a result, over the horizon. "
                f"Red below exec.fill_ratio_min = {number(ex.fill_ratio_min)}. {source}"
            ),
            unit="percentunit",
            steps=below(ex.fill_ratio_min),
            decimals=1,
        ),
        stat_panel(
            11,
            "Quote to fill p95 ($horizon)",
            Pos(8, top, 4, 4),
            [Query(_record(kpi.QUOTE_TO_FILL_P95), "{{venue}}")],
            description=f"From seeing the quote to the fill being accepted, p95. {source}",
            unit="s",
            steps=NEUTRAL,
        ),
        stat_panel(
            12,
            "Partial fills ($horizon)",
            Pos(12, top, 4, 4),
            [Query(_record(kpi.PARTIAL_RATIO), "{{venue}}")],
            description=f"Share of legs that ended partially filled. {source}",
            unit="percentunit",
            steps=NEUTRAL,
            decimals=1,
        ),
        stat_panel(
            13,
            "Void rate ($horizon)",
            Pos(16, top, 4, 4),
            [Query(_record(kpi.VOID_RATIO), "{{venue}}")],
            description=(
                "Voided / settled bets. Bets settle hours after they are placed, so this "
                f"needs a long horizon (24 h) to mean anything. {source}"
            ),
            unit="percentunit",
            steps=NEUTRAL,
            decimals=2,
        ),
        stat_panel(
            14,
            "Heartbeat uptime ($horizon)",
            Pos(20, top, 4, 4),
            [Query(_record(kpi.HEARTBEAT_UPTIME, ""), "")],
            description=(
                "Completed heartbeat ticks / expected ticks (one every "
                f"{number(cfg.heartbeat.interval_s)} s) while Prometheus recorded. Amber "
                f"below {UPTIME_WARN:.1%}, red below {UPTIME_MIN:.0%}. {source}"
            ),
            unit="percentunit",
            steps=below(UPTIME_MIN, warn=UPTIME_WARN),
            decimals=2,
            names=False,
        ),
        stat_panel(
            15,
            "Balance alerts ($horizon)",
            Pos(0, low, 6, 4),
            [Query(_record(kpi.LOW_EVENTS, WALLET), "{{wallet}}")],
            description=(
                "Times a wallet fell below risk.balance_alert_usd = "
                f"{number(cfg.risk.balance_alert_usd)} USD (arb_balance_low_events_total). "
                f"{source}"
            ),
            steps=ANY_IS_NEWS,
            decimals=0,
        ),
        stat_panel(
            16,
            "Pauses by source ($horizon)",
            Pos(6, low, 12, 4),
            [Query(_record(kpi.PAUSES, ""), "{{source}}")],
            description=(
                "Pause reasons that became active, by who asked: alert (Alertmanager), guard "
                "(in-process QoS), heartbeat, deadman (heartbeat silent), manual, system "
                f"(state store). {source}"
            ),
            steps=ANY_IS_NEWS,
            decimals=0,
        ),
        stat_panel(
            17,
            "Time paused ($horizon)",
            Pos(18, low, 6, 4),
            [Query(_record(kpi.PAUSED_SECONDS, ""), "")],
            description=f"How long trading was paused within the horizon. {source}",
            unit="s",
            steps=ANY_IS_NEWS,
            names=False,
        ),
    ]
