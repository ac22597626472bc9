"""Rules that fire when the other rules go blind: engine series gone, threshold bucket gone,
legs the stake cap could not check, rules rendered from another config, orchestrator
unreachable.

Design choices an operator should know:

- Scrape targets are found by `job`: `engine` and `orchestrator`, the job names of the
  rendered prometheus.yml. Under the Prometheus Operator the job is the Service name: name the
  Services so (or set the ServiceMonitor's jobLabel). A wrong job name is loud, not silent:
  `cause="target_absent"` fires when no target of that job exists at all.
- A healthy idle engine exports every execution series at 0 (the tracker pre-creates each
  venue's children), so `cause="series_absent"` only fires when a series really vanished,
  while the engine's target is up (a down target is `cause="target_down"`, one alert per cause).
- `ArbStakeCapUnchecked` counts the legs the engine sent while it knew no bank
  (`arb_stake_unchecked_total`): ArbStakeCapExceeded reads `arb_stake_fraction_of_bank`, which
  such a leg never reaches. Like the stake cap it has no `for` and looks back
  `exec.qos_window_s`: one unchecked leg is one event, reported for as long as the stake cap
  would have reported a leg above it.
- Absence rules need Prometheus to have scraped something (`count(up) > 0`), so a fresh
  Prometheus with no data raises nothing.
- The rule file records `arb_rules_info{config_hash}`: the hash of the config it was rendered
  from (a hash of the config, not of the file, so the file does not contain its own hash).
  `ArbConfigDrift{cause="rules"}` compares each service's hash with that literal value, so it
  does not depend on the order in which rule groups are evaluated.
"""

from __future__ import annotations

from arbqos.config import ArbqosConfig, config_hash
from arbqos.generators.alerts import Rule, alert
from arbqos.generators.promql import bucket, count, counter, duration, increase_by, number
from arbqos.metrics.definitions import VENUES, format_le
from arbqos.vocab import AlertName, Service, Severity

RULES_INFO = "arb_rules_info"
ENGINE_SERIES: tuple[str, ...] = (
    "arb_orders_submitted_total",
    "arb_stake_filled_usd_total",
    "arb_stake_resolved_usd_total",
    count("arb_accept_time_seconds"),
    count("arb_stake_fraction_of_bank"),
    "arb_stake_unchecked_total",
)
"""Execution series the QoS rules read, per venue; each one vanishing is an alert."""
SCRAPED_ANYTHING = "count(up) > 0"


def rules_info_record(cfg: ArbqosConfig) -> dict[str, object]:
    """The recording rule `arb_rules_info{config_hash="<hash of cfg>"} 1`."""
    return {"record": RULES_INFO, "expr": "vector(1)", "labels": {"config_hash": config_hash(cfg)}}


def target_rules(
    name: AlertName, job: str, *, for_s: float, pause: bool, what: str, impact: str
) -> list[Rule]:
    """`cause="target_down"` (scrapes of `job` fail) and `cause="target_absent"` (no target)."""
    consequence = " Trading is paused." if pause else ""
    return [
        alert(
            name,
            f'up{{job="{job}"}} == 0',
            severity=Severity.CRITICAL,
            for_s=for_s,
            pause=pause,
            labels={"cause": "target_down"},
            summary=f"Prometheus cannot scrape the {what} at {{{{ $labels.instance }}}}",
            description=(
                f"Every scrape of the {what} ({{{{ $labels.instance }}}}, job {job}) failed "
                f"for {duration(for_s)}: {impact}.{consequence}"
            ),
        ),
        alert(
            name,
            f'absent(up{{job="{job}"}})\nand on () ({SCRAPED_ANYTHING})',
            severity=Severity.CRITICAL,
            for_s=for_s,
            pause=pause,
            labels={"cause": "target_absent"},
            summary=f"no scrape target of job {job} ({what})",
            description=(
                f"Prometheus has no target with job={job} for {duration(for_s)} (removed from "
                f"prometheus.yml or from service discovery, or named differently): {impact}."
                f"{consequence}"
            ),
        ),
    ]


def engine_absent_rules(cfg: ArbqosConfig) -> list[Rule]:
    """ArbEngineMetricsAbsent: target down, target absent, one venue's series vanished."""
    name, job = AlertName.ENGINE_METRICS_ABSENT, Service.ENGINE
    pause = name in cfg.alerting.pause_alerts()
    for_s = cfg.alerting.absent_for_s
    impact = (
        "the QoS rules (fill ratio, p95 accept time, stake cap) see no data and cannot fire; "
        "the in-process guard still pauses"
    )
    terms = [
        f'label_replace(absent({series}{{job="{job}", venue="{venue}"}}), '
        f'"series", "{series}", "", "")'
        for venue in VENUES
        for series in ENGINE_SERIES
    ]
    vanished = alert(
        name,
        "(\n  " + "\n  or ".join(terms) + f'\n)\nand on () (max(up{{job="{job}"}}) == 1)',
        severity=Severity.CRITICAL,
        for_s=for_s,
        pause=pause,
        labels={"cause": "series_absent"},
        summary="{{ $labels.series }} of {{ $labels.venue }} is missing from the engine",
        description=(
            "The engine is scraped but exports no {{ $labels.series }} for venue "
            f"{{{{ $labels.venue }}}} (for {duration(for_s)}; the tracker creates it at 0 at "
            f"start): {impact}." + (" Trading is paused." if pause else "")
        ),
    )
    rules = target_rules(
        name, job, for_s=for_s, pause=pause, what="engine's metrics exporter", impact=impact
    )
    return [*rules, vanished]


