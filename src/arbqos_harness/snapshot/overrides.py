"""Field overrides: each series' own field config, name, colour and axis side, as Grafana does."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from arbqos_harness.snapshot.fields import FieldStyle, opt_float
from arbqos_harness.snapshot.model import Series
from arbqos_harness.snapshot.theme import color_of, series_color

PLACEMENTS = ("auto", "left", "right", "hidden")
_TEMPLATE = re.compile(
    r"\$\{(__field\.labels\.(\w+)|__field\.labels|__field\.name|__series\.name)\}"
)


def grafana_regex(pattern: str) -> re.Pattern[str] | None:
    """A Grafana name regex: `/re/flags` searches, anything else must match the whole name."""
    try:
        slashed = re.fullmatch(r"/(.*)/([gimsy]*)", pattern)
        if slashed is None:
            return re.compile(f"^(?:{pattern})$")
        flags = (re.IGNORECASE if "i" in slashed.group(2) else 0) | (
            re.DOTALL if "s" in slashed.group(2) else 0
        )
        return re.compile(slashed.group(1), flags)
    except re.error:
        return None


def matches(matcher: Mapping[str, Any], series: Series) -> bool:
    """Whether a matcher (`byFrameRefID`, `byName`, `byNames`, `byRegexp`) picks `series`."""
    kind, options = matcher.get("id"), matcher.get("options")
    if kind == "byFrameRefID":
        return series.ref_id == str(options)
    if kind == "byName":
        return series.name == str(options)
    if kind == "byNames" and isinstance(options, Mapping):
        names = {str(n) for n in options.get("names") or []}
        return (series.name in names) != (options.get("mode") == "exclude")
    if kind == "byRegexp":
        regex = grafana_regex(str(options or ""))
        return regex is not None and regex.search(series.name) is not None
    if kind == "byType":
        return options == "number"
    return False


def _set(config: dict[str, Any], path: str, value: Any) -> None:
    """Set `custom.axisPlacement`-style dotted property ids in a nested config."""
    *parents, leaf = path.split(".")
    node = config
    for key in parents:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = dict(child) if isinstance(child, Mapping) else {}
        node = child
    node[leaf] = value


def merged_config(panel: Mapping[str, Any], series: Series) -> tuple[dict[str, Any], set[str]]:
    """The defaults with every matching override applied in order, and the property ids set."""
    field_config = panel.get("fieldConfig") or {}
    config: dict[str, Any] = copy.deepcopy(dict(field_config.get("defaults") or {}))
    touched: set[str] = set()
    for override in field_config.get("overrides") or []:
        if not isinstance(override, Mapping) or not matches(override.get("matcher") or {}, series):
            continue
        for prop in override.get("properties") or []:
            if isinstance(prop, Mapping) and prop.get("id"):
                _set(config, str(prop["id"]), copy.deepcopy(prop.get("value")))
                touched.add(str(prop["id"]))
    return config, touched


def display_name(template: str, series: Series) -> str:
    """A `displayName` with `${__field.labels.x}`, `${__field.labels}`, `${__series.name}`."""

    def one(match: re.Match[str]) -> str:
        if match.group(2):
            return series.labels.get(match.group(2), "")
        if match.group(1) == "__field.labels":
            shown = sorted(series.labels.items())
            return ", ".join(f"{k}={v}" for k, v in shown if k != "__name__")
        return series.name

    return _TEMPLATE.sub(one, template)


@dataclass(frozen=True)
class SeriesField:
    """One series with its resolved field config: name, colour, style and axis."""

    series: Series
    style: FieldStyle
    name: str
    color: str
    placement: str
    own_thresholds: bool
    hide_legend: bool
    hide_viz: bool

    @property
    def scale_key(self) -> tuple[Any, ...]:
        """Series share an axis when unit, limits, soft limits, placement and label agree."""
        custom = self.style.custom
        return (
            self.style.unit,
            self.style.min,
            self.style.max,
            opt_float(custom.get("axisSoftMin")),
            opt_float(custom.get("axisSoftMax")),
            self.placement,
            str(custom.get("axisLabel") or ""),
        )


def resolve_fields(panel: Mapping[str, Any], series: Sequence[Series]) -> list[SeriesField]:
    """Every series of a panel with the defaults and its matching overrides applied."""
    out = []
    for index, one in enumerate(series):
        config, touched = merged_config(panel, one)
        if not isinstance(config.get("custom"), Mapping):
            config["custom"] = {}
        style = FieldStyle.of_config(config)
        placement = str(style.custom.get("axisPlacement") or "auto")
        hide_from = style.custom.get("hideFrom")
        hide = hide_from if isinstance(hide_from, Mapping) else {}
        name = str(config.get("displayName") or "")
        out.append(
            SeriesField(
                series=one,
                style=style,
                name=display_name(name, one) if name else one.name,
                color=color_of(style.fixed_color) if style.fixed_color else series_color(index),
                placement=placement if placement in PLACEMENTS else "auto",
                own_thresholds="thresholds" in touched,
                hide_legend=bool(hide.get("legend")),
                hide_viz=bool(hide.get("viz")),
            )
        )
    return out
