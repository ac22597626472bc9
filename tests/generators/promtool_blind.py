"""promtool cases for the blind-spot and alert-path rules (engine absent, threshold bucket,
rules-hash drift, orchestrator down, Prometheus/Alertmanager notification failures).

Every condition starts at `t0` (or at 0 for "from the start") and each case checks one
evaluation before `t0 + for` (still pending, so nothing listed) and `t0 + for` (firing), or
that a healthy or too-short situation stays silent.
"""

from __future__ import annotations

from arbqos.config import ArbqosConfig, config_hash
from arbqos.generators.alertpath import FOR_S
from arbqos.generators.blindspots import ENGINE_SERIES
from arbqos.generators.promql import number
from arbqos.metrics.definitions import VENUES, format_le
from tests.generators.promtool_cases import (
    ENGINE,
    HEARTBEAT,
    ORCHESTRATOR,
    Case,
    CaseBuilder,
    Check,
    series,
)

PROMETHEUS = {"instance": "127.0.0.1:9090", "job": "prometheus"}
ALERTMANAGER = {"instance": "127.0.0.1:9093", "job": "alertmanager"}
AM_URL = "http://127.0.0.1:9093/api/v2/alerts"
ENGINE_ABSENT = "ArbEngineMetricsAbsent"
BUCKET_MISSING = "ArbThresholdBucketMissing"
ORCH_DOWN = "ArbOrchestratorDown"


def engine_series(cfg: ArbqosConfig, values: str, *, skip: tuple[str, str] = ("", "")) -> list:
    """Every execution series the rules read, for both venues, each with `values`.

    `skip` = (venue, series) is left out (it gets `values` only up to where it vanishes).
    """
    out = []
    accept_le = format_le(cfg.exec.p95_accept_time_ms_max / 1000)
    cap_le = format_le(cfg.risk.stake_pct_cap)
    for venue in VENUES:
        labels = {"venue": venue, **ENGINE}
        for name in ENGINE_SERIES:
            if (venue, name) == skip:
                continue
            if name.startswith("arb_accept_time_seconds"):
                for phase in ("live", "pregame"):
                    out.append(series(name, {**labels, "phase": phase}, values))
            else:
                out.append(series(name, labels, values))
        for phase in ("live", "pregame"):
            bucket = {**labels, "phase": phase, "le": accept_le}
            out.append(series("arb_accept_time_seconds_bucket", bucket, values))
        out.append(series("arb_stake_fraction_of_bank_bucket", {**labels, "le": cap_le}, values))
    return out


