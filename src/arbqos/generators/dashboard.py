"""The Grafana dashboard `dashboards/arb_qos.json`, built with grafana-foundation-sdk.

Panels plot the recording rules over the QoS window (the numbers the alerts and the guard
use) with the configured thresholds drawn as dashed lines; rates of API calls use
`$__rate_interval`. Panel ids and positions are fixed so re-rendering is deterministic.
"""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as models

from arbqos.config import ArbqosConfig
from arbqos.generators import recording as rec
from arbqos.generators.panels import (
    DATASOURCE,
    Pos,
    Query,
    Threshold,
    name_stat_panel,
    table_panel,
    timeseries_panel,
    up_down_timeline_panel,
)
from arbqos.generators.promql import bucket, count, counter, duration, increase_by, number

DASHBOARD_UID = "arbqos-qos"
VENUE = 'venue=~"$venue"'
RATE = "$__rate_interval"


def _v(record: str) -> str:
    """A recording rule filtered by the venue variable."""
    return f"{record}{{{VENUE}}}"


def _qos_panels(cfg: ArbqosConfig) -> list[Any]:
    ex, w = cfg.exec, duration(cfg.exec.qos_window_s)
    threshold_s = ex.p95_accept_time_ms_max / 1000
    return [
        timeseries_panel(
            4,
            "Accept time p50 / p95 by venue and phase",
            Pos(0, 6, 12, 8),
            "s",
            [
                Query(_v(rec.ACCEPT_PHASE_P95), "p95 {{venue}} {{phase}}"),
                Query(_v(rec.ACCEPT_PHASE_P50), "p50 {{venue}} {{phase}}"),
            ],
            description=(
                f"Submit to accepted over the last {w} (histogram_quantile, approximate). "
                f"Dashed line: exec.p95_accept_time_ms_max = {ex.p95_accept_time_ms_max} ms."
            ),
            threshold=Threshold(threshold_s),
        ),
        timeseries_panel(
            5,
            f"Accepts slower than {number(threshold_s)} s (exact, alert input)",
            Pos(12, 6, 12, 8),
            "percentunit",
            [Query(_v(rec.ACCEPT_SLOW_RATIO), "{{venue}}")],
            description=(
                f"Share of accepts in the last {w} above the threshold bucket. Above 5 % "
                f"(dashed) with at least {ex.min_orders_in_window} legs, ArbAcceptTimeP95High "
                "pauses trading."
            ),
            threshold=Threshold(0.05),
            bounds=(0, None),
        ),
        timeseries_panel(
            6,
            "Fill ratio (filled / requested stake)",
            Pos(0, 14, 8, 8),
            "percentunit",
            [Query(_v(rec.FILL_RATIO), "{{venue}}")],
            description=(
                f"Over the last {w}. Below exec.fill_ratio_min = {number(ex.fill_ratio_min)} "
                f"(dashed) with at least {ex.min_orders_in_window} legs, ArbFillRatioLow pauses."
            ),
            threshold=Threshold(ex.fill_ratio_min, bad_below=True),
            bounds=(0, 1),
        ),
        timeseries_panel(
            7,
            "Partial fills and order errors (share of results)",
            Pos(8, 14, 8, 8),
            "percentunit",
            [
                Query(_v(rec.PARTIAL_RATIO), "partial {{venue}}"),
                Query(_v(rec.ERROR_RATIO), "error {{venue}}"),
            ],
            description=f"Share of terminal order results over the last {w}.",
            bounds=(0, None),
        ),
        timeseries_panel(
            8,
            "Void rate (voided / settled bets)",
            Pos(16, 14, 8, 8),
            "percentunit",
            [Query(_v(rec.VOID_RATIO), "{{venue}}")],
            description=f"Accepted bets later voided by the venue, over the last {w}.",
            bounds=(0, None),
        ),
        timeseries_panel(
            9,
            "Quote to fill time p95",
            Pos(0, 22, 8, 8),
            "s",
            [Query(_v(rec.QUOTE_TO_FILL_P95), "p95 {{venue}}")],
            description=f"From observing the quote to the fill being accepted, last {w}.",
        ),
        timeseries_panel(
            10,
            "Slippage quote to fill (basis points, positive = worse)",
            Pos(8, 22, 8, 8),
            "suffix:bp",
            [
                Query(_v(rec.SLIPPAGE_P95), "p95 {{venue}}"),
                Query(_v(rec.SLIPPAGE_P50), "p50 {{venue}}"),
            ],
            description=f"Filled vs quoted implied probability, last {w}.",
        ),
        timeseries_panel(
            11,
            "Legs submitted and results in the window",
            Pos(16, 22, 8, 8),
            "short",
            [
                Query(_v(rec.ORDERS_WINDOW), "submitted {{venue}}"),
                Query(_v(rec.RESULTS_BY_RESULT_WINDOW), "{{result}} {{venue}}"),
            ],
            description=(
                f"Counts over the last {w}. QoS alerts are armed from "
                f"exec.min_orders_in_window = {ex.min_orders_in_window} submitted legs (dashed)."
            ),
            threshold=Threshold(ex.min_orders_in_window, bad_below=True),
        ),
    ]


