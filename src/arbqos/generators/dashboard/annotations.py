"""Annotations that tell the story on every graph: pauses with their reason, resumes, pause
alerts firing and resolved, configuration loads and rules changes.

Grafana's Prometheus annotations turn each series into a region from its first to its last
sample (`titleFormat` / `textFormat` name it from the labels), or, with `useValueForTime`,
into one event per distinct value (a unix time in milliseconds). grafana-foundation-sdk's
`AnnotationQuery` has no field for these Prometheus options, so `PromAnnotation` adds them
to the model it builds.
"""

from __future__ import annotations

from dataclasses import dataclass

from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models import dashboard as models

from arbqos.generators.blindspots import RULES_INFO
from arbqos.generators.dashboard.exprs import hash12
from arbqos.generators.dashboard.panels import DATASOURCE
from arbqos.generators.promql import counter, gauge

STEP = "10s"
"""Resolution of the annotation queries: pauses shorter than this may not show."""


class _Model(models.AnnotationQuery):
    """The SDK annotation model plus the Prometheus data source's own options."""

    prom_options: dict[str, object]

    def to_json(self) -> dict[str, object]:
        payload = super().to_json()
        payload.update(self.prom_options)
        return payload


@dataclass(frozen=True)
class PromAnnotation(Builder[models.AnnotationQuery]):
    """A Prometheus annotation query with title, text, tags and time-from-value options."""

    name: str
    expr: str
    colour: str
    title: str
    text: str
    tags: str = ""
    value_is_time: bool = False

    def build(self) -> models.AnnotationQuery:
        """The SDK model, via its builder, with the Prometheus options added."""
        built = (
            dashboard_builders.AnnotationQuery()
            .name(self.name)
            .datasource(DATASOURCE)
            .enable(True)
            .icon_color(self.colour)
            .expr(self.expr)
            .build()
        )
        model = _Model(**{k: getattr(built, k) for k in vars(built)})
        model.prom_options = {
            "step": STEP,
            "titleFormat": self.title,
            "textFormat": self.text,
            "tagKeys": self.tags,
            "useValueForTime": self.value_is_time,
        }
        return model


def story_annotations() -> list[PromAnnotation]:
    """Every annotation of the dashboard, in the order of the toggles at its top."""
    reason = gauge("arb_orchestrator_reason_since_timestamp_seconds")
    auto = counter("arb_orchestrator_auto_resumes_total")
    rules = f"group by (config_hash) ({RULES_INFO})"
    return [
        PromAnnotation(
            "Pause reasons",
            f"max by (source, reason, class) ({reason})",
            "red",
            "paused: {{reason}}",
            "asked by {{source}} ({{class}}); the region ends when the reason is cleared",
            "source,class",
        ),
        PromAnnotation(
            "Trading paused",
            f"max({gauge('arb_orchestrator_paused')}) == 1",
            "dark-red",
            "trading paused",
            "from the pause to the resume (end of the region)",
        ),
        PromAnnotation(
            "Automatic resumes",
            f"increase({auto}[{STEP}]) > 0",
            "green",
            "automatic resume",
            "every infrastructure reason had recovered",
        ),
        PromAnnotation(
            "Pause alerts",
            'ALERTS{action="pause", alertstate="firing"}',
            "orange",
            "{{alertname}} firing",
            "{{venue}}{{chain}} {{cause}}: firing until the end of the region (resolved)",
            "alertname,severity",
        ),
        PromAnnotation(
            "Config loaded",
            "max by (service) (arb_config_last_reload_success_timestamp_seconds) * 1000\n"
            "* on (service) group_left (config_hash, hash) "
            + hash12("max by (service, config_hash) (arb_config_info)"),
            "blue",
            "{{service}} loaded config {{hash}}",
            "config hash {{config_hash}}",
            "service",
            value_is_time=True,
        ),
        PromAnnotation(
            "Rules hash changed",
            hash12(f"{rules}\nunless group by (config_hash) ({RULES_INFO} offset 1m)"),
            "purple",
            "rules from config {{hash}}",
            "Prometheus loaded rules rendered from config {{config_hash}}",
        ),
    ]
