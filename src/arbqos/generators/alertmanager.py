"""Alertmanager config: every alert to the orchestrator, some also to receivers that bypass it.

Routing, in order (each route but the first continues to the next):

1. `ArbWatchdog` -> orchestrator only, re-sent every `alerting.watchdog_repeat_s`: the
   orchestrator watches that it keeps arriving (the watched watcher).
2. `action="pause"` -> orchestrator, exactly as before: it pauses; a repeat every
   `alerting.repeat_interval_s` re-asserts the pause.
3. every other alert -> orchestrator, which logs it and notifies people per severity;
   re-sent every `alerting.<severity>_repeat_s` while firing.
4. the alerts each direct receiver lists (by default ArbOrchestratorDown and
   ArbAlertmanagerNotifyFailing) -> that receiver, without the orchestrator in the path.
5. with `alerting.default_webhook_url`: every alert but ArbWatchdog -> that webhook.

The orchestrator receiver is level-triggered and idempotent (it deduplicates by fingerprint and
re-asserts a pause on every repeat), so a notification that Alertmanager holds back (a warm
group waits up to `group_interval`) or repeats is harmless. A small `group_interval` (1 s by
default) sends the resolve quickly, so a re-breach is a new notification instead of being
deduplicated against a stale "firing" entry. Alertmanager re-sends at group ticks, so a repeat
arrives `repeat` to `repeat + group_interval` after the previous one (measured with real
Alertmanager 0.25 in tests/generators/test_live_routing.py).
"""

from __future__ import annotations

from typing import Any

from arbqos.config import ArbqosConfig
from arbqos.generators.promql import duration
from arbqos.generators.receivers import (
    DEFAULT_RECEIVER,
    ORCHESTRATOR_RECEIVER,
    default_receiver,
    direct_receiver,
    orchestrator_receiver,
)
from arbqos.generators.serialize import GENERATED
from arbqos.vocab import AlertName, Severity

GROUP_BY: tuple[str, ...] = ("alertname", "venue", "chain", "wallet", "target", "cause")
"""Identifying labels: one group (and so one webhook timeline) per thing that broke."""

INHIBITIONS: tuple[tuple[str, tuple[str, ...], tuple[str, ...], str], ...] = (
    (
        'alertname="ArbHeartbeatStale"',
        ('alertname=~"ArbProbeFailed|ArbChainRpcDown|ArbChainHeadStale"',),
        (),
        "the heartbeat is stale, so the probe and chain gauges it feeds are frozen",
    ),
    (
        'alertname=~"ArbRpcDown|ArbChainRpcDown"',
        ('alertname="ArbChainHeadStale"',),
        ("chain",),
        "without an answering RPC the head of that chain cannot be read",
    ),
    (
        'alertname="ArbSequencerDown"',
        ('alertname="ArbChainHeadStale"',),
        ("chain",),
        "a down sequencer produces no blocks, so its chain head ages",
    ),
    (
        f'alertname="{AlertName.ORCHESTRATOR_DOWN}"',
        (f'alertname="{AlertName.ALERTMANAGER_NOTIFY_FAILING}"', 'integration="webhook"'),
        (),
        "with the orchestrator down, the failing webhook is the orchestrator's",
    ),
)
"""(source matcher, target matchers, equal labels, why). Pause alerts are never targets."""


def _severity_routes(cfg: ArbqosConfig) -> list[dict[str, Any]]:
    al = cfg.alerting
    repeat = {
        Severity.CRITICAL: al.critical_repeat_s,
        Severity.WARNING: al.warning_repeat_s,
        Severity.INFO: al.info_repeat_s,
    }
    return [
        {"matchers": [f'severity="{severity}"'], "repeat_interval": duration(seconds)}
        for severity, seconds in repeat.items()
    ]


def build_routes(cfg: ArbqosConfig) -> list[dict[str, Any]]:
    """The child routes of the root, in the order of the module docstring."""
    al = cfg.alerting
    routes: list[dict[str, Any]] = [
        {
            "receiver": ORCHESTRATOR_RECEIVER,
            "matchers": [f'alertname="{AlertName.WATCHDOG}"'],
            "repeat_interval": duration(al.watchdog_repeat_s),
        },
        {"receiver": ORCHESTRATOR_RECEIVER, "matchers": ['action="pause"'], "continue": True},
        {
            "receiver": ORCHESTRATOR_RECEIVER,
            "matchers": ['action!="pause"'],
            "continue": True,
            "routes": _severity_routes(cfg),
        },
    ]
    for name, receiver in sorted(al.direct_receivers.items()):
        names = "|".join(sorted(receiver.alerts))
        routes.append(
            {
                "receiver": name,
                "matchers": [f'alertname=~"{names}"'],
                "repeat_interval": duration(al.critical_repeat_s),
                "continue": True,
            }
        )
    if al.default_webhook_url is not None:
        routes.append({"receiver": DEFAULT_RECEIVER})
    return routes


def build_alertmanager_config(cfg: ArbqosConfig) -> dict[str, Any]:
    """Return the Alertmanager configuration document."""
    al = cfg.alerting
    route = {
        "receiver": ORCHESTRATOR_RECEIVER,
        "group_by": list(GROUP_BY),
        "group_wait": duration(al.group_wait_s),
        "group_interval": duration(al.group_interval_s),
        "repeat_interval": duration(al.repeat_interval_s),
        "routes": build_routes(cfg),
    }
    inhibit_rules = []
    for source, target, equal, _why in INHIBITIONS:
        rule: dict[str, Any] = {
            "source_matchers": [source],
            "target_matchers": [*target, 'action!="pause"'],
        }
        if equal:
            rule["equal"] = list(equal)
        inhibit_rules.append(rule)
    receivers = [orchestrator_receiver(cfg)]
    receivers += [direct_receiver(n, r) for n, r in sorted(al.direct_receivers.items())]
    default = default_receiver(cfg)
    if default is not None:
        receivers.append(default)
    return {"route": route, "inhibit_rules": inhibit_rules, "receivers": receivers}


def header(cfg: ArbqosConfig) -> str:
    """The comment at the top of alertmanager.yml: routing and why each inhibition exists."""
    al = cfg.alerting
    direct = ", ".join(sorted(al.direct_receivers)) or "none configured"
    lines = [
        GENERATED,
        "Routing: every alert -> orchestrator webhook (Bearer token read from",
        f"{al.pause_token_file}); ArbWatchdog only there, re-sent every "
        f"{duration(al.watchdog_repeat_s)};",
        f"receivers that bypass the orchestrator (alerting.direct_receivers): {direct}.",
        f"group_interval {duration(al.group_interval_s)}: a resolve goes out at the "
        "next group tick, so keep it short or a re-breach",
        "before that tick is deduplicated away; the orchestrator webhook is idempotent and",
        "level-triggered (a repeated firing notification re-asserts the pause).",
        "Inhibitions (a pause alert is never inhibited):",
    ]
    for source, target, equal, why in INHIBITIONS:
        same = f" on the same {', '.join(equal)}" if equal else ""
        lines.append(f"- {source} mutes {', '.join(target)}{same}: {why}.")
    return "\n".join(lines)
