"""The Alertmanager webhook (payload version 4) and the orchestrator's answer to it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    field_validator,
)

from arbqos.wire.base import Label, WireModel


class AmAlert(BaseModel):
    """One alert of an Alertmanager webhook (fields Alertmanager may add later are ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    status: Literal["firing", "resolved"]
    labels: Annotated[dict[str, Label], Field(max_length=64)]
    annotations: Annotated[dict[str, Label], Field(max_length=64)] = Field(default_factory=dict)
    starts_at: AwareDatetime = Field(alias="startsAt")
    ends_at: AwareDatetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL", max_length=4096)
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
    receiver: Annotated[str, StringConstraints(max_length=256)] = ""
    alerts: Annotated[list[AmAlert], Field(max_length=1000)]
    group_labels: dict[str, Label] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, Label] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, Label] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field(default="", alias="externalURL", max_length=4096)
    group_key: str = Field(default="", alias="groupKey", max_length=4096)
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
