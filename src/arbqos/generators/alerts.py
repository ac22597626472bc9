"""Alerting rules of contract §5 (plus a few notify-only warnings), thresholds from the config.

Design choices an operator should know:

- QoS ratios are computed from `increase()` over `exec.qos_window_s` and summed by venue, so
  restarts of the engine and several engine replicas are handled, and the alert labels are
  only `venue`, `severity` and `action`. Denominators are filtered with `> 0` and every QoS
  alert also needs `exec.min_orders_in_window` submitted legs: an idle bot fires nothing.
- `ArbAcceptTimeP95High` is the exact form on the bucket at the threshold (a bucket boundary
  by construction, see `accept_time_buckets`), written as `(count - bucket) / count` so that
  exactly 5 % slow accepts do not fire (`1 - 0.95` is 0.050000000000000044 in floating point).
- `arb_rpc_up`, `arb_sequencer_up`, `arb_wallet_balance_usd` and the chain gauges are exported
  both by the prober that measured them and by the orchestrator's registry (fed by reports).
  Alerts take `min by (chain)` (or by wallet): one alert per chain, not one per job, and a
  "down" seen by either exporter counts (fail closed).
- `ArbHeartbeatStale` has two rules. `cause="tick_age"`: the newest tick timestamp seen by
  any job is older than the stale limit. `cause="absent"`: no completed tick during the stale
  limit (the heartbeat died, its target vanished from service discovery, or it exports only
  the initial 0 because no tick has completed since it started), gated on
  Prometheus having scraped anything one stale limit ago, so a fresh Prometheus does not pause
  trading before its first scrape. No `job` matcher: job names differ between the static
  scrape config and the Prometheus Operator (where `job` is the Service name).
- `for`: `alerting.pause_for_s` on pause alerts, `alerting.warn_for_s` on level warnings.
  ArbStakeCapExceeded and ArbWatchdog have none: a leg above the cap is an event that stays
  in the window for `exec.qos_window_s`, and waiting would only delay (or, with a `for`
  longer than the window, suppress) it.
"""

from __future__ import annotations

from typing import Any

from arbqos.config import ArbqosConfig
from arbqos.generators.promql import bucket, count, counter, duration, gauge, increase_by, number
from arbqos.metrics.definitions import CHAINS
from arbqos.vocab import AlertName, Chain

Rule = dict[str, Any]

PAUSE, NOTIFY = True, False


def alert(
    name: str,
    expr: str,
    *,
    severity: str,
    for_s: float,
    summary: str,
    description: str,
    pause: bool,
    labels: dict[str, str] | None = None,
) -> Rule:
    """Build one alerting rule; `pause` adds `action="pause"` (routed to the orchestrator)."""
    all_labels = {"severity": severity}
    if pause:
        all_labels["action"] = "pause"
    all_labels.update(labels or {})
    return {
        "alert": name,
        "expr": expr,
        "for": duration(for_s),
        "labels": all_labels,
        "annotations": {"summary": summary, "description": description},
    }


def _orders_gate(cfg: ArbqosConfig, window: str) -> str:
    orders = increase_by("venue", counter("arb_orders_submitted_total"), window)
    return f"and on (venue)\n{orders} >= {cfg.exec.min_orders_in_window}"


