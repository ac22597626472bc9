"""Alertmanager config: `action="pause"` alerts to the orchestrator webhook, the rest to people.

The orchestrator receiver is level-triggered and idempotent (it deduplicates by fingerprint and
re-asserts a pause on every repeat), so a notification that Alertmanager holds back (a warm
group waits up to `group_interval`) or repeats (`repeat_interval`) is harmless. A small
`group_interval` (1 s by default) sends the resolve quickly, so a re-breach is a new
notification instead of being deduplicated against a stale "firing" entry.
"""

from __future__ import annotations

from typing import Any

from arbqos.config import ArbqosConfig
from arbqos.generators.promql import duration
from arbqos.generators.serialize import GENERATED

ORCHESTRATOR_RECEIVER = "orchestrator"
DEFAULT_RECEIVER = "default"
WEBHOOK_PATH = "/v1/alertmanager"
GROUP_BY: tuple[str, ...] = ("alertname", "venue", "chain", "wallet", "target", "cause")
"""Identifying labels: one group (and so one webhook timeline) per thing that broke."""

INHIBITIONS: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    (
        'alertname="ArbHeartbeatStale"',
        'alertname=~"ArbProbeFailed|ArbChainRpcDown|ArbChainHeadStale"',
        (),
        "the heartbeat is stale, so the probe and chain gauges it feeds are frozen",
    ),
    (
        'alertname=~"ArbRpcDown|ArbChainRpcDown"',
        'alertname="ArbChainHeadStale"',
        ("chain",),
        "without an answering RPC the head of that chain cannot be read",
    ),
    (
        'alertname="ArbSequencerDown"',
        'alertname="ArbChainHeadStale"',
        ("chain",),
        "a down sequencer produces no blocks, so its chain head ages",
    ),
)
"""(source matcher, target matcher, equal labels, why). Pause alerts are never targets."""


def build_alertmanager_config(cfg: ArbqosConfig) -> dict[str, Any]:
    """Return the Alertmanager configuration document."""
    al = cfg.alerting
    timing = {
        "group_wait": duration(al.group_wait_s),
        "group_interval": duration(al.group_interval_s),
        "repeat_interval": duration(al.repeat_interval_s),
    }
    route = {
        "receiver": DEFAULT_RECEIVER,
        "group_by": list(GROUP_BY),
        **timing,
        "routes": [
            {"receiver": ORCHESTRATOR_RECEIVER, "matchers": ['action="pause"'], "continue": True},
            {"receiver": DEFAULT_RECEIVER},
        ],
    }
    inhibit_rules = []
    for source, target, equal, _why in INHIBITIONS:
        rule: dict[str, Any] = {
            "source_matchers": [source],
            "target_matchers": [target, 'action!="pause"'],
        }
        if equal:
            rule["equal"] = list(equal)
        inhibit_rules.append(rule)
    orchestrator = {
        "name": ORCHESTRATOR_RECEIVER,
        "webhook_configs": [
            {
                "url": cfg.endpoints.orchestrator_url + WEBHOOK_PATH,
                "send_resolved": True,
                "max_alerts": 0,
                "http_config": {
                    "authorization": {
                        "type": "Bearer",
                        "credentials_file": al.pause_token_file,
                    }
                },
            }
        ],
    }
    default: dict[str, Any] = {"name": DEFAULT_RECEIVER}
    if al.default_webhook_url:
        default["webhook_configs"] = [{"url": al.default_webhook_url, "send_resolved": True}]
    return {
        "route": route,
        "inhibit_rules": inhibit_rules,
        "receivers": [orchestrator, default],
    }


def header(cfg: ArbqosConfig) -> str:
    """The comment at the top of alertmanager.yml: routing and why each inhibition exists."""
    lines = [
        GENERATED,
        'Routing: action="pause" -> orchestrator webhook (Bearer token read from',
        f"{cfg.alerting.pause_token_file}), and every alert -> the default receiver.",
        f"group_interval {duration(cfg.alerting.group_interval_s)}: a resolve goes out at the "
        "next group tick, so keep it short or a re-breach",
        "before that tick is deduplicated away; the orchestrator webhook is idempotent and",
        "level-triggered (a repeated firing notification re-asserts the pause).",
        "Inhibitions (a pause alert is never inhibited):",
    ]
    for source, target, equal, why in INHIBITIONS:
        same = f" on the same {', '.join(equal)}" if equal else ""
        lines.append(f"- {source} mutes {target}{same}: {why}.")
    return "\n".join(lines)