def _api_errors_by_class(window: str) -> str:
    """Share of an endpoint's calls that failed with each error class, only classes seen.

    Endpoints without calls in the window have no denominator series, so no NaN; `> 0` drops
    the error classes that did not occur (every class is pre-initialised at zero).
    """
    errors = counter("arb_venue_request_errors_total") + f"{{{VENUE}}}"
    calls = count("arb_venue_request_duration_seconds") + f"{{{VENUE}}}"
    return (
        f"{increase_by('venue, endpoint, error', errors, window)}\n"
        "/ on (venue, endpoint) group_left\n"
        f"sum by (venue, endpoint) (increase({calls}[{window}]) > 0)\n"
        "> 0"
    )


def _venue_api_panels(cfg: ArbqosConfig) -> list[Any]:
    w = duration(cfg.exec.qos_window_s)
    cap = cfg.risk.stake_pct_cap
    requests = "arb_venue_request_duration_seconds"
    stake = "arb_stake_fraction_of_bank"
    return [
        timeseries_panel(
            12,
            "Venue API error ratio by endpoint",
            Pos(0, 30, 8, 8),
            "percentunit",
            [Query(_v(rec.API_ERROR_RATIO), "{{venue}} {{endpoint}}")],
            description=f"Failed / all calls of each endpoint over the last {w}.",
            bounds=(0, None),
        ),
        timeseries_panel(
            13,
            "Venue API errors by class (share of calls)",
            Pos(8, 30, 8, 8),
            "percentunit",
            [Query(_api_errors_by_class(w), "{{venue}} {{endpoint}} {{error}}")],
            description=(
                f"Failed calls of each error class / all calls of the endpoint over the last {w}; "
                "only classes that occurred. An endpoint's classes add up to its error ratio."
            ),
            bounds=(0, None),
        ),
        timeseries_panel(
            14,
            "Venue API latency p95 by endpoint",
            Pos(16, 30, 8, 8),
            "s",
            [
                Query(
                    "histogram_quantile(0.95, sum by (venue, endpoint, le) "
                    f"(rate({bucket(requests)}{{{VENUE}}}[{RATE}])))",
                    "{{venue}} {{endpoint}}",
                )
            ],
            description="Venue API and RPC call latency, p95 per endpoint.",
        ),
        timeseries_panel(
            15,
            "Wallet balances",
            Pos(0, 38, 12, 8),
            "currencyUSD",
            [
                Query(
                    'min by (wallet, chain, token) (arb_wallet_balance_usd{wallet=~"$venue"})',
                    "{{wallet}} {{token}} on {{chain}}",
                )
            ],
            description=(
                f"Below risk.balance_alert_usd = {number(cfg.risk.balance_alert_usd)} USD "
                "(dashed), ArbWalletBalanceLow fires. arbqos never moves funds."
            ),
            threshold=Threshold(cfg.risk.balance_alert_usd, bad_below=True),
            bounds=(0, None),
        ),
        timeseries_panel(
            16,
            "Stake per leg as a share of the bank (p99) and legs above the cap",
            Pos(12, 38, 12, 8),
            "percentunit",
            [
                Query(
                    "histogram_quantile(0.99, sum by (venue, le) "
                    f"(rate({bucket(stake)}{{{VENUE}}}[{RATE}])))\nand on (venue) "
                    f"(sum by (venue) (increase({count(stake)}{{{VENUE}}}[{RATE}])) > 0)",
                    "p99 {{venue}}",
                ),
                Query(
                    _v(rec.STAKE_ABOVE_CAP_WINDOW),
                    f"legs above cap in {w} {{{{venue}}}}",
                ),
            ],
            description=(
                f"Dashed: risk.stake_pct_cap = {number(cap)}. B (right axis): legs above the cap "
                f"in the last {w}; any, and ArbStakeCapExceeded fires."
            ),
            threshold=Threshold(cap),
            right_axis={"B": "short"},
            bounds=(0, None),
        ),
    ]


