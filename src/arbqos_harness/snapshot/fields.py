"""A field config (panel defaults or one series' merged config): unit, limits, thresholds."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arbqos_harness.snapshot.theme import GRAFANA_DEFAULT_STEPS, MUTED, color_of
from arbqos_harness.snapshot.units import format_value


def opt_float(value: Any) -> float | None:
    """`value` as a float, or None when it is missing, empty or not a number."""
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def _missing(value: float | None) -> bool:
    return value is None or math.isnan(value)


def _result(result: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """Text and colour of a mapping result."""
    return result.get("text"), result.get("color")


@dataclass(frozen=True)
class FieldStyle:
    """The `fieldConfig.defaults` bits that drawing needs."""

    unit: str | None
    decimals: int | None
    min: float | None
    max: float | None
    steps: tuple[tuple[str, float | None], ...]
    percentage: bool
    mappings: tuple[Mapping[str, Any], ...]
    custom: Mapping[str, Any]
    fixed_color: str | None

    @classmethod
    def of(cls, panel: Mapping[str, Any]) -> FieldStyle:
        """Read the defaults of a panel's field config."""
        return cls.of_config((panel.get("fieldConfig") or {}).get("defaults") or {})

    @classmethod
    def of_config(cls, defaults: Mapping[str, Any]) -> FieldStyle:
        """Read one field config (the panel defaults, or defaults with overrides applied)."""
        thresholds = defaults.get("thresholds") or {}
        steps = tuple(
            (str(s.get("color", "green")), None if s.get("value") is None else float(s["value"]))
            for s in thresholds.get("steps") or []
        )
        color = defaults.get("color") or {}
        return cls(
            unit=defaults.get("unit"),
            decimals=defaults.get("decimals"),
            min=opt_float(defaults.get("min")),
            max=opt_float(defaults.get("max")),
            steps=steps,
            percentage=thresholds.get("mode") == "percentage",
            mappings=tuple(defaults.get("mappings") or ()),
            custom=defaults.get("custom") or {},
            fixed_color=color.get("fixedColor") if color.get("mode") == "fixed" else None,
        )

    @property
    def template_thresholds(self) -> bool:
        """True when the thresholds are Grafana's untouched template (green, red at 80)."""
        return list(self.steps) == GRAFANA_DEFAULT_STEPS

    def threshold_color(self, value: float | None) -> str:
        """Colour of the threshold step `value` falls into."""
        chosen = self.steps[0][0] if self.steps else "green"
        if value is None or math.isnan(value):
            return color_of(chosen)
        probe = value
        if (
            self.percentage
            and self.min is not None
            and self.max is not None
            and self.max > self.min
        ):
            probe = (value - self.min) / (self.max - self.min) * 100
        for color, limit in self.steps:
            if limit is None or probe >= limit:
                chosen = color
        return color_of(chosen)

    def mapped(self, value: float | None) -> tuple[str | None, str | None]:
        """Text and colour from value mappings (value, range, special), or (None, None)."""
        for mapping in self.mappings:
            kind, options = mapping.get("type"), mapping.get("options") or {}
            if kind == "value" and value is not None and not math.isnan(value):
                for key, result in options.items():
                    try:
                        if float(key) == value:
                            return _result(result)
                    except ValueError:
                        continue
            elif kind == "range" and value is not None and not math.isnan(value):
                low, high = opt_float(options.get("from")), opt_float(options.get("to"))
                if (low is None or value >= low) and (high is None or value <= high):
                    return _result(options.get("result") or {})
            elif kind == "special":
                match = options.get("match")
                if (
                    (match in ("null", "nan", "null+nan") and _missing(value))
                    or (match == "true" and value)
                    or (match == "false" and value == 0)
                ):
                    return _result(options.get("result") or {})
        return None, None

    def mapped_text(self, text: str) -> tuple[str | None, str | None]:
        """Text and colour of a text value from value mappings (`"infra"` -> words, colour)."""
        for mapping in self.mappings:
            options = mapping.get("options") or {}
            if mapping.get("type") == "value" and text in options:
                result = options[text]
                return result.get("text", text), result.get("color")
            if mapping.get("type") == "special" and not text and options.get("match") == "empty":
                return _result(options.get("result") or {})
        return None, None

    def display(self, value: float | None, now: datetime | None = None) -> tuple[str, str]:
        """Text and colour of a single value: mapping first, then unit and thresholds."""
        text, color = self.mapped(value)
        shown = text if text is not None else format_value(value, self.unit, self.decimals, now)
        if _missing(value):
            return shown, color_of(color, MUTED)
        return shown, color_of(color) if color else self.threshold_color(value)

    def graph_thresholds(self) -> list[tuple[float, str]]:
        """Threshold lines to draw on a graph (none for Grafana's untouched template)."""
        mode = (self.custom.get("thresholdsStyle") or {}).get("mode")
        if mode == "off" or (mode is None and self.template_thresholds):
            return []
        return [(v, color_of(c)) for c, v in self.steps if v is not None and not self.percentage]
