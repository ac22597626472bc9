"""Alertmanager receivers: the orchestrator webhook and the direct receivers that bypass it.

Secrets stay in files Alertmanager reads at send time (0.25 supports `credentials_file`,
`password_file`, slack `api_url_file` and email `auth_password_file`), so the rendered
alertmanager.yml holds paths, never a token, a password or a Slack webhook URL.
"""

from __future__ import annotations

from typing import Any

from arbqos.config import ArbqosConfig, DirectReceiver

ORCHESTRATOR_RECEIVER = "orchestrator"
DEFAULT_RECEIVER = "default"
WEBHOOK_PATH = "/v1/alertmanager"
INTEGRATIONS = (
    "webhook_configs",
    "slack_configs",
    "email_configs",
    "pagerduty_configs",
    "opsgenie_configs",
    "pushover_configs",
    "victorops_configs",
    "wechat_configs",
    "sns_configs",
    "telegram_configs",
    "discord_configs",
    "webex_configs",
    "msteams_configs",
)
"""Every `*_configs` key of an Alertmanager receiver (0.25 and newer)."""

TITLE = "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}"
TEXT = (
    "{{ range .Alerts }}{{ .Annotations.summary }}: {{ .Annotations.description }} "
    '(since {{ .StartsAt.UTC.Format "2006-01-02T15:04:05Z" }})\n{{ end }}'
)
"""Message of the direct receivers: what, why, since when (UTC), one line per alert."""


def orchestrator_receiver(cfg: ArbqosConfig) -> dict[str, Any]:
    """The orchestrator webhook, authenticated with the pause token read from a file."""
    return {
        "name": ORCHESTRATOR_RECEIVER,
        "webhook_configs": [
            {
                "url": cfg.endpoints.orchestrator_url + WEBHOOK_PATH,
                "send_resolved": True,
                "max_alerts": 0,
                "http_config": {
                    "authorization": {
                        "type": "Bearer",
                        "credentials_file": cfg.alerting.pause_token_file,
                    }
                },
            }
        ],
    }


def _webhook(receiver: DirectReceiver) -> dict[str, Any]:
    config: dict[str, Any] = {"url": receiver.url, "send_resolved": receiver.send_resolved}
    if receiver.credentials_file:
        config["http_config"] = {
            "authorization": {"type": "Bearer", "credentials_file": receiver.credentials_file}
        }
    elif receiver.password_file:
        config["http_config"] = {
            "basic_auth": {"username": receiver.username, "password_file": receiver.password_file}
        }
    return config


def _slack(receiver: DirectReceiver) -> dict[str, Any]:
    config: dict[str, Any] = {
        "api_url_file": receiver.api_url_file,
        "send_resolved": receiver.send_resolved,
        "title": TITLE,
        "text": TEXT,
    }
    if receiver.channel:
        config["channel"] = receiver.channel
    return config


def _email(receiver: DirectReceiver) -> dict[str, Any]:
    config: dict[str, Any] = {
        "to": receiver.to,
        "from": receiver.sender,
        "smarthost": receiver.smarthost,
        "require_tls": receiver.require_tls,
        "send_resolved": receiver.send_resolved,
        "headers": {"Subject": TITLE},
        "text": TEXT,
    }
    if receiver.password_file:
        config["auth_username"] = receiver.username
        config["auth_password_file"] = receiver.password_file
    return config


_RENDER = {"webhook": _webhook, "slack": _slack, "email": _email}


def direct_receiver(name: str, receiver: DirectReceiver) -> dict[str, Any]:
    """One direct receiver (`<type>_configs` with a single entry)."""
    return {"name": name, f"{receiver.type}_configs": [_RENDER[receiver.type](receiver)]}


def default_receiver(cfg: ArbqosConfig) -> dict[str, Any] | None:
    """The `default` webhook receiver when `alerting.default_webhook_url` is set."""
    url = cfg.alerting.default_webhook_url
    if url is None:
        return None
    return {"name": DEFAULT_RECEIVER, "webhook_configs": [{"url": url, "send_resolved": True}]}


def has_integration(receiver: dict[str, Any]) -> bool:
    """Tell whether a receiver has at least one integration (else its notifications vanish)."""
    return any(receiver.get(key) for key in INTEGRATIONS)
