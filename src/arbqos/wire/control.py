"""The pause state on the wire: pause, resume, status, journal and error bodies."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, StrictBool

from arbqos.vocab import PauseSource, ReasonClass
from arbqos.wire.base import CallerSource, Detail, ReasonText, RequestBody, WireModel

StateName = Literal["running", "paused"]


class PauseRequest(RequestBody):
    """`POST /v1/pause`."""

    reason: ReasonText
    source: CallerSource = PauseSource.MANUAL
    detail: Detail = ""


class ResumeRequest(RequestBody):
    """`POST /v1/resume`; `detail` says why (journaled)."""

    force: StrictBool = False
    detail: Detail = ""


class ReasonOut(WireModel):
    """One pause reason; `active` is False once its signal recovered."""

    source: str
    name: str
    since: str
    detail: str = ""
    active: bool = True
    inactive_since: str | None = None
    escalated: bool = False
    """Lifted automatically too often within an hour: now waits for an admin."""


class StatusReasonOut(ReasonOut):
    """One pause reason as `/v1/status` lists it: with its class and what it waits for.

    Both are optional so that a client reads an orchestrator older than them (a status it
    cannot parse would stop trading).
    """

    model_config = ConfigDict(populate_by_name=True)

    reason_class: ReasonClass | None = Field(default=None, alias="class")
    waiting_for: str = ""


class ResumePolicyOut(WireModel):
    """How infrastructure reasons lift themselves, and when the next automatic resume is due."""

    infra_resume_after_s: float
    max_auto_resumes_per_hour: int
    auto_resumes_last_hour: int
    next_auto_resume_at: str | None = None


class LastReportOut(WireModel):
    """The last heartbeat report the orchestrator received."""

    received_at: str
    ts: str
    tick: int
    config_hash: str
    down: list[str] = Field(default_factory=list)


class HeartbeatStatusOut(WireModel):
    """The dead man's switch part of `/v1/status`."""

    deadman_enabled: bool
    deadman_window_s: float
    silent_s: float
    last_report: LastReportOut | None = None


class ChannelStatusOut(WireModel):
    """What one notification channel has done since start (secrets masked)."""

    channel: str
    tags: list[str] = Field(default_factory=list)
    queued: int = 0
    sent: int = 0
    failed: int = 0
    dropped: int = 0
    last_sent_at: str | None = None
    last_error: str = ""


class AlertingStatusOut(WireModel):
    """The alert pipeline (Alertmanager's watchdog alert) and the notification channels."""

    state: str
    """`starting`, `up` or `silent`."""
    up: bool
    last_watchdog_at: str | None = None
    silent_since: str | None = None
    timeout_s: float
    pipeline_up: bool
    pause_on_pipeline_down: bool = False
    channels: list[ChannelStatusOut] = Field(default_factory=list)


class StatusResponse(WireModel):
    """`GET /v1/status`: whether trading is allowed, and why not."""

    state: StateName
    reasons: list[StatusReasonOut]
    since: str
    config_hash: str = ""
    resume: ResumePolicyOut | None = None
    heartbeat: HeartbeatStatusOut | None = None
    alerting: AlertingStatusOut | None = None

    @property
    def paused(self) -> bool:
        """True unless the state is `running`."""
        return self.state != "running"


class PauseResponse(WireModel):
    """Answer of pause: the state after the request and whether it changed anything."""

    state: StateName
    changed: bool
    persisted: bool = True
    """False when the change holds in memory only (the store failed; retried every second)."""


class ResumeResponse(PauseResponse):
    """Answer of resume, with the reasons it cleared."""

    cleared: list[ReasonOut] = Field(default_factory=list)


class JournalEntryOut(WireModel):
    """One row of the audit journal: a request, a reason change or a state transition."""

    id: int
    ts: str
    kind: str
    action: str
    who: str
    client: str
    source: str | None
    reason: str | None
    detail: str
    state_before: str
    state_after: str
    changed: bool
    data: dict[str, Any]


class JournalResponse(WireModel):
    """`GET /v1/journal`: newest entries first."""

    entries: list[JournalEntryOut]


class ErrorResponse(WireModel):
    """Every 4xx/5xx body: a short code, a message naming the problem and the fix, details."""

    error: str
    message: str
    errors: list[dict[str, Any]] = Field(default_factory=list)


class ResumeRefusedResponse(ErrorResponse):
    """HTTP 409 of resume: the automatic reasons that are still active."""

    active_reasons: list[ReasonOut] = Field(default_factory=list)
