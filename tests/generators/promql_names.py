"""Extract metric names from PromQL text, to check they exist in the definitions or rules."""

from __future__ import annotations

import re

from arbqos.generators.alertpath import ALERTMANAGER_SERIES as ALERT_PATH_ALERTMANAGER_SERIES
from arbqos.generators.alertpath import PROMETHEUS_SERIES as ALERT_PATH_PROMETHEUS_SERIES
from arbqos.metrics.definitions import METRICS

KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "inf", "nan"}
    | {"group_left", "group_right"}  # also valid without a label list
)
PROMETHEUS_SERIES = frozenset(
    {"ALERTS", "up", *ALERT_PATH_PROMETHEUS_SERIES, *ALERT_PATH_ALERTMANAGER_SERIES}
)
"""Series Prometheus produces itself or scrapes from itself and Alertmanager."""

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_MATCHERS = re.compile(r"\{[^}]*\}")
_LABEL_LIST = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_RANGE = re.compile(r"\[[^\]]*\]")
_OFFSET = re.compile(r"\boffset\s+\w+")
_NAME = re.compile(r"(?<![\w.:])[A-Za-z_:][A-Za-z0-9_:]*(?![\w:])(?!\s*\()")


def metric_names(expr: str) -> set[str]:
    """Series names an expression selects (function names, keywords and labels removed)."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub("", text)
    text = _LABEL_LIST.sub("", text)
    text = _RANGE.sub("", text)
    text = _OFFSET.sub("", text)
    return {name for name in _NAME.findall(text) if name.lower() not in KEYWORDS}


def known_series(recording_rules: set[str]) -> set[str]:
    """Every name an expression may use: contract metrics (with histogram series) and rules."""
    names = set(PROMETHEUS_SERIES) | recording_rules
    for spec in METRICS.values():
        if spec.type == "histogram":
            names |= {f"{spec.name}_bucket", f"{spec.name}_count", f"{spec.name}_sum"}
        else:
            names.add(spec.name)
    return names