def _infra_panels(cfg: ArbqosConfig) -> list[Any]:
    hb_limit = cfg.alerting.heartbeat_stale_intervals * cfg.heartbeat.interval_s
    bw_limit = cfg.alerting.heartbeat_stale_intervals * cfg.balance_watcher.poll_interval_s
    return [
        timeseries_panel(
            17,
            "Gas price by chain",
            Pos(0, 46, 8, 8),
            "suffix:gwei",
            [Query("max by (chain) (arb_gas_price_gwei)", "{{chain}}")],
            description="Latest gas price read by the heartbeat.",
        ),
        up_down_timeline_panel(
            18,
            "RPC and sequencer up by chain",
            Pos(8, 46, 8, 8),
            [
                Query("min by (chain) (arb_rpc_up)", "rpc {{chain}}"),
                Query("min by (chain) (arb_sequencer_up)", "sequencer {{chain}}"),
            ],
            description=(
                "One row per chain and check: up or down (the lowest value any exporter "
                "reports). ArbRpcDown (sx_rollup) and ArbSequencerDown (arbitrum) pause trading."
            ),
        ),
        timeseries_panel(
            19,
            "Chain head age",
            Pos(16, 46, 8, 8),
            "s",
            [Query("min by (chain) (arb_chain_head_age_seconds)", "{{chain}}")],
            description="Now minus the latest block timestamp, per chain.",
        ),
        timeseries_panel(
            20,
            "Heartbeat and balance watcher age",
            Pos(0, 54, 12, 8),
            "s",
            [
                Query("time() - max(arb_heartbeat_last_tick_timestamp_seconds > 0)", "heartbeat"),
                Query(
                    "time() - max(arb_balance_watcher_last_poll_timestamp_seconds > 0)",
                    "balance watcher",
                ),
            ],
            description=(
                f"Seconds since the last completed run. Dashed: heartbeat stale limit "
                f"{number(hb_limit)} s (ArbHeartbeatStale pauses); balance watcher limit "
                f"{number(bw_limit)} s."
            ),
            threshold=Threshold(hb_limit),
            bounds=(0, None),
        ),
        up_down_timeline_panel(
            21,
            "Heartbeat probe success by target",
            Pos(12, 54, 12, 8),
            [Query("min by (target) (arb_probe_success)", "{{target}}")],
            description="One row per target: ok when the last probe of the target succeeded.",
            states=("ok", "failed"),
        ),
    ]


def _state_panels() -> list[Any]:
    return [
        timeseries_panel(
            1,
            "Trading paused (orchestrator)",
            Pos(0, 0, 12, 6),
            "short",
            [
                Query("max(arb_orchestrator_paused)", "paused (1) / running (0)"),
                Query(
                    f"sum by (source) (increase(arb_orchestrator_pauses_total[{RATE}]))",
                    "pause requests from {{source}}",
                ),
            ],
            description="Pause state on the same time axis as the QoS and balance panels.",
            bounds=(0, None),
            step=True,
            right_axis={"B": "short"},
        ),
        name_stat_panel(
            2,
            "Config hash by service",
            Pos(12, 0, 6, 6),
            Query(
                "max by (service, config_hash, sources) (arb_config_info)",
                "{{service}}: {{config_hash}} ({{sources}})",
                instant=True,
            ),
            description="arb_config_info: the config hash each service runs with and the "
            "layers that set it. More than one hash fires ArbConfigDrift.",
        ),
        table_panel(
            3,
            "Alerts firing",
            Pos(18, 0, 6, 6),
            Query(
                'sum by (alertname, severity, action) (ALERTS{alertstate="firing"})',
                "{{alertname}}",
                instant=True,
                table=True,
            ),
            description="Alerts Prometheus currently reports as firing.",
        ),
    ]


def build_dashboard(cfg: ArbqosConfig) -> dict[str, Any]:
    """Return the dashboard as a JSON-ready dict."""
    ex = cfg.exec
    venue = (
        dashboard_builders.QueryVariable("venue")
        .id("venue")
        .label("Venue")
        .datasource(DATASOURCE)
        .query("label_values(arb_orders_submitted_total, venue)")
        .refresh(models.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(models.VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .current(models.VariableOption(selected=True, text="All", value="$__all"))
    )
    paused = (
        dashboard_builders.AnnotationQuery()
        .name("Trading paused")
        .datasource(DATASOURCE)
        .enable(True)
        .icon_color("red")
        .expr("max(arb_orchestrator_paused) == 1")
    )
    builder = (
        dashboard_builders.Dashboard("arbqos: execution quality")
        .uid(DASHBOARD_UID)
        .description(
            "Generated by `arbqos render` from the arbqos config. Thresholds: fill ratio >= "
            f"{number(ex.fill_ratio_min)}, p95 accept time <= {ex.p95_accept_time_ms_max} ms, "
            f"window {duration(ex.qos_window_s)}, min {ex.min_orders_in_window} legs."
        )
        .tags(["arbqos", "trading", "qos"])
        .timezone("utc")
        .time("now-1h", "now")
        .refresh("5s")
        .tooltip(models.DashboardCursorSync.CROSSHAIR)
        .with_variable(
            dashboard_builders.DatasourceVariable("datasource")
            .id("datasource")
            .label("Data source")
            .type("prometheus")
        )
        .with_variable(venue)
        .annotation(paused)
    )
    for panel in [
        *_state_panels(),
        *_qos_panels(cfg),
        *_venue_api_panels(cfg),
        *_infra_panels(cfg),
    ]:
        builder = builder.with_panel(panel)
    document: dict[str, Any] = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    return document
