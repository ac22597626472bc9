"""Chains and probes: freshness of the heartbeat and the watcher, gas, RPC and sequencer health,
head age, probe results and latency.

Chain values come from the heartbeat and from the orchestrator's registry (fed by heartbeat
reports). The registry keeps the last value when reports stop, so while the heartbeat is
stale these values are drawn grey (`(stale)` in the legend) or as `stale` rows, never as live.
"""

from __future__ import annotations

from typing import Any

from arbqos.config import ArbqosConfig
from arbqos.generators.dashboard.exprs import HEARTBEAT_AGE, POLL_AGE, RATE, Limits
from arbqos.generators.dashboard.panels import (
    AMBER,
    GREEN,
    GREY,
    RED,
    Override,
    Pos,
    Query,
    States,
    Steps,
    Threshold,
    row,
    timeline_panel,
    timeseries_panel,
)
from arbqos.generators.dashboard.stats import stat_panel
from arbqos.generators.promql import bucket, count, gauge, number

STALE = 2
"""Value of an up/down row while the heartbeat is stale (mapped to `stale`, grey)."""
CHAIN_STATES = States({"1": ("up", GREEN), "0": ("down", RED), str(STALE): ("stale", GREY)})
GREY_LINE = {"color": {"mode": "fixed", "fixedColor": GREY}}


def _fresh_or_stale(expr: str, limits: Limits) -> tuple[str, str]:
    """`expr` while the heartbeat is fresh, and `expr` while it is stale (for another colour)."""
    return f"{expr}\n{limits.heartbeat_fresh()}", f"{expr}\n{limits.heartbeat_stale()}"


def _up_rows(metric: str, limits: Limits) -> str:
    """min by chain of an up gauge, or `STALE` for every chain while the heartbeat is stale."""
    value = f"min by (chain) ({gauge(metric)})"
    return f"({value}\n{limits.heartbeat_fresh()})\nor {value} * 0 + {STALE}"


def chain_panels(cfg: ArbqosConfig, y: int) -> list[Any]:
    """The row header at `y` and its panels (ids 38-45)."""
    limits = Limits.of(cfg)
    hb, bw = limits.heartbeat_stale_s, limits.poll_stale_s
    gas_live, gas_stale = _fresh_or_stale("max by (chain) (arb_gas_price_gwei)", limits)
    lateness, probe = "arb_heartbeat_tick_lateness_seconds", "arb_probe_duration_seconds"
    return [
        row(38, "Chains, probes and data age", y),
        stat_panel(
            39,
            "Heartbeat and poll age",
            Pos(0, y + 1, 4, 8),
            [Query(HEARTBEAT_AGE, "heartbeat tick"), Query(POLL_AGE, "balance poll")],
            description=(
                f"Seconds since the last completed run. Heartbeat: amber past two intervals "
                f"({number(2 * limits.heartbeat_interval_s)} s), red past {number(hb)} s "
                "(ArbHeartbeatStale pauses; chain values on this row turn stale). Balance "
                f"watcher: amber past two polls, red past {number(bw)} s."
            ),
            unit="s",
            steps=Steps(GREEN, ((2 * limits.heartbeat_interval_s, AMBER), (hb, RED))),
            decimals=0,
            no_value="NO DATA",
            overrides=[
                Override(
                    "B",
                    props={
                        "thresholds": Steps(
                            GREEN, ((2 * limits.poll_interval_s, AMBER), (bw, RED))
                        ).model()
                    },
                )
            ],
        ),
        timeseries_panel(
            40,
            "Gas price by chain",
            Pos(4, y + 1, 7, 8),
            "suffix:gwei",
            [Query(gas_live, "{{chain}}"), Query(gas_stale, "{{chain}} (stale)")],
            description="Latest gas price read by the heartbeat; grey while it is stale.",
            overrides=[Override("B", props=GREY_LINE)],
        ),
        timeline_panel(
            41,
            "RPC and sequencer up by chain",
            Pos(11, y + 1, 7, 8),
            [
                Query(_up_rows("arb_rpc_up", limits), "rpc {{chain}}"),
                Query(_up_rows("arb_sequencer_up", limits), "sequencer {{chain}}"),
            ],
            description=(
                "One row per chain and check: up or down (the lowest value any exporter "
                "reports), stale while the heartbeat is. ArbRpcDown (sx_rollup) and "
                "ArbSequencerDown (arbitrum, sx_rollup) pause trading."
            ),
            states=CHAIN_STATES,
        ),
        timeseries_panel(
            42,
            "Chain head age",
            Pos(18, y + 1, 6, 8),
            "s",
            [Query("min by (chain) (arb_chain_head_age_seconds)", "{{chain}}")],
            description="Now minus the latest block timestamp, per chain.",
            bounds=(0, None),
        ),
        timeline_panel(
            43,
            "Heartbeat probe success by target",
            Pos(0, y + 9, 8, 8),
            [Query("min by (target) (arb_probe_success)", "{{target}}")],
            description="One row per target: ok when the last probe of the target succeeded.",
            states=States({"1": ("ok", GREEN), "0": ("failed", RED)}),
        ),
        timeseries_panel(
            44,
            "Probe latency p95 by target and tick lateness p99",
            Pos(8, y + 9, 8, 8),
            "s",
            [
                Query(
                    "histogram_quantile(0.95, sum by (target, le) "
                    f"(rate({bucket(probe)}[{RATE}])))",
                    "{{target}}",
                ),
                Query(
                    f"histogram_quantile(0.99, sum by (le) (rate({bucket(lateness)}[{RATE}])))\n"
                    f"and on () (sum(increase({count(lateness)}[{RATE}])) > 0)",
                    "tick lateness p99",
                ),
            ],
            description=(
                f"Each probe runs under heartbeat.probe_timeout_s = "
                f"{number(cfg.heartbeat.probe_timeout_s)} s (dashed). Tick lateness: actual "
                "minus scheduled start of a tick; it stays small when no probe can delay a tick."
            ),
            threshold=Threshold(cfg.heartbeat.probe_timeout_s),
            bounds=(0, None),
        ),
        timeseries_panel(
            45,
            "Notifications by channel and result",
            Pos(16, y + 9, 8, 8),
            "short",
            [
                Query(
                    f"sum by (channel, result) (increase(arb_notifications_total[{RATE}])) > 0",
                    "{{channel}} {{result}}",
                )
            ],
            description=(
                "Messages the orchestrator sent to people per interval, by channel: sent, "
                "failed (the channel refused or timed out) or dropped (queue full). Failed or "
                "dropped: people may not know about a pause."
            ),
            bars=True,
            bounds=(0, None),
            no_value="no notification in the range",
        ),
    ]
