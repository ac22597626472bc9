"""The single source of metric names, types, help text, label sets and buckets (contract §4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from prometheus_client.utils import floatToGoString

from arbqos.vocab import Chain, OrderResult, PauseSource, Phase, Venue

# Label values as plain strings (the enums in `arbqos.vocab` are the source).
VENUES: tuple[str, ...] = tuple(v.value for v in Venue)
PHASES: tuple[str, ...] = tuple(p.value for p in Phase)
CHAINS: tuple[str, ...] = tuple(c.value for c in Chain)
ORDER_RESULTS: tuple[str, ...] = tuple(r.value for r in OrderResult)
PAUSE_SOURCES: tuple[str, ...] = tuple(s.value for s in PauseSource)
HEARTBEAT_RESULTS: tuple[str, ...] = ("ok", "degraded")
NOTIFICATION_RESULTS: tuple[str, ...] = ("sent", "failed", "dropped")

MetricType = Literal["counter", "gauge", "histogram"]


@dataclass(frozen=True)
class MetricSpec:
    """Name, type, help and label names of one metric; the exposition name is `name`."""

    name: str
    type: MetricType
    help: str
    labels: tuple[str, ...] = ()


def _spec(name: str, type_: MetricType, help_: str, *labels: str) -> MetricSpec:
    return MetricSpec(name=name, type=type_, help=help_, labels=tuple(labels))


METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        # Execution (instrumentation library)
        _spec("arb_orders_submitted_total", "counter", "Order legs submitted.", "venue"),
        _spec(
            "arb_order_results_total",
            "counter",
            "Terminal result of submitted legs (filled, partial, rejected, expired, error).",
            "venue",
            "result",
        ),
        _spec("arb_stake_requested_usd_total", "counter", "Stake asked for, USD.", "venue"),
        _spec("arb_stake_filled_usd_total", "counter", "Stake accepted, USD.", "venue"),
        _spec(
            "arb_stake_resolved_usd_total",
            "counter",
            "Stake asked for by legs that reached a terminal result, USD: the fill ratio's "
            "denominator, so legs still in flight never count as unfilled.",
            "venue",
        ),
        _spec(
            "arb_accept_time_seconds",
            "histogram",
            "Time from submitting a leg to the venue accepting it.",
            "venue",
            "phase",
        ),
        _spec(
            "arb_quote_to_fill_seconds",
            "histogram",
            "Time from observing the quote to the fill being accepted.",
            "venue",
        ),
        _spec(
            "arb_quote_to_fill_slippage_bps",
            "histogram",
            "Filled vs quoted implied probability in basis points; positive is worse for us.",
            "venue",
        ),
        _spec(
            "arb_bets_voided_total", "counter", "Accepted bets later voided by the venue.", "venue"
        ),
        _spec(
            "arb_bets_settled_total", "counter", "Accepted bets settled (won, lost, void).", "venue"
        ),
        _spec(
            "arb_stake_fraction_of_bank",
            "histogram",
            "Each leg's stake as a fraction of the bank.",
            "venue",
        ),
        _spec(
            "arb_stake_unchecked_total",
            "counter",
            "Legs submitted while the engine knew no bank, so their stake was not checked "
            "against risk.stake_pct_cap (arb_stake_fraction_of_bank did not see them).",
            "venue",
        ),
        _spec(
            "arb_engine_bank_usd",
            "gauge",
            "The bank the engine divides each leg's stake by, USD; 0 while no bank is known.",
        ),
        _spec(
            "arb_engine_bank_known",
            "gauge",
            "1 while the engine knows the bank, so each stake is checked against "
            "risk.stake_pct_cap; 0 while it does not (a wallet's balance missing from the "
            "registry or older than risk.bank_max_age_s).",
        ),
        _spec(
            "arb_venue_request_duration_seconds",
            "histogram",
            "Venue API and RPC call latency.",
            "venue",
            "endpoint",
        ),
        _spec(
            "arb_venue_request_errors_total",
            "counter",
            "Failed venue API and RPC calls by error class.",
            "venue",
            "endpoint",
            "error",
        ),
        # Runtime registry, heartbeat, balance watcher, orchestrator
        _spec("arb_gas_price_gwei", "gauge", "Latest gas price, gwei.", "chain"),
        _spec("arb_chain_head_block", "gauge", "Latest block number.", "chain"),
        _spec("arb_chain_head_age_seconds", "gauge", "Now minus latest block timestamp.", "chain"),
        _spec(
            "arb_rpc_up",
            "gauge",
            "1 when the chain RPC answered correctly (right chain id) at the last probe.",
            "chain",
        ),
        _spec("arb_sequencer_up", "gauge", "1 when the chain's sequencer is up, 0 down.", "chain"),
        _spec(
            "arb_wallet_balance_usd",
            "gauge",
            "Latest wallet balance, USD.",
            "wallet",
            "chain",
            "token",
        ),
        _spec(
            "arb_probe_success",
            "gauge",
            "1 when the heartbeat probe of the target succeeded.",
            "target",
        ),
        _spec("arb_probe_duration_seconds", "histogram", "Heartbeat probe latency.", "target"),
        _spec(
            "arb_heartbeat_last_tick_timestamp_seconds",
            "gauge",
            "Unix time of the last completed heartbeat tick.",
        ),
        _spec(
            "arb_heartbeat_tick_lateness_seconds",
            "histogram",
            "Actual start minus scheduled start of each heartbeat tick.",
        ),
        _spec(
            "arb_balance_watcher_last_poll_timestamp_seconds",
            "gauge",
            "Unix time of the last completed balance poll.",
        ),
        _spec(
            "arb_balance_low_events_total",
            "counter",
            "Times a wallet crossed below the balance alert floor.",
            "wallet",
        ),
        _spec(
            "arb_balance_read_errors_total",
            "counter",
            "Failed wallet balance reads by class (timeout, connect, decimals_mismatch, ...).",
            "wallet",
            "error",
        ),
        _spec(
            "arb_wallet_balance_age_seconds",
            "gauge",
            "Seconds since the wallet balance was last read successfully.",
            "wallet",
        ),
        _spec(
            "arb_wallet_balance_low",
            "gauge",
            "1 while the wallet is below the balance floor (with recovery hysteresis).",
            "wallet",
        ),
        _spec(
            "arb_heartbeat_ticks_total",
            "counter",
            "Completed heartbeat ticks; ok when every target succeeded, else degraded.",
            "result",
        ),
        _spec(
            "arb_config_info",
            "gauge",
            "Configuration each service runs with (value 1).",
            "service",
            "config_hash",
            "sources",
        ),
        _spec("arb_orchestrator_paused", "gauge", "1 when trading is paused, 0 when running."),
        _spec(
            "arb_orchestrator_reason_since_timestamp_seconds",
            "gauge",
            "Unix time each listed pause reason became active (one series per reason).",
            "source",
            "reason",
            "class",
            "active",
        ),
        _spec(
            "arb_orchestrator_auto_resumes_total",
            "counter",
            "Automatic resumes after every infrastructure reason recovered.",
        ),
        _spec(
            "arb_orchestrator_state_persisted",
            "gauge",
            "1 when the pause state in memory is on disk, 0 while the store fails (fail closed).",
        ),
        _spec(
            "arb_orchestrator_pauses_total",
            "counter",
            "Pause requests by source and reason.",
            "source",
            "reason",
        ),
        _spec(
            "arb_notifications_total",
            "counter",
            "Notices per channel by result: sent, failed (retries exhausted) or dropped (queue "
            "full while the channel failed); channel is a safe label like tgram#1, never a URL.",
            "channel",
            "result",
        ),
        _spec(
            "arb_alerting_pipeline_up",
            "gauge",
            "1 while ArbWatchdog keeps arriving from Alertmanager (or within the start-up "
            "grace), 0 when it has been silent longer than orchestrator.watchdog_timeout_s.",
        ),
        _spec(
            "arb_config_last_reload_successful",
            "gauge",
            "1 when the last configuration reload succeeded.",
            "service",
        ),
        _spec(
            "arb_config_last_reload_success_timestamp_seconds",
            "gauge",
            "Unix time of the last successful configuration reload.",
            "service",
        ),
    )
}

# Buckets that resolve SX Bet's betting delays (0.5 s pregame, 3-10 s live) up to 30 s.
ACCEPT_TIME_BASE_BUCKETS_S: tuple[float, ...] = (
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    1.5,
    2.0,
    3.0,
    4.0,
    5.0,
    6.0,
    8.0,
    10.0,
    12.0,
    15.0,
    20.0,
    30.0,
    60.0,
)
STAKE_FRACTION_BASE_BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.02,
    0.03,
    0.05,
    0.075,
    0.1,
    0.15,
    0.2,
    0.3,
    0.5,
    1.0,
)
QUOTE_TO_FILL_BUCKETS_S: tuple[float, ...] = (
    0.25,
    0.5,
    1.0,
    2.0,
    3.0,
    5.0,
    8.0,
    10.0,
    15.0,
    20.0,
    30.0,
    60.0,
)
SLIPPAGE_BPS_BUCKETS: tuple[float, ...] = (
    -100.0,
    -50.0,
    -20.0,
    -10.0,
    -5.0,
    0.0,
    5.0,
    10.0,
    20.0,
    50.0,
    100.0,
    200.0,
    500.0,
)
REQUEST_DURATION_BUCKETS_S: tuple[float, ...] = (
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    15.0,
    30.0,
)
PROBE_DURATION_BUCKETS_S: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    20.0,
)
TICK_LATENESS_BUCKETS_S: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.02,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    5.0,
)


def _with_threshold(base: tuple[float, ...], threshold: float) -> tuple[float, ...]:
    """Return `base` plus `threshold`, sorted, with a finite bucket kept above the threshold."""
    bounds = sorted(set(base) | {threshold})
    if bounds[-1] == threshold:
        bounds.append(threshold * 2)
    return tuple(bounds)


def accept_time_buckets(p95_accept_time_ms_max: int) -> tuple[float, ...]:
    """Accept-time buckets, including `p95_accept_time_ms_max / 1000` exactly (not the largest)."""
    return _with_threshold(ACCEPT_TIME_BASE_BUCKETS_S, p95_accept_time_ms_max / 1000)


def stake_fraction_buckets(stake_pct_cap: float) -> tuple[float, ...]:
    """Stake-fraction buckets, including `stake_pct_cap` exactly."""
    return _with_threshold(STAKE_FRACTION_BASE_BUCKETS, stake_pct_cap)


def format_le(bound: float) -> str:
    """Render a bucket bound exactly as prometheus_client writes the `le` label (`1.0`, `0.25`).

    PromQL matchers must use this string: `le="1"` matches nothing when the client wrote `1.0`.
    """
    return str(floatToGoString(bound))  # type: ignore[no-untyped-call]