def threshold_bucket_rules(cfg: ArbqosConfig) -> list[Rule]:
    """ArbThresholdBucketMissing: a histogram is exported without the bucket a rule reads."""
    thresholds = (
        ("arb_accept_time_seconds", cfg.exec.p95_accept_time_ms_max / 1000, "venue, phase"),
        ("arb_stake_fraction_of_bank", cfg.risk.stake_pct_cap, "venue"),
    )
    keys = {
        "arb_accept_time_seconds": "exec.p95_accept_time_ms_max / 1000",
        "arb_stake_fraction_of_bank": "risk.stake_pct_cap",
    }
    rules = []
    for histogram, bound, by in thresholds:
        le = format_le(bound)
        rules.append(
            alert(
                AlertName.THRESHOLD_BUCKET_MISSING,
                f"group by (instance, job, {by}) ({count(histogram)})\n"
                f"unless on (instance, {by})\n"
                f"group by (instance, {by}) ({bucket(histogram, bound)})",
                severity=Severity.CRITICAL,
                for_s=cfg.alerting.absent_for_s,
                pause=False,
                labels={"histogram": histogram, "le": le},
                summary=f'{{{{ $labels.instance }}}} exports {histogram} without le="{le}"',
                description=(
                    f"{{{{ $labels.instance }}}} ({{{{ $labels.venue }}}}) exports {histogram} "
                    f'without the bucket le="{le}" ({keys[histogram]} = {number(bound)}) that '
                    "the alert rules read, so they evaluate to nothing: the exporter runs "
                    "another config than the rules. Restart it on the current config, or "
                    "re-render the rules from the config it runs."
                ),
            )
        )
    return rules


def stake_unchecked_rule(cfg: ArbqosConfig) -> Rule:
    """ArbStakeCapUnchecked: legs sent while the engine knew no bank (the stake cap is blind)."""
    window = duration(cfg.exec.qos_window_s)
    risk = cfg.risk
    return alert(
        AlertName.STAKE_CAP_UNCHECKED,
        f"{increase_by('venue', counter('arb_stake_unchecked_total'), window)} > 0",
        severity=Severity.WARNING,
        for_s=0,
        pause=False,
        summary="{{ $labels.venue }} legs sent without a known bank: stake cap not checked",
        description=(
            '{{ printf "%.0f" $value }} leg(s) on {{ $labels.venue }} in the last '
            f"{window} were sent while the engine knew no bank, so ArbStakeCapExceeded could "
            f"not check them against risk.stake_pct_cap {number(risk.stake_pct_cap)}. "
            "Unless given a bank, the engine sums the registry's wallet balances, each read at "
            f"most risk.bank_max_age_s ({number(risk.bank_max_age_s)} s) ago: check the "
            "balance watcher and the engine's arb_engine_bank_known."
        ),
    )


def rules_drift_rule(cfg: ArbqosConfig) -> Rule:
    """ArbConfigDrift{cause="rules"}: a service runs a config the rules were not rendered from."""
    rendered = config_hash(cfg)
    return alert(
        AlertName.CONFIG_DRIFT,
        f'max by (service, config_hash) (arb_config_info{{config_hash!="{rendered}"}})',
        severity=Severity.WARNING,
        for_s=cfg.alerting.warn_for_s,
        pause=False,
        labels={"cause": "rules"},
        summary="{{ $labels.service }} runs a config the alert rules were not rendered from",
        description=(
            "{{ $labels.service }} runs config {{ $labels.config_hash }}, but Prometheus "
            f"evaluates rules rendered from config {rendered}: the alert thresholds may not "
            "be the ones the services use. Run `arbqos render` on the services' config and "
            "reload Prometheus, or restart the service on the config the rules came from."
        ),
    )


def orchestrator_down_rules(cfg: ArbqosConfig) -> list[Rule]:
    """ArbOrchestratorDown: Prometheus cannot scrape the orchestrator (never pauses: it is down)."""
    impact = (
        "alert, guard and heartbeat pauses cannot land, notifications through the "
        "orchestrator stop, and bots using the SDK stop trading while "
        "orchestrator.client_fail_closed is true; start `arbqos orchestrator` again (its "
        "pause state survives restarts)"
    )
    return target_rules(
        AlertName.ORCHESTRATOR_DOWN,
        Service.ORCHESTRATOR,
        for_s=cfg.alerting.absent_for_s,
        pause=False,
        what="orchestrator",
        impact=impact,
    )


def build_blindspot_alerts(cfg: ArbqosConfig) -> list[Rule]:
    """Every rule of this module, in file order."""
    return [
        *engine_absent_rules(cfg),
        *threshold_bucket_rules(cfg),
        stake_unchecked_rule(cfg),
        rules_drift_rule(cfg),
        *orchestrator_down_rules(cfg),
    ]