class BlindCases:
    """Cases for one config; expected labels and annotations come from the rendered rules."""

    def __init__(self, cfg: ArbqosConfig, step: float) -> None:
        self.cfg, self.b, self.step = cfg, CaseBuilder(cfg), step
        self.for_s = cfg.alerting.absent_for_s
        self.t0 = 4 * step
        self.n = round((self.t0 + self.for_s) / step) + 4

    def _const(self, value: float) -> str:
        return f"{number(value)}x{self.n}"

    def _until_t0_then(self, before: str, after: str) -> str:
        """`before` up to t0 (exclusive), `after` from t0 on; `stale` ends the series at t0."""
        k = round(self.t0 / self.step)
        tail = "stale" if after == "stale" else f"{after}x{self.n - k}"
        return f"{before}x{k - 1} {tail}"

    def _down_for(self, seconds: float) -> str:
        """1, then 0 from t0 for `seconds`, then 1 again."""
        k, zeros = round(self.t0 / self.step), round(seconds / self.step)
        return f"1x{k - 1} 0x{zeros - 1} 1x{self.n - k - zeros}"

    def _edge(self, name: str, at: float, alerts: list) -> list[Check]:
        """Pending one step before `at`, firing with `alerts` at `at`."""
        return [Check(at - self.step, name), Check(at, name, alerts)]

    def engine_cases(self) -> list[Case]:
        """Target down, target absent, one venue's series vanished, never before its time."""
        cfg, b, s = self.cfg, self.b, self.step
        fires_at = self.t0 + self.for_s
        down = self._until_t0_then("1", "0")
        vanish = self._until_t0_then("0", "stale")
        alive = self._const(0)
        orch_up = series("up", ORCHESTRATOR, self._const(1))
        gone = ("azuro", "arb_orders_submitted_total")
        return [
            Case(
                "engine target down fires target_down only, at t0 + absent_for_s",
                s,
                [series("up", ENGINE, down), orch_up, *engine_series(cfg, vanish)],
                [
                    *self._edge(
                        ENGINE_ABSENT,
                        fires_at,
                        [b.expect(ENGINE_ABSENT, dict(ENGINE), 0, cause="target_down")],
                    ),
                    Check(fires_at, BUCKET_MISSING),
                ],
            ),
            Case(
                "no engine target at all fires target_absent",
                s,
                [orch_up],
                self._edge(
                    ENGINE_ABSENT,
                    self.for_s,
                    [b.expect(ENGINE_ABSENT, {"job": "engine"}, 1, cause="target_absent")],
                ),
            ),
            Case(
                "fresh Prometheus that scraped nothing raises no absence alert",
                s,
                [series("arb_heartbeat_last_tick_timestamp_seconds", HEARTBEAT, alive)],
                [Check(fires_at, n) for n in (ENGINE_ABSENT, ORCH_DOWN, BUCKET_MISSING)],
            ),
            Case(
                "one venue's series vanishing while the other's remain fires series_absent",
                s,
                [
                    series("up", ENGINE, self._const(1)),
                    orch_up,
                    *engine_series(cfg, alive, skip=gone),
                    series(gone[1], {"venue": gone[0], **ENGINE}, vanish),
                ],
                self._edge(
                    ENGINE_ABSENT,
                    fires_at,
                    [
                        b.expect(
                            ENGINE_ABSENT,
                            {"job": "engine", "venue": "azuro", "series": gone[1]},
                            1,
                            cause="series_absent",
                        )
                    ],
                ),
            ),
            Case(
                "an engine restart shorter than absent_for_s is silent",
                s,
                [
                    series("up", ENGINE, self._down_for(self.for_s - s)),
                    orch_up,
                    *engine_series(cfg, alive),
                ],
                [Check(k * s, ENGINE_ABSENT) for k in range(1, self.n)],
            ),
        ]

    def bucket_cases(self) -> list[Case]:
        """A histogram exported without the threshold bucket fires; with it, silent."""
        cfg, b, s = self.cfg, self.b, self.step
        fires_at = self.t0 + self.for_s
        alive, vanish = self._const(0), self._until_t0_then("0", "stale")
        cases = []
        thresholds = (
            ("arb_accept_time_seconds", cfg.exec.p95_accept_time_ms_max / 1000, {"phase": "live"}),
            ("arb_stake_fraction_of_bank", cfg.risk.stake_pct_cap, {}),
        )
        for histogram, bound, extra in thresholds:
            le = format_le(bound)
            labels = {"venue": "sx", **extra, **ENGINE}
            other = series(f"{histogram}_bucket", {**labels, "le": "+Inf"}, alive)
            count = series(f"{histogram}_count", labels, alive)
            at_threshold = series(f"{histogram}_bucket", {**labels, "le": le}, vanish)
            expected = {**{k: v for k, v in labels.items()}, "histogram": histogram, "le": le}
            cases += [
                Case(
                    f'{histogram} without le="{le}" fires at t0 + absent_for_s',
                    s,
                    [count, other, at_threshold],
                    self._edge(BUCKET_MISSING, fires_at, [b.expect(BUCKET_MISSING, expected, 1)]),
                ),
                Case(
                    f'{histogram} with le="{le}" is silent',
                    s,
                    [count, other, series(f"{histogram}_bucket", {**labels, "le": le}, alive)],
                    [Check(fires_at, BUCKET_MISSING)],
                ),
            ]
        return cases

    def orchestrator_cases(self) -> list[Case]:
        """Prometheus cannot scrape the orchestrator, or has no target for it."""
        b, s = self.b, self.step
        engine_up = series("up", ENGINE, self._const(1))
        return [
            Case(
                "orchestrator scrape failing fires ArbOrchestratorDown at t0 + absent_for_s",
                s,
                [engine_up, series("up", ORCHESTRATOR, self._until_t0_then("1", "0"))],
                self._edge(
                    ORCH_DOWN,
                    self.t0 + self.for_s,
                    [b.expect(ORCH_DOWN, dict(ORCHESTRATOR), 0, cause="target_down")],
                ),
            ),
            Case(
                "no orchestrator target fires target_absent",
                s,
                [engine_up],
                self._edge(
                    ORCH_DOWN,
                    self.for_s,
                    [b.expect(ORCH_DOWN, {"job": "orchestrator"}, 1, cause="target_absent")],
                ),
            ),
        ]


def rules_drift_cases(cfg: ArbqosConfig, step: float) -> list[Case]:
    """ArbConfigDrift{cause="rules"}: services agreeing on a hash the rules were not built from."""
    b, warn_for = CaseBuilder(cfg), cfg.alerting.warn_for_s
    rendered, other = config_hash(cfg), "c" * 64
    steps = round(warn_for / step) + 3
    services = ("orchestrator", "heartbeat", "balance_watcher")

    def info(hashes: list[str]) -> list[dict[str, str]]:
        return [
            series(
                "arb_config_info",
                {"service": s, "config_hash": h, "sources": "default,file", "job": s},
                f"1x{steps}",
            )
            for s, h in zip(services, hashes, strict=True)
        ]

    name = "ArbConfigDrift"
    every = [
        b.expect(name, {"service": s, "config_hash": other}, 1, cause="rules") for s in services
    ]
    checks = [Check(warn_for, name, every)]
    if warn_for > 0:
        checks.insert(0, Check(warn_for - step, name))
    return [
        Case(
            "services agreeing on a hash the rules were not rendered from",
            step,
            info([other] * 3),
            checks,
        ),
        Case(
            "services on the rules' hash are silent",
            step,
            info([rendered] * 3),
            [Check(warn_for, name)],
        ),
    ]


