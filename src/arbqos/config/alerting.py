"""`config/alerting.yml`: Prometheus and Alertmanager settings, routing and notification channels.

Secrets never sit in this file: Alertmanager reads them from files (`pause_token_file`, a
direct receiver's `api_url_file`, `credentials_file`, `password_file`) and the orchestrator
reads its channel URLs from `notify_urls_file`, whose path is left out of the config hash.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from arbqos.config.base import HostPort, HttpUrl, PositiveSeconds, Section
from arbqos.config.redact import redact_url
from arbqos.vocab import AlertName, Severity, pause_alerts

ReceiverType = Literal["slack", "webhook", "email"]
RESERVED_RECEIVERS = ("orchestrator", "default")
_RECEIVER_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_TAG = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _inline_safe_url(value: str) -> str:
    """Refuse a URL that carries a credential: Alertmanager 0.25 reads webhook URLs inline."""
    if redact_url(value) != value:
        raise ValueError(
            "this URL carries a credential (user info, a query value or a key-like path "
            "segment) and Alertmanager 0.25 takes webhook URLs only inline, so it would be "
            "written into ops/alertmanager/alertmanager.yml; keep the URL plain and put the "
            "secret in credentials_file (Bearer) or username + password_file (basic auth)"
        )
    return value


def _tag(value: str) -> str:
    """Accept a channel tag as the notify URLs file writes it (`ops,phone=tgram://...`)."""
    if not _TAG.match(value):
        raise ValueError(
            "expected a channel tag: 1-64 letters, digits, `_`, `-` or `.` (the tags written "
            "before `=` in the notify URLs file), or `all` for every channel"
        )
    return value


InlineUrl = Annotated[HttpUrl, AfterValidator(_inline_safe_url)]
Tag = Annotated[str, AfterValidator(_tag)]

DIRECT_DEFAULT_ALERTS: tuple[AlertName, ...] = (
    AlertName.ORCHESTRATOR_DOWN,
    AlertName.ALERTMANAGER_NOTIFY_FAILING,
)
"""What a direct receiver gets by default: the alerts the orchestrator cannot deliver itself."""

_NEEDS: dict[str, tuple[str, ...]] = {
    "slack": ("api_url_file",),
    "webhook": ("url",),
    "email": ("to", "sender", "smarthost"),
}
_MAY: dict[str, tuple[str, ...]] = {
    "slack": ("channel",),
    "webhook": ("credentials_file", "username", "password_file"),
    "email": ("username", "password_file"),
}
_WHAT = {
    "api_url_file": "a file holding the Slack incoming-webhook URL (Alertmanager reads it, so "
    "the URL stays out of alertmanager.yml)",
    "url": "the webhook URL, without credentials",
    "to": "the recipient address",
    "sender": "the From address",
    "smarthost": "the SMTP server as host:port",
}


class DirectReceiver(Section):
    """An Alertmanager-native receiver that does not pass through the orchestrator.

    Alertmanager 0.25 can read the secret of these from a file: slack (`api_url_file`),
    webhook (`credentials_file` or `password_file`) and email (`password_file`).
    """

    type: ReceiverType
    """slack, webhook or email (the integrations Alertmanager 0.25 feeds secrets by file)."""
    alerts: Annotated[list[AlertName], Field(min_length=1)] = Field(
        default_factory=lambda: list(DIRECT_DEFAULT_ALERTS)
    )
    """Alert names sent here (besides the orchestrator); ArbWatchdog is not allowed."""
    send_resolved: bool = True
    """Also send a notice when the alert resolves."""
    api_url_file: str | None = None
    """slack: file holding the incoming-webhook URL."""
    channel: str | None = None
    """slack: channel to post to (default: the webhook's own channel)."""
    url: InlineUrl | None = None
    """webhook: URL to POST the Alertmanager payload to (no credentials in it)."""
    credentials_file: str | None = None
    """webhook: file holding a Bearer token."""
    username: str | None = None
    """webhook (basic auth) or email (SMTP auth): user name; needs password_file."""
    password_file: str | None = None
    """webhook (basic auth) or email (SMTP auth): file holding the password."""
    to: str | None = None
    """email: recipient address."""
    sender: str | None = None
    """email: From address."""
    smarthost: HostPort | None = None
    """email: SMTP server, host:port."""
    require_tls: bool = True
    """email: insist on STARTTLS."""

    @field_validator("type", mode="before")
    @classmethod
    def _known_type(cls, value: object) -> object:
        newer = {"telegram": ("bot_token_file", "0.26"), "discord": ("webhook_url_file", "0.27")}
        if value in newer:
            key, version = newer[str(value)]
            raise ValueError(
                f"only Alertmanager {version} and newer read a {value} secret from a file "
                f"({key}); 0.25 (Debian 12) would need it inline in alertmanager.yml. Use "
                f"slack, webhook or email here, and put the {value} URL in the notify URLs "
                "file (delivered by the orchestrator)"
            )
        return value

    @field_validator("alerts")
    @classmethod
    def _no_watchdog(cls, value: list[AlertName]) -> list[AlertName]:
        if AlertName.WATCHDOG in value:
            raise ValueError(
                "the always-firing ArbWatchdog goes only to the orchestrator, which watches "
                "that it keeps arriving; remove it from this list"
            )
        return value

    @field_validator(*sorted({f for fields in (*_NEEDS.values(), *_MAY.values()) for f in fields}))
    @classmethod
    def _fits_type(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind, name = info.data.get("type"), info.field_name or ""
        if kind is None:
            return value
        if value is None and name in _NEEDS[kind]:
            article = "an" if kind[0] in "aeiou" else "a"
            raise ValueError(f"{article} {kind} receiver needs {name}: {_WHAT[name]}")
        if value is not None and name not in (*_NEEDS[kind], *_MAY[kind]):
            users = [t for t in _NEEDS if name in (*_NEEDS[t], *_MAY[t])]
            raise ValueError(
                f"not used by this {kind} receiver (only by {', '.join(users)}); remove it"
            )
        if name == "password_file" and (value is None) != (info.data.get("username") is None):
            raise ValueError("username and password_file go together; give both or neither")
        if name == "password_file" and value and info.data.get("credentials_file"):
            raise ValueError("choose one: credentials_file (Bearer) or username + password_file")
        return value


class AlertingConfig(Section):
    """`config/alerting.yml`: Prometheus and Alertmanager timings, routing and channels."""

    scrape_interval_s: PositiveSeconds = 1.0
    """Prometheus scrape interval, seconds."""
    evaluation_interval_s: PositiveSeconds = 1.0
    """Prometheus rule evaluation interval, seconds."""
    kpi_interval_s: PositiveSeconds = 60.0
    """Evaluation interval of the long-window KPI rules (1 h to 7 d), s; must divide 3600."""
    pause_for_s: Annotated[float, Field(ge=0)] = 0.0
    """`for:` of alerts that pause trading, seconds."""
    warn_for_s: Annotated[float, Field(ge=0)] = 60.0
    """`for:` of alerts that only notify, seconds."""
    absent_for_s: PositiveSeconds = 30.0
    """`for:` of ArbEngineMetricsAbsent, ArbThresholdBucketMissing, ArbOrchestratorDown, s."""
    pause_on_engine_absent: bool = False
    """ArbEngineMetricsAbsent also pauses trading (off: the in-process guard still pauses)."""
    group_wait_s: Annotated[float, Field(ge=0)] = 0.0
    """Alertmanager group_wait, seconds (0: the first alert goes out at once)."""
    group_interval_s: PositiveSeconds = 1.0
    """Alertmanager group_interval, seconds."""
    repeat_interval_s: PositiveSeconds = 3600.0
    """Re-send of a firing pause alert to the orchestrator, s; longer than exec.qos_window_s."""
    critical_repeat_s: PositiveSeconds = 1800.0
    """Re-send of a firing critical alert that does not pause, seconds."""
    warning_repeat_s: PositiveSeconds = 14400.0
    """Re-send of a firing warning alert, seconds."""
    info_repeat_s: PositiveSeconds = 86400.0
    """Re-send of a firing info alert, seconds."""
    watchdog_repeat_s: PositiveSeconds = 60.0
    """Re-send of ArbWatchdog to the orchestrator, s (gaps: this to this + group_interval_s)."""
    heartbeat_stale_intervals: Annotated[float, Field(gt=1)] = 3.0
    """ArbHeartbeatStale fires after this many heartbeat intervals without a tick."""
    pause_token_file: str = "/etc/arbqos/pause_token"
    """Credentials file Alertmanager reads the pause token from."""
    default_webhook_url: InlineUrl | None = None
    """Extra webhook that gets every alert but ArbWatchdog (chat bridge, pager); empty: none."""
    direct_receivers: dict[str, DirectReceiver] = Field(default_factory=dict)
    """Alertmanager receivers that bypass the orchestrator (for ArbOrchestratorDown), by name."""
    notify_urls_file: str | None = Field(default=None, json_schema_extra={"hash": False})
    """Secrets file of apprise URLs (`tag1,tag2=url` lines); env ARBQOS_NOTIFY_URLS_FILE wins."""
    notify_critical_tags: list[Tag] = Field(default_factory=lambda: ["all"])
    """Channel tags that get critical alerts and pause/resume notices (`all`: every channel)."""
    notify_warning_tags: list[Tag] = Field(default_factory=list)
    """Channel tags that get warning alerts (e.g. a low wallet); empty: none."""
    notify_info_tags: list[Tag] = Field(default_factory=list)
    """Channel tags that get info alerts; empty: none (ArbWatchdog never notifies)."""
    prometheus_listen: HostPort = "127.0.0.1:9090"
    """Prometheus listen address, host:port."""
    alertmanager_listen: HostPort = "127.0.0.1:9093"
    """Alertmanager listen address, host:port."""
    engine_target: HostPort = "127.0.0.1:9101"
    """`/metrics` of the arb engine's instrumentation exporter, host:port."""

    @field_validator("absent_for_s")
    @classmethod
    def _several_scrapes(cls, value: float, info: ValidationInfo) -> float:
        scrape = info.data.get("scrape_interval_s")
        if scrape is not None and value < 3 * scrape:
            raise ValueError(
                f"must be at least 3 x alerting.scrape_interval_s ({3 * scrape:g} s), so one "
                "or two failed scrapes do not raise ArbEngineMetricsAbsent or ArbOrchestratorDown"
            )
        return value

    @field_validator("kpi_interval_s")
    @classmethod
    def _whole_steps_per_hour(cls, value: float, info: ValidationInfo) -> float:
        evaluation = info.data.get("evaluation_interval_s")
        if evaluation is not None and value < evaluation:
            raise ValueError(
                f"must be at least alerting.evaluation_interval_s ({evaluation:g} s): the KPI "
                "rules are the slow group"
            )
        if round(3_600_000 % round(value * 1000)) != 0:
            raise ValueError(
                "must divide one hour exactly (e.g. 10, 15, 30, 60, 300), so every KPI horizon "
                "(1 h, 6 h, 24 h, 7 d) is a whole number of evaluations"
            )
        return value

    @field_validator("notify_urls_file")
    @classmethod
    def _a_path_not_a_url(cls, value: str | None) -> str | None:
        if value is not None and "://" in value:
            raise ValueError(
                "expected the path of a file that holds the channel URLs, not a URL: a URL "
                "here would sit in the config (and in git); write it into that file instead"
            )
        return value

    @field_validator("notify_critical_tags")
    @classmethod
    def _critical_goes_somewhere(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError(
                "critical alerts and pause/resume notices must reach a channel: use [all] "
                "(every channel) or the tags of the channels that should get them"
            )
        return value

    @field_validator("direct_receivers", mode="before")
    @classmethod
    def _receiver_names(cls, value: object) -> object:
        for name in value if isinstance(value, dict) else ():
            if name in RESERVED_RECEIVERS or not _RECEIVER_NAME.match(name):
                raise ValueError(
                    f"receiver name {name!r} is not allowed: use 1-32 lower-case letters, "
                    "digits, `_` or `-`, starting with a letter, other than "
                    + " and ".join(RESERVED_RECEIVERS)
                )
        return value

    def pause_alerts(self) -> frozenset[AlertName]:
        """The alerts rendered with `action="pause"` under this configuration."""
        return pause_alerts(pause_on_engine_absent=self.pause_on_engine_absent)

    def notify_tags(self, severity: Severity) -> tuple[str, ...]:
        """The channel tags a notification of `severity` goes to (empty: nowhere)."""
        tags = {
            Severity.CRITICAL: self.notify_critical_tags,
            Severity.WARNING: self.notify_warning_tags,
            Severity.INFO: self.notify_info_tags,
        }
        return tuple(tags[severity])