def build_qos_alerts(cfg: ArbqosConfig) -> list[Rule]:
    """Return ArbFillRatioLow, ArbAcceptTimeP95High and ArbStakeCapExceeded."""
    ex, w = cfg.exec, duration(cfg.exec.qos_window_s)
    pause_for = cfg.alerting.pause_for_s
    fill_min, min_orders = number(ex.fill_ratio_min), ex.min_orders_in_window
    threshold_s = ex.p95_accept_time_ms_max / 1000
    accepts = increase_by("venue", count("arb_accept_time_seconds"), w)
    fast = increase_by("venue", bucket("arb_accept_time_seconds", threshold_s), w)
    stake = "arb_stake_fraction_of_bank"
    cap = cfg.risk.stake_pct_cap
    gate_text = f"with at least {min_orders} legs submitted in the window"
    return [
        alert(
            "ArbFillRatioLow",
            f"{increase_by('venue', counter('arb_stake_filled_usd_total'), w)}\n"
            f"/ ({increase_by('venue', counter('arb_stake_resolved_usd_total'), w)} > 0)\n"
            f"< {fill_min}\n{_orders_gate(cfg, w)}",
            severity="critical",
            for_s=pause_for,
            pause=PAUSE,
            summary=f"{{{{ $labels.venue }}}} fill ratio below {fill_min} over {w}",
            description=(
                f"Filled/requested stake of the legs resolved on {{{{ $labels.venue }}}} over the "
                f"last {w} is "
                f'{{{{ printf "%.3f" $value }}}}, below exec.fill_ratio_min {fill_min} '
                f"({gate_text}). Trading is paused."
            ),
        ),
        alert(
            "ArbAcceptTimeP95High",
            f"({accepts}\n - {fast})\n/ ({accepts} > 0)\n> 0.05\n{_orders_gate(cfg, w)}",
            severity="critical",
            for_s=pause_for,
            pause=PAUSE,
            summary=(
                f"{{{{ $labels.venue }}}} p95 accept time above "
                f"{ex.p95_accept_time_ms_max} ms over {w}"
            ),
            description=(
                f'{{{{ printf "%.3f" $value }}}} of the accepts on {{{{ $labels.venue }}}} '
                f"in the last {w} took longer than {number(threshold_s)} s (limit 0.05, i.e. "
                f"p95 <= exec.p95_accept_time_ms_max {ex.p95_accept_time_ms_max} ms; "
                f"{gate_text}). Trading is paused."
            ),
        ),
        alert(
            "ArbStakeCapExceeded",
            f"{increase_by('venue', count(stake), w)}\n"
            f"- {increase_by('venue', bucket(stake, cap), w)}\n> 0",
            severity="warning",
            for_s=0,
            pause=NOTIFY,
            summary=f"{{{{ $labels.venue }}}} leg above the stake cap {number(cap)} of the bank",
            description=(
                f'{{{{ printf "%.0f" $value }}}} leg(s) on {{{{ $labels.venue }}}} in the last '
                f"{w} staked more than risk.stake_pct_cap {number(cap)} of the bank. "
                "Check the sizing logic."
            ),
        ),
    ]


def stale_rules(
    name: str,
    metric: str,
    limit_s: float,
    *,
    what: str,
    severity: str,
    for_s: float,
    pause: bool,
) -> list[Rule]:
    """Two rules named `name`: `cause="tick_age"` (timestamp too old), `cause="absent"`.

    A timestamp of 0 is a process that has not completed its first run yet: it is not a tick.
    """
    limit, metric = duration(limit_s), gauge(metric)
    consequence = " Trading is paused." if pause else ""
    return [
        alert(
            name,
            f"time() - max({metric} > 0)\n> {number(limit_s)}",
            severity=severity,
            for_s=for_s,
            pause=pause,
            labels={"cause": "tick_age"},
            summary=f"{what} stale: last completed run older than {limit}",
            description=(
                f'The last {what} run finished {{{{ printf "%.0f" $value }}}} s ago, '
                f"more than {number(limit_s)} s ({metric}).{consequence}"
            ),
        ),
        alert(
            name,
            f"(\n  absent_over_time({metric}[{limit}])\n"
            f"  or max(max_over_time({metric}[{limit}])) <= 0\n)\n"
            f"and on () (count(up offset {limit}) > 0)",
            severity=severity,
            for_s=for_s,
            pause=pause,
            labels={"cause": "absent"},
            summary=f"no completed {what} run for {limit}",
            description=(
                f"No completed {what} run recorded in {metric} during the last {limit}: the "
                f"process is down, no longer scraped, or stuck since it started.{consequence}"
            ),
        ),
    ]