def alert_path_cases(cfg: ArbqosConfig, step: float) -> list[Case]:
    """Prometheus -> Alertmanager and Alertmanager -> receiver failures; blips are ignored."""
    b = CaseBuilder(cfg)
    t0 = 4 * step
    n = round((t0 + FOR_S) / step) + 4
    k = round(t0 / step)

    def steady(per_step: int) -> str:
        return f"0x{k - 1} 1+{per_step}x{n - k}"

    def blip() -> str:
        return f"0x{k - 1} 1x{n - k}"

    def sparse() -> str:
        every = round(60 / step)
        values, total = ["0"] * k, 0
        for i in range(n - k):
            if i % every == 0:
                total += 1
            values.append(str(total))
        return " ".join(values)

    prom = "ArbPrometheusNotifyFailing"
    am = "ArbAlertmanagerNotifyFailing"
    rules = "ArbRuleEvaluationFailing"
    errors = {"alertmanager": AM_URL, **PROMETHEUS}
    hook = {"integration": "webhook", **ALERTMANAGER}
    group = {"rule_group": "/etc/prometheus/qos.yaml;arbqos_qos_alerts", **PROMETHEUS}
    fires_at = t0 + FOR_S

    def edge(name: str, alerts: list) -> list[Check]:
        return [Check(fires_at - step, name), Check(fires_at, name, alerts)]

    return [
        Case(
            "Prometheus knowing no Alertmanager fires no_alertmanager",
            step,
            [
                series(
                    "prometheus_notifications_alertmanagers_discovered",
                    PROMETHEUS,
                    f"1x{k - 1} 0x{n - k}",
                )
            ],
            edge(prom, [b.expect(prom, dict(PROMETHEUS), 0, cause="no_alertmanager")]),
        ),
        Case(
            "send errors every evaluation fire errors",
            step,
            [series("prometheus_notifications_errors_total", errors, steady(1))],
            edge(prom, [b.expect(prom, errors, 1, cause="errors")]),
        ),
        Case(
            "send errors once a minute (the default resend delay) still fire errors",
            step,
            [series("prometheus_notifications_errors_total", errors, sparse())],
            edge(prom, [b.expect(prom, errors, 1, cause="errors")]),
        ),
        Case(
            "dropped alerts fire dropped",
            step,
            [series("prometheus_notifications_dropped_total", PROMETHEUS, steady(3))],
            edge(prom, [b.expect(prom, dict(PROMETHEUS), 1, cause="dropped")]),
        ),
        Case(
            "one burst of send errors (an Alertmanager restart) is silent",
            step,
            [
                series("prometheus_notifications_errors_total", errors, blip()),
                series("prometheus_notifications_dropped_total", PROMETHEUS, blip()),
            ],
            [Check(t, prom) for t in (fires_at, fires_at + step, fires_at + 2 * step)],
        ),
        Case(
            "failed webhook deliveries fire ArbAlertmanagerNotifyFailing",
            step,
            [series("alertmanager_notifications_failed_total", hook, steady(1))],
            edge(am, [b.expect(am, hook, 1)]),
        ),
        Case(
            "one failed delivery is silent",
            step,
            [series("alertmanager_notifications_failed_total", hook, blip())],
            [Check(fires_at, am), Check(fires_at + step, am)],
        ),
        Case(
            "failing rule evaluations fire ArbRuleEvaluationFailing",
            step,
            [series("prometheus_rule_evaluation_failures_total", group, steady(1))],
            edge(rules, [b.expect(rules, group, 1)]),
        ),
    ]


def healthy_meta_series(cfg: ArbqosConfig, steps: int) -> list[dict[str, str]]:
    """Series of a healthy stack for the idle case: targets up, counters flat, same hash."""
    flat, one = f"0x{steps}", f"1x{steps}"
    out = [
        series("up", ENGINE, one),
        series("up", ORCHESTRATOR, one),
        series("prometheus_notifications_alertmanagers_discovered", PROMETHEUS, one),
        series(
            "prometheus_notifications_errors_total", {"alertmanager": AM_URL, **PROMETHEUS}, flat
        ),
        series("prometheus_notifications_dropped_total", PROMETHEUS, flat),
        series(
            "alertmanager_notifications_failed_total",
            {"integration": "webhook", **ALERTMANAGER},
            flat,
        ),
        series(
            "prometheus_rule_evaluation_failures_total", {"rule_group": "g", **PROMETHEUS}, flat
        ),
    ]
    for service in ("orchestrator", "heartbeat", "balance_watcher", "engine"):
        labels = {"service": service, "config_hash": config_hash(cfg), "job": service}
        out.append(series("arb_config_info", labels, one))
    return out + engine_series(cfg, flat)
