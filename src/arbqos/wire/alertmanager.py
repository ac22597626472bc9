"""The Alertmanager webhook (payload version 4) and the orchestrator's answer to it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    field_validator,
)

from arbqos.wire.base import Labels, WireModel, clip_text

Clipped4K = Annotated[str, BeforeValidator(clip_text(4096))]


class AmAlert(BaseModel):
    """One alert of an Alertmanager webhook (fields Alertmanager may add later are ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    status: Literal["firing", "resolved"]
    labels: Labels
    annotations: Labels = Field(default_factory=dict)
    starts_at: AwareDatetime = Field(alias="startsAt")
    ends_at: AwareDatetime | None = Field(default=None, alias="endsAt")
    generator_url: Clipped4K = Field(default="", alias="generatorURL")
    fingerprint: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z]{1,64}$")]

    @field_validator("labels")
    @classmethod
    def _has_alertname(cls, value: dict[str, str]) -> dict[str, str]:
        if not value.get("alertname"):
            raise ValueError("labels must include a non-empty alertname")
        return value


class AlertmanagerPayload(BaseModel):
    """Alertmanager webhook body, version 4.

    Unknown fields are ignored rather than refused: Alertmanager has added fields to version 4
    before (`truncatedAlerts`), and refusing a webhook would lose a pause.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    version: Literal["4"]
    status: Literal["firing", "resolved"]
    receiver: Annotated[str, BeforeValidator(clip_text(256))] = ""
    alerts: Annotated[list[AmAlert], Field(max_length=10_000)]
    group_labels: Labels = Field(default_factory=dict, alias="groupLabels")
    common_labels: Labels = Field(default_factory=dict, alias="commonLabels")
    common_annotations: Labels = Field(default_factory=dict, alias="commonAnnotations")
    external_url: Clipped4K = Field(default="", alias="externalURL")
    group_key: Clipped4K = Field(default="", alias="groupKey")
    truncated_alerts: Annotated[StrictInt, Field(ge=0)] = Field(default=0, alias="truncatedAlerts")


class AlertResultOut(WireModel):
    """What the orchestrator did with one alert."""

    alertname: str
    fingerprint: str
    status: str
    reason: str | None
    action: Literal["paused", "already_paused", "reason_resolved", "ignored"]
    detail: str


class AlertmanagerResponse(WireModel):
    """Answer of the Alertmanager webhook."""

    state: Literal["running", "paused"]
    results: list[AlertResultOut]