def build_infra_alerts(cfg: ArbqosConfig) -> list[Rule]:
    """Return the chain, heartbeat, wallet, config and watchdog alerts."""
    al = cfg.alerting
    hb_limit = al.heartbeat_stale_intervals * cfg.heartbeat.interval_s
    bw_limit = al.heartbeat_stale_intervals * cfg.balance_watcher.poll_interval_s
    floor = number(cfg.risk.balance_alert_usd)
    other_chains = "|".join(c for c in CHAINS if c != "sx_rollup")
    chain_targets = "|".join(CHAINS)
    rules = [
        *_sequencer_rules(cfg),
        alert(
            "ArbRpcDown",
            f'min by (chain) ({gauge("arb_rpc_up")}{{chain="sx_rollup"}}) == 0',
            severity="critical",
            for_s=al.pause_for_s,
            pause=PAUSE,
            summary="SX Rollup RPC down",
            description=(
                'arb_rpc_up{chain="sx_rollup"} is 0: no configured SX Rollup RPC answered with '
                "chain id 4162 at the last probe. Trading is paused."
            ),
        ),
        *stale_rules(
            "ArbHeartbeatStale",
            "arb_heartbeat_last_tick_timestamp_seconds",
            hb_limit,
            what="heartbeat",
            severity="critical",
            for_s=al.pause_for_s,
            pause=PAUSE,
        ),
        alert(
            "ArbWalletBalanceLow",
            f"min by (wallet, chain, token) ({gauge('arb_wallet_balance_usd')}) < {floor}",
            severity="warning",
            for_s=al.warn_for_s,
            pause=NOTIFY,
            summary="{{ $labels.wallet }} wallet below " + floor + " USD",
            description=(
                "The {{ $labels.wallet }} wallet on {{ $labels.chain }} holds "
                '{{ printf "%.2f" $value }} USD of {{ $labels.token }}, below '
                f"risk.balance_alert_usd {floor} USD. Top it up by hand: arbqos never moves funds."
            ),
        ),
        alert(
            AlertName.CONFIG_DRIFT,
            f"count(count by (config_hash) ({gauge('arb_config_info')})) > 1",
            severity="warning",
            for_s=al.warn_for_s,
            pause=NOTIFY,
            labels={"cause": "services"},
            summary="services run with different configurations",
            description=(
                '{{ printf "%.0f" $value }} different config_hash values in arb_config_info '
                "(expected 1). Restart or reload the services that run an old config."
            ),
        ),
        alert(
            "ArbWatchdog",
            "vector(1)",
            severity="info",
            for_s=0,
            pause=NOTIFY,
            summary="alerting pipeline is alive",
            description="Always firing. If it stops arriving, Prometheus or Alertmanager is down.",
        ),
        alert(
            "ArbChainRpcDown",
            f'min by (chain) ({gauge("arb_rpc_up")}{{chain=~"{other_chains}"}}) == 0',
            severity="warning",
            for_s=al.warn_for_s,
            pause=NOTIFY,
            summary="{{ $labels.chain }} RPC down",
            description=(
                "arb_rpc_up is 0 for {{ $labels.chain }}: no configured RPC answered with the "
                "expected chain id."
            ),
        ),
        *_head_stale_rules(cfg),
        alert(
            "ArbProbeFailed",
            f'min by (target) ({gauge("arb_probe_success")}{{target!~"{chain_targets}"}}) == 0',
            severity="warning",
            for_s=al.warn_for_s,
            pause=NOTIFY,
            summary="heartbeat probe of {{ $labels.target }} failing",
            description=(
                "The heartbeat probe of {{ $labels.target }} has failed for at least "
                f"{duration(al.warn_for_s)} (arb_probe_success 0)."
            ),
        ),
        *stale_rules(
            "ArbBalanceWatcherStale",
            "arb_balance_watcher_last_poll_timestamp_seconds",
            bw_limit,
            what="balance watcher",
            severity="warning",
            for_s=al.warn_for_s,
            pause=NOTIFY,
        ),
    ]
    return rules


_SEQUENCER_SIGNALS: dict[Chain, tuple[str, str]] = {
    Chain.ARBITRUM: ("Arbitrum", "the Chainlink uptime feed or the head lag"),
    Chain.SX_ROLLUP: (
        "SX Rollup",
        "no new block while the RPC answers (SX Bet settles there)",
    ),
}


def _sequencer_rules(cfg: ArbqosConfig) -> list[Rule]:
    """ArbSequencerDown per rollup: the confirmed `arb_sequencer_up` (the heartbeat confirms)."""
    rules = []
    for chain, (title, signal) in _SEQUENCER_SIGNALS.items():
        rules.append(
            alert(
                AlertName.SEQUENCER_DOWN,
                f'min by (chain) ({gauge("arb_sequencer_up")}{{chain="{chain}"}}) == 0',
                severity="critical",
                for_s=cfg.alerting.pause_for_s,
                pause=AlertName.SEQUENCER_DOWN in cfg.alerting.pause_alerts(),
                labels={"chain": chain},
                summary=f"{title} sequencer down",
                description=(
                    f'arb_sequencer_up{{chain="{chain}"}} is 0: {signal}, as confirmed by the '
                    "heartbeat or the orchestrator registry. Trading is paused."
                ),
            )
        )
    return rules


def _head_stale_rules(cfg: ArbqosConfig) -> list[Rule]:
    """ArbChainHeadStale over every enabled chain that sets `head_age_max_s` (none: no rule)."""
    limits = {
        chain: endpoint.head_age_max_s
        for chain, endpoint in sorted(cfg.endpoints.chains.items())
        if endpoint.head_age_max_s is not None and endpoint.enabled
    }
    if not limits:
        return []
    head_age = gauge("arb_chain_head_age_seconds")
    expr = "\nor ".join(
        f'min by (chain) ({head_age}{{chain="{chain}"}}) > {number(limit)}'
        for chain, limit in limits.items()
    )
    shown = ", ".join(f"{chain} {number(limit)} s" for chain, limit in limits.items())
    return [
        alert(
            "ArbChainHeadStale",
            expr,
            severity="warning",
            for_s=cfg.alerting.warn_for_s,
            pause=NOTIFY,
            summary="{{ $labels.chain }} chain head is stale",
            description=(
                'The latest {{ $labels.chain }} block is {{ printf "%.0f" $value }} s old, '
                f"more than endpoints.chains.<chain>.head_age_max_s ({shown})."
            ),
        )
    ]
