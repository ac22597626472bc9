"""Build `promtool test rules` files for every alert, with thresholds taken from the config.

Each alert gets scenarios just beyond its threshold (fires, with the exact labels and
annotations), at the threshold (silent), below `exec.min_orders_in_window` for the QoS ratios
(silent) and, in a shared scenario, an idle but healthy bot (only ArbWatchdog fires).

Timelines are chosen so `increase()` needs no extrapolation: counters start at 0 and are
sampled at every evaluation, whose step divides the window, so window sums are exact integers
and a ratio sitting exactly on a threshold is exactly the threshold.

Refresh the committed copies after a config change with
`.venv/bin/python -m tests.generators.promtool_cases`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from arbqos.config import ArbqosConfig, config_hash
from arbqos.generators.alertpath import FOR_S as ALERT_PATH_FOR_S
from arbqos.generators.alertpath import WINDOW_S as ALERT_PATH_WINDOW_S
from arbqos.generators.promql import duration, number
from arbqos.generators.rules import build_rule_groups
from arbqos.generators.serialize import to_yaml
from arbqos.metrics.definitions import format_le

PROMTOOL_DIR = Path(__file__).resolve().parent / "promtool"
REPO_RULES_FROM_TESTS = "../../../ops/alerts/qos.yaml"
ENGINE = {"instance": "127.0.0.1:9101", "job": "engine"}
HEARTBEAT = {"instance": "127.0.0.1:9102", "job": "heartbeat"}
BALANCE = {"instance": "127.0.0.1:9103", "job": "balance_watcher"}
ORCHESTRATOR = {"instance": "127.0.0.1:8700", "job": "orchestrator"}
QOS_STEPS_PER_WINDOW = 10
"""At most this many samples per QoS window (fewer evaluations, faster tests)."""


def selector(metric: str, labels: dict[str, str]) -> str:
    """`metric{a="x", b="y"}` in promtool series notation."""
    inner = ", ".join(f'{key}="{value}"' for key, value in labels.items())
    return f"{metric}{{{inner}}}"


def series(metric: str, labels: dict[str, str], values: str) -> dict[str, str]:
    """One `input_series` entry."""
    return {"series": selector(metric, labels), "values": values}


def cumulative(increments: list[int]) -> str:
    """Explicit counter samples starting at 0: `0 a a+b ...`."""
    total, values = 0, ["0"]
    for step in increments:
        total += step
        values.append(str(total))
    return " ".join(values)


def periodic(per_window: int, window_steps: int, steps: int) -> str:
    """A counter that grows by exactly `per_window` over any `window_steps` consecutive steps."""
    base, extra = divmod(per_window, window_steps)
    pattern = [base + 1] * extra + [base] * (window_steps - extra)
    return cumulative([pattern[i % window_steps] for i in range(steps)])


def expand(template: str, labels: dict[str, str], value: float) -> str:
    """Expand the subset of Go templating the rules use: `$labels.x` and printf of `$value`."""
    text = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m.group(1)], template)
    text = re.sub(
        r'\{\{ printf "%\.(\d)f" \$value \}\}', lambda m: f"{value:.{int(m.group(1))}f}", text
    )
    if "{{" in text:
        raise ValueError(f"template construct not handled by the test expander: {template}")
    return text


@dataclass
class Check:
    """Expected firing alerts of one name at one evaluation time."""

    at_s: float
    alertname: str
    alerts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Case:
    """One promtool test group: input series and checks."""

    name: str
    interval_s: float
    series: list[dict[str, str]]
    checks: list[Check]

    def document(self) -> dict[str, Any]:
        """The promtool test group."""
        return {
            "name": self.name,
            "interval": duration(self.interval_s),
            "input_series": self.series,
            "alert_rule_test": [
                {"eval_time": duration(c.at_s), "alertname": c.alertname, "exp_alerts": c.alerts}
                for c in self.checks
            ],
        }


def grid_s(*durations_s: float, unit_s: float = 1.0) -> float:
    """Largest step (ms resolution) dividing `unit_s` and every duration given."""
    step = round(unit_s * 1000)
    for value in durations_s:
        step = math.gcd(step, round(value * 1000))
    return step / 1000


class CaseBuilder:
    """Builds the cases for one config; expected labels/annotations come from the rules."""

    def __init__(self, cfg: ArbqosConfig) -> None:
        self.cfg = cfg
        self.rules = [rule for g in build_rule_groups(cfg) for rule in g["rules"]]

    def expect(
        self, alertname: str, labels: dict[str, str], value: float, cause: str | None = None
    ) -> dict[str, Any]:
        """One expected alert: series labels + rule labels, annotations expanded."""
        rule = next(
            r
            for r in self.rules
            if r.get("alert") == alertname
            and r["labels"].get("cause") == cause
            and all(labels.get(k, v) == v for k, v in r["labels"].items() if k != "cause")
        )
        all_labels = {**labels, **rule["labels"]}
        notes = {key: expand(text, all_labels, value) for key, text in rule["annotations"].items()}
        return {"exp_labels": all_labels, "exp_annotations": notes}

    def alert_names(self) -> list[str]:
        """Every alert name in the rule file."""
        return sorted({r["alert"] for r in self.rules if "alert" in r})

    # QoS -------------------------------------------------------------------------------

    def _qos_timeline(self, step: float, for_s: float) -> tuple[int, float, int]:
        """(samples per window, evaluation time, samples) for window-based alerts.

        Samples come every evaluation `step` (which divides the window and `for`), so every
        evaluated window holds exact integer increases.
        """
        window = self.cfg.exec.qos_window_s
        at = window + for_s
        return round(window / step), at, round(at / step) + 2

    def fill_ratio_cases(self, interval: float) -> list[Case]:
        """ArbFillRatioLow: just below, at, below min orders."""
        ex = self.cfg.exec
        per_window, at, steps = self._qos_timeline(interval, self.cfg.alerting.pause_for_s)
        decimals = -Decimal(repr(ex.fill_ratio_min)).normalize().as_tuple().exponent
        requested = 10 ** (max(decimals, 0) + 2)
        at_threshold = int(Decimal(repr(ex.fill_ratio_min)) * requested)

        def stake(venue: str, filled: int, orders: int) -> list[dict[str, str]]:
            labels = {"venue": venue, **ENGINE}
            return [
                series("arb_orders_submitted_total", labels, periodic(orders, per_window, steps)),
                series("arb_stake_requested_usd_total", labels, f"0+{requested}x{steps}"),
                series("arb_stake_resolved_usd_total", labels, f"0+{requested}x{steps}"),
                series("arb_stake_filled_usd_total", labels, f"0+{filled}x{steps}"),
            ]

        healthy = stake("azuro", requested, ex.min_orders_in_window)
        beyond = at_threshold - 1
        fires = self.expect("ArbFillRatioLow", {"venue": "sx"}, beyond / requested)
        name = "ArbFillRatioLow"
        return [
            Case(
                "fill ratio just below the minimum fires (exactly min orders)",
                interval,
                stake("sx", beyond, ex.min_orders_in_window) + healthy,
                [Check(at, name, [fires])],
            ),
            Case(
                "fill ratio exactly at the minimum is silent",
                interval,
                stake("sx", at_threshold, ex.min_orders_in_window) + healthy,
                [Check(at, name)],
            ),
            Case(
                "zero fill with one order fewer than the minimum is silent",
                interval,
                stake("sx", 0, ex.min_orders_in_window - 1) + healthy,
                [Check(at, name)],
            ),
        ]

    def accept_time_cases(self, interval: float) -> list[Case]:
        """ArbAcceptTimeP95High: 6 % slow fires, 5 % is silent, gate on min orders."""
        ex = self.cfg.exec
        per_window, at, steps = self._qos_timeline(interval, self.cfg.alerting.pause_for_s)
        le = format_le(ex.p95_accept_time_ms_max / 1000)

        def accepts(fast_live: int, orders: int) -> list[dict[str, str]]:
            out = [
                series(
                    "arb_orders_submitted_total",
                    {"venue": "sx", **ENGINE},
                    periodic(orders, per_window, steps),
                )
            ]
            for phase, fast in (("live", fast_live), ("pregame", 100)):
                labels = {"venue": "sx", "phase": phase, **ENGINE}
                metric = "arb_accept_time_seconds"
                out += [
                    series(f"{metric}_bucket", {**labels, "le": le}, f"0+{fast}x{steps}"),
                    series(f"{metric}_bucket", {**labels, "le": "+Inf"}, f"0+100x{steps}"),
                    series(f"{metric}_count", labels, f"0+100x{steps}"),
                ]
            return out

        name = "ArbAcceptTimeP95High"
        # Per step 200 accepts over both phases: 12 slow is 6 %, 10 slow is exactly 5 %.
        fires = self.expect(name, {"venue": "sx"}, 12 / 200)
        return [
            Case(
                "6 % of accepts above the threshold bucket fires",
                interval,
                accepts(88, ex.min_orders_in_window),
                [Check(at, name, [fires])],
            ),
            Case(
                "exactly 5 % above the threshold bucket is silent",
                interval,
                accepts(90, ex.min_orders_in_window),
                [Check(at, name)],
            ),
            Case(
                "all live accepts slow with one order fewer than the minimum is silent",
                interval,
                accepts(0, ex.min_orders_in_window - 1),
                [Check(at, name)],
            ),
        ]

    def stake_cap_cases(self, interval: float) -> list[Case]:
        """ArbStakeCapExceeded: one leg above the cap fires, one leg at the cap does not."""
        _, at, steps = self._qos_timeline(interval, 0)
        le = format_le(self.cfg.risk.stake_pct_cap)
        one_leg = cumulative([0] * 4 + [1] + [0] * (steps - 5))
        none = f"0x{steps}"

        def legs(at_or_below: str) -> list[dict[str, str]]:
            labels = {"venue": "azuro", **ENGINE}
            metric = "arb_stake_fraction_of_bank"
            return [
                series(f"{metric}_bucket", {**labels, "le": le}, at_or_below),
                series(f"{metric}_bucket", {**labels, "le": "+Inf"}, one_leg),
                series(f"{metric}_count", labels, one_leg),
            ]

        name = "ArbStakeCapExceeded"
        return [
            Case(
                "one leg above the cap fires",
                interval,
                legs(none),
                [Check(at, name, [self.expect(name, {"venue": "azuro"}, 1)])],
            ),
            Case(
                "one leg exactly at the cap is silent", interval, legs(one_leg), [Check(at, name)]
            ),
        ]

    def stake_unchecked_cases(self, interval: float) -> list[Case]:
        """ArbStakeCapUnchecked: one leg sent without a known bank fires; checked legs do not."""
        _, at, steps = self._qos_timeline(interval, 0)
        one_leg = cumulative([0] * 4 + [1] + [0] * (steps - 5))
        name = "ArbStakeCapUnchecked"

        def legs(unchecked: str) -> list[dict[str, str]]:
            return [
                series("arb_orders_submitted_total", {"venue": "sx", **ENGINE}, one_leg),
                series("arb_stake_unchecked_total", {"venue": "sx", **ENGINE}, unchecked),
                series("arb_stake_unchecked_total", {"venue": "azuro", **ENGINE}, f"0x{steps}"),
            ]

        return [
            Case(
                "one leg sent without a known bank fires",
                interval,
                legs(one_leg),
                [Check(at, name, [self.expect(name, {"venue": "sx"}, 1)])],
            ),
            Case(
                "legs checked against a bank are silent",
                interval,
                legs(f"0x{steps}"),
                [Check(at, name)],
            ),
        ]

    # Infrastructure --------------------------------------------------------------------

    def _level_cases(
        self,
        name: str,
        metric: str,
        for_s: float,
        step: float,
        firing: list[tuple[dict[str, str], float]],
        expected: list[tuple[dict[str, str], float]],
        quiet: list[tuple[dict[str, str], float]],
        titles: tuple[str, str],
    ) -> list[Case]:
        """A gauge alert: the `firing` series fire as `expected`, the `quiet` ones never.

        Values are constant from t=0, so the alert is active from the first evaluation and
        fires exactly when `for` has elapsed; one step earlier it is still pending.
        """
        steps = round(for_s / step) + 3

        def const(samples: list[tuple[dict[str, str], float]]) -> list[dict[str, str]]:
            return [series(metric, labels, f"{number(v)}x{steps}") for labels, v in samples]

        checks = [Check(for_s, name, [self.expect(name, lab, v) for lab, v in expected])]
        if for_s > 0:
            checks.insert(0, Check(for_s - step, name))
        return [
            Case(titles[0], step, const(firing), checks),
            Case(titles[1], step, const(quiet), [Check(for_s + step, name)]),
        ]

    def chain_down_cases(self, step: float) -> list[Case]:
        """ArbSequencerDown and ArbRpcDown: 0 from one of two exporters fires once."""
        cases: list[Case] = []
        for name, metric, chain in (
            ("ArbSequencerDown", "arb_sequencer_up", "arbitrum"),
            ("ArbSequencerDown", "arb_sequencer_up", "sx_rollup"),
            ("ArbRpcDown", "arb_rpc_up", "sx_rollup"),
        ):
            cases += self._level_cases(
                name,
                metric,
                self.cfg.alerting.pause_for_s,
                step,
                firing=[
                    ({"chain": chain, **HEARTBEAT}, 0),
                    ({"chain": chain, **ORCHESTRATOR}, 1),
                    ({"chain": "polygon", **HEARTBEAT}, 1),
                ],
                expected=[({"chain": chain}, 0)],
                quiet=[
                    ({"chain": chain, **HEARTBEAT}, 1),
                    ({"chain": chain, **ORCHESTRATOR}, 1),
                    ({"chain": "polygon", **HEARTBEAT}, 0),
                ],
                titles=(
                    f"{metric} 0 for {chain} from one of two jobs fires once",
                    f"{metric} 1 for {chain} is silent (another chain down is not {name})",
                ),
            )
        return cases

    def chain_warning_cases(self, step: float) -> list[Case]:
        """ArbChainRpcDown, ArbChainHeadStale (per chain with a limit), ArbProbeFailed."""
        warn_for = self.cfg.alerting.warn_for_s
        cases = self._level_cases(
            "ArbChainRpcDown",
            "arb_rpc_up",
            warn_for,
            step,
            firing=[
                ({"chain": "polygon", **HEARTBEAT}, 0),
                ({"chain": "polygon", **ORCHESTRATOR}, 1),
            ],
            expected=[({"chain": "polygon"}, 0)],
            quiet=[
                ({"chain": "polygon", **HEARTBEAT}, 1),
                ({"chain": "sx_rollup", **HEARTBEAT}, 0),
            ],
            titles=(
                "polygon RPC down fires once",
                "polygon RPC up is silent; sx_rollup down is ArbRpcDown, not this alert",
            ),
        )
        for chain, endpoint in sorted(self.cfg.endpoints.chains.items()):
            limit = endpoint.head_age_max_s
            if limit is None or not endpoint.enabled:
                continue
            cases += self._level_cases(
                "ArbChainHeadStale",
                "arb_chain_head_age_seconds",
                warn_for,
                step,
                firing=[
                    ({"chain": chain, **HEARTBEAT}, limit + 1),
                    ({"chain": chain, **ORCHESTRATOR}, limit + 5),
                ],
                expected=[({"chain": chain}, limit + 1)],
                quiet=[({"chain": chain, **HEARTBEAT}, limit)],
                titles=(
                    f"{chain} head 1 s older than its limit fires",
                    f"{chain} head exactly at its limit is silent",
                ),
            )
        cases += self._level_cases(
            "ArbProbeFailed",
            "arb_probe_success",
            warn_for,
            step,
            firing=[
                ({"target": "sx_api", **HEARTBEAT}, 0),
                ({"target": "azuro_api", **HEARTBEAT}, 1),
            ],
            expected=[({"target": "sx_api"}, 0)],
            quiet=[
                ({"target": "sx_rollup", **HEARTBEAT}, 0),
                ({"target": "sx_api", **HEARTBEAT}, 1),
            ],
            titles=(
                "failing sx_api probe fires",
                "passing probes are silent; a failing chain target is left to the RPC alerts",
            ),
        )
        return cases

    def wallet_cases(self, step: float) -> list[Case]:
        """ArbWalletBalanceLow: one cent below the floor fires once despite two exporters."""
        floor = self.cfg.risk.balance_alert_usd
        wallet = {"wallet": "sx", "chain": "sx_rollup", "token": "USDC"}
        return self._level_cases(
            "ArbWalletBalanceLow",
            "arb_wallet_balance_usd",
            self.cfg.alerting.warn_for_s,
            step,
            firing=[
                ({**wallet, **BALANCE}, floor - 0.01),
                ({**wallet, **ORCHESTRATOR}, floor + 10),
            ],
            expected=[(wallet, floor - 0.01)],
            quiet=[({**wallet, **BALANCE}, floor), ({**wallet, **ORCHESTRATOR}, floor)],
            titles=(
                "balance one cent below the floor fires once",
                "balance at the floor is silent",
            ),
        )

    def config_drift_cases(self, step: float) -> list[Case]:
        """ArbConfigDrift: two hashes fire, one hash is silent."""
        warn_for = self.cfg.alerting.warn_for_s
        steps = round(warn_for / step) + 3

        def info(hashes: list[str]) -> list[dict[str, str]]:
            services = ("orchestrator", "heartbeat", "balance_watcher")
            return [
                series(
                    "arb_config_info",
                    {"service": s, "config_hash": h, "sources": "default,file", "job": s},
                    f"1x{steps}",
                )
                for s, h in zip(services, hashes, strict=True)
            ]

        name, rendered, other = "ArbConfigDrift", config_hash(self.cfg), "b" * 64
        odd_one = {"service": "balance_watcher", "config_hash": other}
        expected = [
            self.expect(name, odd_one, 1, cause="rules"),
            self.expect(name, {}, 2, cause="services"),
        ]
        fires = [Check(warn_for, name, expected)]
        if warn_for > 0:
            fires.insert(0, Check(warn_for - step, name))
        return [
            Case(
                "two config hashes fire (services differ; one also differs from the rules)",
                step,
                info([rendered, rendered, other]),
                fires,
            ),
            Case("one config hash is silent", step, info([rendered] * 3), [Check(warn_for, name)]),
        ]

    def stale_cases(
        self, name: str, metric: str, limit_s: float, for_s: float, step: float
    ) -> list[Case]:
        """ArbHeartbeatStale / ArbBalanceWatcherStale: tick age and absence, at and beyond.

        Samples come every `sample` (finer than the evaluation `step`), so "beyond" can be
        one sample (or 1 ms of tick age) past the limit at a single evaluation time `t_a`.
        """
        sample = grid_s(limit_s, for_s)
        t_a = math.ceil((limit_s + 5) / step) * step
        t_k = t_a + for_s
        end = t_k + limit_s + 2 * step
        n = round(end / sample)
        up = series("up", ORCHESTRATOR, f"1x{n}")

        def ticking_until(last_s: float) -> str:
            return f"0+{number(sample)}x{round(last_s / sample)} stale"

        def tick_age(value: float, older: float) -> list[dict[str, str]]:
            return [
                series(metric, HEARTBEAT, f"{number(value)}x{n}"),
                series(metric, ORCHESTRATOR, f"{number(older)}x{n}"),
                up,
            ]

        at_limit = t_a - limit_s
        beyond = round(at_limit - 0.001, 3)
        restart_zeros = round((limit_s - 2 * sample) / sample)
        first_new_tick = at_limit + (restart_zeros + 1) * sample
        restart = (
            f"0+{number(sample)}x{round(at_limit / sample)} 0x{restart_zeros} "
            f"{number(first_new_tick)}+{number(sample)}x{n}"
        )
        return [
            Case(
                "tick age exactly at the limit is silent",
                sample,
                tick_age(at_limit, at_limit / 2),
                [Check(t_k, name)],
            ),
            Case(
                "tick age 1 ms beyond the limit fires (newest tick of two jobs)",
                sample,
                tick_age(beyond, at_limit / 2),
                [Check(t_k, name, [self.expect(name, {}, t_k - beyond, cause="tick_age")])],
            ),
            Case(
                "last sample exactly one limit ago (then the process died) is silent",
                sample,
                [series(metric, HEARTBEAT, ticking_until(at_limit)), up],
                [Check(t_k, name)],
            ),
            Case(
                "last sample one sample more than a limit ago fires cause=absent",
                sample,
                [series(metric, HEARTBEAT, ticking_until(at_limit - sample)), up],
                [Check(t_k, name, [self.expect(name, {}, 1, cause="absent")])],
            ),
            Case(
                "fresh Prometheus with nothing scraped yet is silent",
                sample,
                [series("arb_orders_submitted_total", {"venue": "sx", **ENGINE}, f"0x{n}")],
                [Check(t_k, name), Check(end, name)],
            ),
            Case(
                "a restart that completes its first tick within the limit is silent",
                sample,
                [series(metric, HEARTBEAT, restart), up],
                [Check(k * step, name) for k in range(1, round(end / step) + 1)],
            ),
            Case(
                "a process stuck before its first tick fires cause=absent one limit after start",
                sample,
                [series(metric, HEARTBEAT, f"0x{n}"), up],
                [
                    Check(limit_s + for_s - step, name),
                    Check(limit_s + for_s, name, [self.expect(name, {}, 1, cause="absent")]),
                ],
            ),
        ]

    def idle_case(self, step: float) -> Case:
        """A healthy, idle bot: counters flat, chains up, runs completing; only ArbWatchdog."""
        from tests.generators.promtool_blind import healthy_meta_series

        al = self.cfg.alerting
        hb_limit = al.heartbeat_stale_intervals * self.cfg.heartbeat.interval_s
        bw_limit = al.heartbeat_stale_intervals * self.cfg.balance_watcher.poll_interval_s
        horizon = max(self.cfg.exec.qos_window_s, hb_limit, bw_limit)
        longest_for = max(al.pause_for_s, al.warn_for_s, al.absent_for_s, ALERT_PATH_FOR_S)
        at = horizon + longest_for + step
        steps = round(at / step) + 1
        now = f"0+{number(step)}x{steps}"
        infra = [
            series("arb_heartbeat_last_tick_timestamp_seconds", HEARTBEAT, now),
            series("arb_balance_watcher_last_poll_timestamp_seconds", BALANCE, now),
            series("up", HEARTBEAT, f"1x{steps}"),
        ]
        for chain in ("sx_rollup", "arbitrum", "polygon"):
            infra += [
                series("arb_rpc_up", {"chain": chain, **HEARTBEAT}, f"1x{steps}"),
                series("arb_sequencer_up", {"chain": chain, **HEARTBEAT}, f"1x{steps}"),
                series("arb_chain_head_age_seconds", {"chain": chain, **HEARTBEAT}, f"2x{steps}"),
            ]
        infra.append(
            series(
                "arb_wallet_balance_usd",
                {"wallet": "sx", "chain": "sx_rollup", "token": "USDC", **BALANCE},
                f"{number(self.cfg.risk.balance_alert_usd + 100)}x{steps}",
            )
        )
        for venue in ("sx", "azuro"):
            for metric in ("arb_stake_requested_usd_total", "arb_order_results_total"):
                infra.append(series(metric, {"venue": venue, **ENGINE}, f"0x{steps}"))
        checks = [
            Check(at, n, [self.expect(n, {}, 1)] if n == "ArbWatchdog" else [])
            for n in self.alert_names()
        ]
        series_ = infra + healthy_meta_series(self.cfg, steps)
        return Case("idle healthy bot: only ArbWatchdog fires", step, series_, checks)


def build_test_files(cfg: ArbqosConfig, rules_path: str) -> dict[str, str]:
    """Return promtool test files (file name -> YAML text) for every alert of `cfg`.

    Files differ by evaluation interval: the QoS window step, 5 s for the pause alerts and
    15 s for notify-only alerts (each reduced to divide the configured `for` and limits).
    """
    from tests.generators.promtool_blind import BlindCases, alert_path_cases, rules_drift_cases
    from tests.generators.promtool_kpi import KpiCases

    b = CaseBuilder(cfg)
    al = cfg.alerting
    hb_limit = al.heartbeat_stale_intervals * cfg.heartbeat.interval_s
    bw_limit = al.heartbeat_stale_intervals * cfg.balance_watcher.poll_interval_s
    qos_step = grid_s(al.pause_for_s, unit_s=cfg.exec.qos_window_s / QOS_STEPS_PER_WINDOW)
    pause_step = grid_s(al.pause_for_s, hb_limit, unit_s=5)
    notify_step = grid_s(al.warn_for_s, bw_limit, unit_s=15)
    idle_step = grid_s(al.pause_for_s, al.warn_for_s, al.absent_for_s, unit_s=15)
    blind_step = grid_s(al.absent_for_s, unit_s=5)
    path_step = grid_s(ALERT_PATH_FOR_S, ALERT_PATH_WINDOW_S, unit_s=15)
    blind = BlindCases(cfg, blind_step)
    hb_metric = "arb_heartbeat_last_tick_timestamp_seconds"
    bw_metric = "arb_balance_watcher_last_poll_timestamp_seconds"
    groups: dict[str, tuple[float, list[Case]]] = {
        "qos_test.yaml": (
            qos_step,
            b.fill_ratio_cases(qos_step)
            + b.accept_time_cases(qos_step)
            + b.stake_cap_cases(qos_step)
            + b.stake_unchecked_cases(qos_step),
        ),
        "pause_test.yaml": (
            pause_step,
            b.chain_down_cases(pause_step)
            + b.stale_cases("ArbHeartbeatStale", hb_metric, hb_limit, al.pause_for_s, pause_step),
        ),
        "notify_test.yaml": (
            notify_step,
            b.chain_warning_cases(notify_step)
            + b.wallet_cases(notify_step)
            + b.config_drift_cases(notify_step)
            + rules_drift_cases(cfg, notify_step)
            + b.stale_cases(
                "ArbBalanceWatcherStale", bw_metric, bw_limit, al.warn_for_s, notify_step
            ),
        ),
        "blind_test.yaml": (
            blind_step,
            blind.engine_cases() + blind.bucket_cases() + blind.orchestrator_cases(),
        ),
        "alertpath_test.yaml": (path_step, alert_path_cases(cfg, path_step)),
        "idle_test.yaml": (idle_step, [b.idle_case(idle_step)]),
    }
    header = (
        "promtool unit tests generated by tests/generators/promtool_cases.py from the config.\n"
        "Run: promtool test rules tests/generators/promtool/*.yaml"
    )
    files = {
        name: to_yaml(
            {
                "rule_files": [rules_path],
                "evaluation_interval": duration(interval),
                "tests": [case.document() for case in cases],
            },
            header,
        )
        for name, (interval, cases) in groups.items()
    }
    files["kpi_test.yaml"] = to_yaml(KpiCases(cfg).document(rules_path), header)
    return files


def covered_alerts(files: dict[str, str]) -> set[str]:
    """Alert names that have at least one expected firing alert in `files`."""
    import yaml

    names = set()
    for text in files.values():
        for test in yaml.safe_load(text)["tests"]:
            for check in test.get("alert_rule_test", []):
                if check["exp_alerts"]:
                    names.add(check["alertname"])
    return names


def main() -> None:
    """Rewrite the committed promtool tests for the repository config."""
    from arbqos.config import load_config

    repo = Path(__file__).resolve().parents[2]
    cfg = load_config(repo / "config", {}, ()).config
    for name, text in build_test_files(cfg, REPO_RULES_FROM_TESTS).items():
        (PROMTOOL_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote {PROMTOOL_DIR / name}")


if __name__ == "__main__":
    main()
