"""Meta-monitoring of the alert path: Prometheus -> Alertmanager -> receivers, and the rules.

Each rule reads a counter of failures over `WINDOW_S` and must hold for `FOR_S`: the window
covers Prometheus' default 1 m re-send delay (so a steady failure never leaves it), and the
`for` ignores blips such as an Alertmanager or orchestrator restart of a few seconds.

These alerts travel through the path they watch. When Alertmanager is down entirely, nothing
here can be delivered: the orchestrator notices that ArbWatchdog stopped arriving, and
ArbAlertmanagerNotifyFailing also goes to the direct receivers, which bypass the orchestrator.
"""

from __future__ import annotations

from arbqos.config import ArbqosConfig
from arbqos.generators.alerts import Rule, alert
from arbqos.generators.promql import duration
from arbqos.vocab import AlertName, Severity

WINDOW_S = 90.0
FOR_S = 120.0
PROMETHEUS_SERIES = (
    "prometheus_notifications_alertmanagers_discovered",
    "prometheus_notifications_errors_total",
    "prometheus_notifications_dropped_total",
    "prometheus_rule_evaluation_failures_total",
)
ALERTMANAGER_SERIES = ("alertmanager_notifications_failed_total",)


def _failing(counter: str, by: str) -> str:
    return f"sum by ({by}) (increase({counter}[{duration(WINDOW_S)}])) > 0"


def prometheus_notify_rules() -> list[Rule]:
    """ArbPrometheusNotifyFailing: no Alertmanager known, sends failing, alerts dropped."""
    name, lasting = AlertName.PROMETHEUS_NOTIFY_FAILING, duration(FOR_S)
    blind = "alerts (pause alerts included) may not reach Alertmanager and the orchestrator"
    return [
        alert(
            name,
            "prometheus_notifications_alertmanagers_discovered < 1",
            severity=Severity.CRITICAL,
            for_s=FOR_S,
            pause=False,
            labels={"cause": "no_alertmanager"},
            summary="Prometheus {{ $labels.instance }} knows no Alertmanager",
            description=(
                f"Prometheus has had no Alertmanager to send to for {lasting}: no alert leaves "
                "it. Check the alerting section of prometheus.yml."
            ),
        ),
        alert(
            name,
            _failing("prometheus_notifications_errors_total", "instance, job, alertmanager"),
            severity=Severity.CRITICAL,
            for_s=FOR_S,
            pause=False,
            labels={"cause": "errors"},
            summary="Prometheus fails to send alerts to {{ $labels.alertmanager }}",
            description=(
                f"Sends to {{{{ $labels.alertmanager }}}} have kept failing for {lasting}: "
                f"{blind}. Check that Alertmanager runs and answers."
            ),
        ),
        alert(
            name,
            _failing("prometheus_notifications_dropped_total", "instance, job"),
            severity=Severity.CRITICAL,
            for_s=FOR_S,
            pause=False,
            labels={"cause": "dropped"},
            summary="Prometheus {{ $labels.instance }} drops alerts",
            description=(
                f"Prometheus has kept dropping alerts for {lasting} (no Alertmanager took "
                f"them, or its queue is full): {blind}."
            ),
        ),
    ]


def alertmanager_notify_rule() -> Rule:
    """ArbAlertmanagerNotifyFailing: Alertmanager cannot deliver to an integration."""
    return alert(
        AlertName.ALERTMANAGER_NOTIFY_FAILING,
        _failing("alertmanager_notifications_failed_total", "instance, job, integration"),
        severity=Severity.CRITICAL,
        for_s=FOR_S,
        pause=False,
        summary="Alertmanager fails to deliver to {{ $labels.integration }} receivers",
        description=(
            "Notifications of Alertmanager {{ $labels.instance }} through "
            f"{{{{ $labels.integration }}}} have kept failing for {duration(FOR_S)}. The "
            "orchestrator webhook is a webhook: if it is the one failing, pause alerts and "
            "notifications do not reach it. Check the receiver's URL and secret files, and "
            "the Alertmanager log."
        ),
    )


def rule_failure_rule() -> Rule:
    """ArbRuleEvaluationFailing: a rule group fails to evaluate (its alerts are blind)."""
    return alert(
        AlertName.RULE_EVALUATION_FAILING,
        _failing("prometheus_rule_evaluation_failures_total", "instance, job, rule_group"),
        severity=Severity.CRITICAL,
        for_s=FOR_S,
        pause=False,
        summary="rules of {{ $labels.rule_group }} fail to evaluate",
        description=(
            f"Rule evaluations in {{{{ $labels.rule_group }}}} have kept failing for "
            f"{duration(FOR_S)}: the alerts of that group cannot fire. The Prometheus log "
            "and /rules page name the rule and the error."
        ),
    )


def build_alert_path_alerts(cfg: ArbqosConfig) -> list[Rule]:
    """Every rule of this module, in file order (`cfg` for a uniform builder signature)."""
    del cfg
    return [*prometheus_notify_rules(), alertmanager_notify_rule(), rule_failure_rule()]
