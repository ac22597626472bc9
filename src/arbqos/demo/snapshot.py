"""Draw a Grafana dashboard JSON as one PNG from Prometheus range queries (no Grafana needed).

Reads standard dashboard JSON (`panels[]` with `type`, `title`, `gridPos` on a 24-column
grid, `targets[].expr` / `legendFormat`, `fieldConfig.defaults` unit, min/max, thresholds and
value mappings, `templating.list` variables), asks Prometheus `GET /api/v1/query_range` for
every target and draws timeseries, stat, gauge, bar gauge, state-timeline, table, text and row
panels in a dark Grafana-like theme, with a title bar naming the UTC time range.

>>> result = render_snapshot(Path("dashboards/arb_qos.json"), "http://127.0.0.1:9090",
...                          Path("evidence/dashboard_after.png"), range_s=900,
...                          scrape_interval_s=1.0)
>>> result.panel_count, result.errors
(18, [])

Command line: `python -m arbqos.demo.snapshot DASHBOARD --prometheus URL --out PNG`.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Rectangle, Wedge
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator

from arbqos.clock import Clock, SystemClock, format_ts

# Theme (Grafana dark, approximate) and layout in pixels at 100 dpi.
BG = "#111217"
PANEL_BG = "#181B1F"
BORDER = "#2C3235"
TEXT = "#CCCCDC"
MUTED = "#8E8E99"
GRID = "#26282D"
WIDTH_PX = 1800
COL_PX = (WIDTH_PX - 12) / 24
ROW_PX = 36
HEADER_PX = 64
MARGIN_PX = 6
DPI = 100
SERIES_COLORS = (  # Grafana's classic palette: neighbours differ in hue
    "#7EB26D",
    "#EAB839",
    "#6ED0E0",
    "#EF843C",
    "#E24D42",
    "#1F78C1",
    "#BA43A9",
    "#705DA0",
    "#508642",
    "#CCA300",
    "#447EBC",
    "#C15C17",
)
NAMED_COLORS = {
    "green": "#73BF69",
    "red": "#F2495C",
    "yellow": "#FADE2A",
    "orange": "#FF9830",
    "blue": "#5794F2",
    "purple": "#B877D9",
    "text": TEXT,
    "white": "#FFFFFF",
    "transparent": "#00000000",
    "dark-green": "#37872D",
    "semi-dark-green": "#56A64B",
    "light-green": "#96D98D",
    "super-light-green": "#C8F2C2",
    "dark-red": "#C4162A",
    "semi-dark-red": "#E02F44",
    "light-red": "#FF7383",
    "super-light-red": "#FFA6B0",
    "dark-yellow": "#E0B400",
    "semi-dark-yellow": "#F2CC0C",
    "light-yellow": "#FFEE52",
    "super-light-yellow": "#FFF899",
    "dark-orange": "#FA6400",
    "semi-dark-orange": "#FF780A",
    "light-orange": "#FFB357",
    "super-light-orange": "#FFCB7D",
    "dark-blue": "#1F60C4",
    "semi-dark-blue": "#3274D9",
    "light-blue": "#8AB8FF",
    "super-light-blue": "#C0D8FF",
    "dark-purple": "#8F3BB8",
    "semi-dark-purple": "#A352CC",
    "light-purple": "#CA95E5",
    "super-light-purple": "#DEB6F2",
}
GRAFANA_DEFAULT_STEPS = [("green", None), ("red", 80.0)]
"""Grafana's template thresholds; not drawn on graphs unless asked for (they mean nothing)."""
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$")
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class SnapshotError(Exception):
    """The dashboard or the Prometheus answer cannot be used."""


# ---------------------------------------------------------------- data model


@dataclass
class Series:
    """One result series of a range query."""

    labels: dict[str, str]
    times: list[datetime]
    values: list[float]
    name: str = ""


@dataclass
class PanelData:
    """What was fetched for one panel."""

    panel: dict[str, Any]
    series: list[Series] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def type(self) -> str:
        """Grafana panel type."""
        return str(self.panel.get("type", "unknown"))

    @property
    def title(self) -> str:
        """Panel title (may be empty)."""
        return str(self.panel.get("title") or "")


@dataclass(frozen=True)
class PanelReport:
    """One drawn panel: type, title, number of series, errors."""

    type: str
    title: str
    series: int
    errors: tuple[str, ...]


@dataclass(frozen=True)
class SnapshotResult:
    """The written PNG and what it shows."""

    path: Path
    width_px: int
    height_px: int
    start: datetime
    end: datetime
    panels: tuple[PanelReport, ...]

    @property
    def panel_count(self) -> int:
        """Panels drawn, row headers included."""
        return len(self.panels)

    @property
    def errors(self) -> list[str]:
        """Every query or drawing error, prefixed with the panel title."""
        return [f"{p.title or p.type}: {e}" for p in self.panels for e in p.errors]


# ---------------------------------------------------------------- time and variables


def parse_duration(text: str) -> float:
    """Parse a Prometheus/Grafana duration (`15m`, `30s`, `1h`) into seconds."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"duration {text!r}: expected a number and ms, s, m, h, d or w")
    return float(match.group(1)) * _UNIT_S[match.group(2)]


def prom_duration(seconds: float) -> str:
    """Format seconds as a Prometheus duration (`4s`, `1500ms`)."""
    if seconds >= 1 and float(seconds).is_integer():
        return f"{int(seconds)}s"
    return f"{max(1, round(seconds * 1000))}ms"


def dashboard_range_s(dashboard: Mapping[str, Any], default: float = 900.0) -> float:
    """Length of the dashboard's default time range (`time.from = now-15m`), in seconds."""
    start = str((dashboard.get("time") or {}).get("from", ""))
    if start.startswith("now-"):
        try:
            return parse_duration(start[4:])
        except ValueError:
            return default
    return default


def choose_step(range_s: float, scrape_interval_s: float, max_points: int = 400) -> float:
    """Query step: about `max_points` points, never finer than the scrape interval."""
    raw = max(range_s / max_points, scrape_interval_s)
    return float(max(1, math.ceil(raw)))


@dataclass
class Variables:
    """Resolved template variables and the built-in `$__*` ones."""

    values: dict[str, str]
    regex_vars: set[str] = field(default_factory=set)

    def apply(self, expr: str) -> str:
        """Substitute `$name`, `${name}`, `${name:fmt}` and `[[name]]` in a PromQL expression."""

        # `label="$var"` with a regex value (All, multi) must become `label=~"..."`.
        def to_regex(match: re.Match[str]) -> str:
            name = match.group(3) or match.group(4)
            if name in self.regex_vars:
                return f'{match.group(1)}=~"{match.group(2)}'
            return match.group(0)

        expr = re.sub(r'(\b\w+)\s*=\s*"((?:\$\{(\w+)[^}]*\}|\$(\w+)))', to_regex, expr)

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(3) or match.group(4)
            return self.values.get(name, match.group(0))

        return re.sub(r"\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)\]\]|\$(\w+)", substitute, expr)


def resolve_variables(
    dashboard: Mapping[str, Any],
    *,
    overrides: Mapping[str, str],
    step_s: float,
    range_s: float,
    scrape_interval_s: float,
    rate_interval: str | None,
    label_values: Callable[[str, str | None], list[str]] | None = None,
) -> Variables:
    """Resolve every template variable: overrides, current value, All, label_values(), `.*`."""
    rate = rate_interval or prom_duration(max(step_s + scrape_interval_s, 4 * scrape_interval_s))
    values = {
        "__rate_interval": rate,
        "__interval": prom_duration(step_s),
        "__interval_ms": str(int(step_s * 1000)),
        "__range": prom_duration(range_s),
        "__range_s": str(int(range_s)),
        "__range_ms": str(int(range_s * 1000)),
    }
    regex_vars: set[str] = set()
    for var in (dashboard.get("templating") or {}).get("list") or []:
        name = str(var.get("name", ""))
        if not name:
            continue
        if name in overrides:
            values[name] = overrides[name]
            if re.search(r"[.*+?|()\[\]]", overrides[name]):
                regex_vars.add(name)
            continue
        value, is_regex = _variable_value(var, label_values)
        values[name] = value
        if is_regex:
            regex_vars.add(name)
    for name, value in overrides.items():
        values.setdefault(name, value)
    return Variables(values, regex_vars)


def _variable_value(
    var: Mapping[str, Any], label_values: Callable[[str, str | None], list[str]] | None
) -> tuple[str, bool]:
    kind = var.get("type")
    if kind == "datasource":
        return "prometheus", False
    current = (var.get("current") or {}).get("value")
    chosen = [str(v) for v in current] if isinstance(current, list) else []
    if isinstance(current, str) and current:
        chosen = [current]
    if chosen and "$__all" not in chosen:
        if len(chosen) == 1:
            return chosen[0], False
        return "(" + "|".join(re.escape(v) for v in chosen) + ")", True
    if var.get("includeAll") or "$__all" in chosen:
        return str(var.get("allValue") or ".*"), True
    if kind in ("constant", "textbox", "custom", "interval"):
        query = str(var.get("query") or "")
        first = query.split(",")[0].strip()
        if first:
            return first, False
    if kind == "query" and label_values is not None:
        found = _query_label_values(str(_query_text(var)), label_values)
        if found:
            if var.get("multi"):
                return "(" + "|".join(re.escape(v) for v in found) + ")", True
            return found[0], False
    return ".*", True


def _query_text(var: Mapping[str, Any]) -> str:
    query = var.get("query")
    if isinstance(query, Mapping):
        return str(query.get("query", ""))
    return str(query or "")


def _query_label_values(
    query: str, label_values: Callable[[str, str | None], list[str]]
) -> list[str]:
    match = re.match(r"^\s*label_values\(\s*(?:(.+?)\s*,\s*)?(\w+)\s*\)\s*$", query)
    if not match:
        return []
    try:
        return label_values(match.group(2), match.group(1))
    except (httpx.HTTPError, SnapshotError, ValueError):
        return []


# ---------------------------------------------------------------- Prometheus


class PromRange:
    """A small Prometheus HTTP API client for range queries and label values."""

    def __init__(self, base_url: str, http: httpx.Client, timeout_s: float = 10.0) -> None:
        self._base = base_url.rstrip("/")
        self._http = http
        self._timeout = timeout_s

    def query_range(self, expr: str, start: datetime, end: datetime, step_s: float) -> list[Series]:
        """Evaluate `expr` over [start, end]; raise SnapshotError with Prometheus' message."""
        params = {
            "query": expr,
            "start": f"{start.timestamp():.3f}",
            "end": f"{end.timestamp():.3f}",
            "step": prom_duration(step_s),
        }
        data = self._get("/api/v1/query_range", params)
        if data.get("resultType") != "matrix":
            raise SnapshotError(f"expected a matrix result, got {data.get('resultType')!r}")
        out = []
        for item in data.get("result", []):
            times = [datetime.fromtimestamp(float(t), UTC) for t, _ in item["values"]]
            values = [float(v) for _, v in item["values"]]
            out.append(Series(dict(item.get("metric", {})), times, values))
        return out

    def label_values(self, label: str, match: str | None) -> list[str]:
        """Values of `label`, optionally among series matching `match`."""
        params = {"match[]": match} if match else {}
        data = self._get(f"/api/v1/label/{label}/values", params)
        return sorted(str(v) for v in data) if isinstance(data, list) else []

    def _get(self, path: str, params: Mapping[str, str]) -> Any:
        try:
            resp = self._http.get(self._base + path, params=params, timeout=self._timeout)
        except httpx.HTTPError as err:
            raise SnapshotError(f"Prometheus unreachable ({err.__class__.__name__})") from err
        try:
            body = resp.json()
        except ValueError as err:
            raise SnapshotError(f"Prometheus answered HTTP {resp.status_code}, not JSON") from err
        if body.get("status") != "success":
            raise SnapshotError(str(body.get("error") or f"HTTP {resp.status_code}"))
        return body.get("data")


# ---------------------------------------------------------------- values, units, colours


def color_of(name: str | None, default: str = TEXT) -> str:
    """A Grafana colour name, hex or rgba() string as a matplotlib colour."""
    if not name:
        return default
    if name in NAMED_COLORS:
        return NAMED_COLORS[name]
    rgba = re.match(r"rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*(?:,\s*([\d.]+)\s*)?\)", name)
    if rgba:
        r, g, b = (int(rgba.group(i)) for i in (1, 2, 3))
        alpha = float(rgba.group(4)) if rgba.group(4) else 1.0
        return f"#{r:02x}{g:02x}{b:02x}{round(alpha * 255):02x}"
    if re.match(r"^#[0-9a-fA-F]{3,8}$", name):
        return name
    return default


def _number(value: float, decimals: int | None) -> str:
    if decimals is not None:
        return f"{value:.{decimals}f}"
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 100:
        text = f"{value:.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    elif magnitude >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3g}"
    return text.rstrip("0").rstrip(".") if "." in text and "e" not in text else text


def _scaled(value: float, steps: Sequence[tuple[float, str]], decimals: int | None) -> str:
    for factor, suffix in steps:
        if abs(value) >= factor:
            return _number(value / factor, decimals) + suffix
    return _number(value, decimals)


def format_value(
    value: float | None, unit: str | None, decimals: int | None = None, now: datetime | None = None
) -> str:
    """Format a value with a Grafana unit id (`s`, `ms`, `percentunit`, `currencyUSD`, ...)."""
    if value is None or math.isnan(value):
        return "No data"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    unit = unit or "short"
    if unit == "percentunit":
        return _number(value * 100, decimals) + "%"
    if unit == "percent":
        return _number(value, decimals) + "%"
    if unit in ("s", "ms", "us", "µs", "ns"):
        return _duration(
            value * {"s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}[unit], decimals
        )
    if unit in ("currencyUSD", "USD"):
        return "$" + _scaled(value, ((1e9, "B"), (1e6, "M"), (1e3, "K")), decimals)
    if unit in ("bytes", "decbytes"):
        base = 1024.0 if unit == "bytes" else 1000.0
        steps = tuple((base**i, s) for i, s in ((4, " TB"), (3, " GB"), (2, " MB"), (1, " kB")))
        return _scaled(value, steps, decimals) + ("" if abs(value) >= base else " B")
    if unit in ("reqps", "ops", "rps", "wps"):
        suffix = {"reqps": " req/s", "ops": " ops/s", "rps": " rd/s", "wps": " wr/s"}[unit]
        return _scaled(value, ((1e6, "M"), (1e3, "K")), decimals) + suffix
    if unit in ("bool", "bool_yes_no", "bool_on_off"):
        names = {"bool": ("False", "True"), "bool_yes_no": ("No", "Yes")}
        off, on = names.get(unit, ("Off", "On"))
        return on if value else off
    if unit in ("dateTimeAsIso", "dateTimeAsSystem"):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S")
    if unit == "dateTimeFromNow":
        ago = ((now or datetime.now(UTC)) - datetime.fromtimestamp(value, UTC)).total_seconds()
        return _duration(ago, 0) + " ago" if ago >= 0 else "in " + _duration(-ago, 0)
    if unit == "none":
        return _number(value, decimals)
    if unit == "short":
        return _scaled(value, ((1e12, " T"), (1e9, " B"), (1e6, " Mil"), (1e3, " K")), decimals)
    if unit.startswith("suffix:"):
        return _number(value, decimals) + unit[7:]
    if unit.startswith("prefix:"):
        return unit[7:] + _number(value, decimals)
    return f"{_number(value, decimals)} {unit}"


def _duration(seconds: float, decimals: int | None) -> str:
    magnitude = abs(seconds)
    if magnitude == 0:
        return "0 s"
    if magnitude < 1e-3:
        return _number(seconds * 1e6, decimals) + " µs"
    if magnitude < 1:
        return _number(seconds * 1e3, decimals) + " ms"
    if magnitude < 60:
        return _number(seconds, decimals) + " s"
    if magnitude < 3600:
        return _number(seconds / 60, decimals) + " min"
    if magnitude < 86400:
        return _number(seconds / 3600, decimals) + " h"
    return _number(seconds / 86400, decimals) + " day"


def reduce_values(values: Sequence[float], calc: str) -> float | None:
    """Apply a Grafana reducer (`lastNotNull`, `mean`, `max`, ...) to a series."""
    finite = [v for v in values if not math.isnan(v)]
    if calc == "last":
        return values[-1] if values else None
    if not finite:
        return None
    reducers: dict[str, Callable[[list[float]], float]] = {
        "lastNotNull": lambda v: v[-1],
        "firstNotNull": lambda v: v[0],
        "first": lambda v: v[0],
        "mean": lambda v: sum(v) / len(v),
        "max": max,
        "min": min,
        "sum": sum,
        "count": lambda v: float(len(v)),
        "range": lambda v: max(v) - min(v),
        "delta": lambda v: max(0.0, v[-1] - v[0]),
        "diff": lambda v: v[-1] - v[0],
    }
    return reducers.get(calc, reducers["lastNotNull"])(finite)


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
        defaults = (panel.get("fieldConfig") or {}).get("defaults") or {}
        thresholds = defaults.get("thresholds") or {}
        steps = tuple(
            (str(s.get("color", "green")), None if s.get("value") is None else float(s["value"]))
            for s in thresholds.get("steps") or []
        )
        color = defaults.get("color") or {}
        return cls(
            unit=defaults.get("unit"),
            decimals=defaults.get("decimals"),
            min=_opt_float(defaults.get("min")),
            max=_opt_float(defaults.get("max")),
            steps=steps,
            percentage=thresholds.get("mode") == "percentage",
            mappings=tuple(defaults.get("mappings") or ()),
            custom=defaults.get("custom") or {},
            fixed_color=color.get("fixedColor") if color.get("mode") == "fixed" else None,
        )

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
                            return result.get("text"), result.get("color")
                    except ValueError:
                        continue
            elif kind == "range" and value is not None and not math.isnan(value):
                low, high = _opt_float(options.get("from")), _opt_float(options.get("to"))
                if (low is None or value >= low) and (high is None or value <= high):
                    result = options.get("result") or {}
                    return result.get("text"), result.get("color")
            elif kind == "special":
                match = options.get("match")
                if (
                    (match in ("null", "nan", "null+nan") and (value is None or math.isnan(value)))
                    or (match == "true" and value)
                    or (match == "false" and value == 0)
                ):
                    result = options.get("result") or {}
                    return result.get("text"), result.get("color")
        return None, None

    def display(self, value: float | None, now: datetime | None = None) -> tuple[str, str]:
        """Text and colour of a single value: mapping first, then unit and thresholds."""
        text, color = self.mapped(value)
        shown = text if text is not None else format_value(value, self.unit, self.decimals, now)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return shown, color_of(color, MUTED)
        return shown, color_of(color) if color else self.threshold_color(value)

    def graph_thresholds(self) -> list[tuple[float, str]]:
        """Threshold lines to draw on a graph (none for Grafana's untouched template)."""
        mode = (self.custom.get("thresholdsStyle") or {}).get("mode")
        if mode == "off":
            return []
        steps = [(c, v) for c, v in self.steps]
        if mode is None and [(c, v) for c, v in steps] == GRAFANA_DEFAULT_STEPS:
            return []
        return [(v, color_of(c)) for c, v in steps if v is not None and not self.percentage]


def _opt_float(value: Any) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def legend_name(series: Series, legend_format: str | None, expr: str) -> str:
    """Series name like Grafana: `{{label}}` templates, else `metric{labels}`, else the expr."""
    if legend_format and legend_format != "__auto":
        return re.sub(
            r"\{\{\s*(\w+)\s*\}\}", lambda m: series.labels.get(m.group(1), ""), legend_format
        )
    labels = {k: v for k, v in series.labels.items() if k != "__name__"}
    name = series.labels.get("__name__", "")
    if not labels:
        return name or expr
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


# ---------------------------------------------------------------- fetching


def flatten_panels(dashboard: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Top-level panels in layout order; panels inside collapsed rows stay hidden, as in Grafana."""
    panels: list[dict[str, Any]] = []
    for panel in dashboard.get("panels") or []:
        if not isinstance(panel, dict):
            continue
        panels.append(panel)
        if panel.get("type") == "row" and not panel.get("collapsed"):
            panels.extend(p for p in panel.get("panels") or [] if isinstance(p, dict))
    return sorted(panels, key=lambda p: (_grid(p)[1], _grid(p)[0]))


def _grid(panel: Mapping[str, Any]) -> tuple[int, int, int, int]:
    pos = panel.get("gridPos") or {}
    default_h = 1 if panel.get("type") == "row" else 8
    w = int(pos.get("w") or (24 if panel.get("type") == "row" else 12))
    return (
        int(pos.get("x") or 0),
        int(pos.get("y") or 0),
        max(1, min(24, w)),
        int(pos.get("h") or default_h),
    )


def fetch_panels(
    panels: Sequence[dict[str, Any]],
    prom: PromRange,
    variables: Variables,
    start: datetime,
    end: datetime,
    step_s: float,
) -> list[PanelData]:
    """Run every visible target of every panel; errors are kept per panel, never raised."""
    out = []
    for panel in panels:
        data = PanelData(panel)
        for target in panel.get("targets") or []:
            if target.get("hide") or not target.get("expr"):
                continue
            expr = variables.apply(str(target["expr"]))
            try:
                found = prom.query_range(expr, start, end, step_s)
            except SnapshotError as err:
                data.errors.append(f"{target.get('refId') or 'query'}: {err}")
                continue
            for series in found:
                series.name = legend_name(series, target.get("legendFormat"), expr)
            data.series.extend(found)
        out.append(data)
    return out


# ---------------------------------------------------------------- drawing


class Canvas:
    """A figure laid out on Grafana's grid: panel rectangles in pixels, top-left origin."""

    def __init__(self, rows: int) -> None:
        self.height_px = int(HEADER_PX + rows * ROW_PX + MARGIN_PX * 2)
        self.figure = Figure(figsize=(WIDTH_PX / DPI, self.height_px / DPI), dpi=DPI, facecolor=BG)
        FigureCanvasAgg(self.figure)
        self.base = self.figure.add_axes((0, 0, 1, 1))
        self.base.set_xlim(0, WIDTH_PX)
        self.base.set_ylim(self.height_px, 0)
        self.base.axis("off")

    def rect(self, x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
        """Figure-fraction rectangle of a pixel box (x, y from the top-left)."""
        return (x / WIDTH_PX, 1 - (y + h) / self.height_px, w / WIDTH_PX, h / self.height_px)

    def axes(self, x: float, y: float, w: float, h: float) -> Any:
        """New axes over a pixel box, themed."""
        ax = self.figure.add_axes(self.rect(x, y, w, h))
        ax.set_facecolor(PANEL_BG)
        for spine in ax.spines.values():
            spine.set_color(BORDER)
        ax.tick_params(colors=MUTED, labelsize=8, length=2)
        return ax

    def text(self, x: float, y: float, text: str, **kwargs: Any) -> Any:
        """Text at a pixel position."""
        kwargs.setdefault("color", TEXT)
        return self.base.text(x, y, text, **kwargs)


def panel_box(panel: Mapping[str, Any]) -> tuple[float, float, float, float]:
    """Pixel box (x, y, w, h) of a panel from its gridPos (6 px figure margin, 6 px gutters)."""
    gx, gy, gw, gh = _grid(panel)
    x = MARGIN_PX + gx * COL_PX + MARGIN_PX / 2
    y = HEADER_PX + gy * ROW_PX + MARGIN_PX / 2
    return x, y, gw * COL_PX - MARGIN_PX, gh * ROW_PX - MARGIN_PX


def draw_dashboard(
    dashboard: Mapping[str, Any],
    data: Sequence[PanelData],
    out: Path,
    *,
    start: datetime,
    end: datetime,
    variables: Mapping[str, str],
    title: str | None = None,
) -> tuple[int, int]:
    """Draw the panels into one PNG at `out`; return its (width, height) in pixels."""
    rows = max((_grid(d.panel)[1] + _grid(d.panel)[3] for d in data), default=4)
    canvas = Canvas(rows)
    _draw_header(canvas, title or str(dashboard.get("title") or "Dashboard"), start, end, variables)
    for item in data:
        box = panel_box(item.panel)
        try:
            _draw_panel(canvas, item, box, start, end)
        except (ValueError, TypeError, KeyError, OverflowError) as err:
            item.errors.append(f"drawing failed: {err}")
            _message(canvas, box, f"cannot draw: {err}", "#F2495C")
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.figure.savefig(out, dpi=DPI, facecolor=BG)
    return WIDTH_PX, canvas.height_px


def _draw_header(
    canvas: Canvas, title: str, start: datetime, end: datetime, variables: Mapping[str, str]
) -> None:
    canvas.base.add_patch(Rectangle((0, 0), WIDTH_PX, HEADER_PX - 8, color="#0B0C0E", zorder=0))
    canvas.text(MARGIN_PX * 2, 24, title, fontsize=17, fontweight="bold", va="center")
    span = end - start
    when = (
        f"{start.strftime('%Y-%m-%d %H:%M:%S')}  to  {end.strftime('%Y-%m-%d %H:%M:%S')} UTC"
        f"   ({_span_text(span)})"
    )
    canvas.text(WIDTH_PX - MARGIN_PX * 2, 24, when, fontsize=11, ha="right", va="center")
    shown = [f"{k} = {v}" for k, v in variables.items() if not k.startswith("__")]
    extra = [
        f"rate interval {variables.get('__rate_interval', '?')}",
        f"step {variables.get('__interval', '?')}",
    ]
    canvas.text(MARGIN_PX * 2, 46, "   ".join(shown + extra), fontsize=9, color=MUTED, va="center")


_TIME_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200)


def _dnum(moment: datetime) -> float:
    """Matplotlib date number (days since 1970-01-01 UTC) of an aware datetime."""
    return moment.timestamp() / 86400.0


def _time_axis(ax: Any, start: datetime, end: datetime, width_px: float) -> None:
    """UTC time ticks at round seconds / minutes / hours, labelled HH:MM:SS."""
    span = (end - start).total_seconds()
    wanted = max(2, int(width_px // 110))
    step = next((s for s in _TIME_STEPS_S if span / s <= wanted), 86400)
    first = math.ceil(start.timestamp() / step) * step
    ticks = [t / 86400.0 for t in range(int(first), int(end.timestamp()) + 1, step)]
    ax.set_xlim(_dnum(start), _dnum(end))
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    fmt = "%H:%M" if step >= 60 and span > 3600 else "%H:%M:%S"
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda v, _p: datetime.fromtimestamp(v * 86400.0, UTC).strftime(fmt))
    )


def _span_text(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds % 3600 == 0 and seconds >= 3600:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0 and seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def _draw_panel(
    canvas: Canvas,
    item: PanelData,
    box: tuple[float, float, float, float],
    start: datetime,
    end: datetime,
) -> None:
    x, y, w, h = box
    if item.type == "row":
        _draw_row(canvas, item, box)
        return
    canvas.base.add_patch(
        FancyBboxPatch(
            (x, y),
            w,
            h,
            boxstyle="round,pad=0,rounding_size=3",
            facecolor=PANEL_BG,
            edgecolor=BORDER,
            linewidth=1,
            zorder=0,
        )
    )
    title = item.title
    if item.errors:
        title = ("! " + title) if title else "!"
    canvas.text(x + 8, y + 14, _fit(title, w - 16, 10), fontsize=10, fontweight="bold", va="center")
    inner = (x + 8, y + 28, w - 16, h - 36)
    drawers: dict[str, Callable[..., None]] = {
        "timeseries": _draw_timeseries,
        "graph": _draw_timeseries,
        "stat": _draw_stat,
        "singlestat": _draw_stat,
        "gauge": _draw_gauge,
        "bargauge": _draw_bargauge,
        "state-timeline": _draw_state_timeline,
        "status-history": _draw_state_timeline,
        "table": _draw_table,
        "text": _draw_text,
    }
    drawer = drawers.get(item.type)
    if drawer is None:
        _message(canvas, inner, f"panel type '{item.type}' is not drawn in snapshots", MUTED)
        return
    if item.type != "text" and not item.series:
        detail = item.errors[0] if item.errors else "No data"
        _message(canvas, inner, detail, "#F2495C" if item.errors else MUTED)
        return
    drawer(canvas, item, inner, start, end)
    if item.errors:
        canvas.text(
            x + w - 8,
            y + h - 8,
            _fit(item.errors[0], w / 2, 7),
            fontsize=7,
            color="#F2495C",
            ha="right",
            va="bottom",
        )


def _fit(text: str, width_px: float, fontsize: float) -> str:
    """Cut `text` so it fits roughly in `width_px` at `fontsize` (pt)."""
    limit = max(4, int(width_px / _char_px(fontsize)))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _char_px(fontsize: float) -> float:
    """Average glyph width in pixels of DejaVu Sans at `fontsize` points."""
    return fontsize * DPI / 72.0 * 0.58


def _message(canvas: Canvas, box: tuple[float, float, float, float], text: str, color: str) -> None:
    """A centred message, wrapped to the box width."""
    x, y, w, h = box
    lines = _wrap(text, max(8, int((w - 10) / _char_px(10))))[: max(1, int(h // 16))]
    canvas.text(
        x + w / 2,
        y + h / 2,
        "\n".join(_fit(line, w - 10, 10) for line in lines),
        fontsize=10,
        color=color,
        ha="center",
        va="center",
        linespacing=1.4,
    )


def _draw_row(canvas: Canvas, item: PanelData, box: tuple[float, float, float, float]) -> None:
    x, y, w, h = box
    marker = "▸" if item.panel.get("collapsed") else "▾"
    hidden = len(item.panel.get("panels") or []) if item.panel.get("collapsed") else 0
    label = f"{marker}  {item.title}" + (
        f"   ({hidden} panel{'s' if hidden != 1 else ''} collapsed)" if hidden else ""
    )
    canvas.text(x + 2, y + h / 2 + 2, label, fontsize=13, fontweight="bold", va="center")
    canvas.base.plot([x, x + w], [y + h - 2, y + h - 2], color=BORDER, linewidth=1)


def _series_color(index: int, style: FieldStyle, overrides: Mapping[str, str], name: str) -> str:
    if name in overrides:
        return overrides[name]
    if style.fixed_color:
        return color_of(style.fixed_color)
    return SERIES_COLORS[index % len(SERIES_COLORS)]


def _color_overrides(panel: Mapping[str, Any]) -> dict[str, str]:
    """`byName` overrides that set a fixed colour."""
    out = {}
    for override in (panel.get("fieldConfig") or {}).get("overrides") or []:
        matcher = override.get("matcher") or {}
        if matcher.get("id") != "byName":
            continue
        for prop in override.get("properties") or []:
            value = prop.get("value")
            if prop.get("id") == "color" and isinstance(value, Mapping) and value.get("fixedColor"):
                out[str(matcher.get("options"))] = color_of(value["fixedColor"])
    return out


def _legend_options(panel: Mapping[str, Any]) -> Mapping[str, Any]:
    return ((panel.get("options") or {}).get("legend")) or {}


def _draw_timeseries(
    canvas: Canvas,
    item: PanelData,
    box: tuple[float, float, float, float],
    start: datetime,
    end: datetime,
) -> None:
    x, y, w, h = box
    style = FieldStyle.of(item.panel)
    legend = _legend_options(item.panel)
    show_legend = legend.get("showLegend", True) and legend.get("displayMode") != "hidden"
    calcs = [str(c) for c in legend.get("calcs") or []]
    names = [s.name for s in item.series]
    shown = min(len(names), 10)
    per_row = max(1, min(shown, int((w - 60) // 240))) if not calcs else 1
    legend_rows = math.ceil(shown / per_row) + (1 if len(names) > shown else 0)
    legend_px = (legend_rows * 14 + 8) if show_legend else 0
    plot_h = max(30.0, h - legend_px - 20)
    ax = canvas.axes(x + 62, y, w - 70, plot_h)
    custom = style.custom
    draw_style = custom.get("drawStyle", "line")
    fill = float(custom.get("fillOpacity", 0)) / 100
    width = float(custom.get("lineWidth", 1))
    overrides = _color_overrides(item.panel)
    handles = []
    for index, series in enumerate(item.series):
        color = _series_color(index, style, overrides, series.name)
        values = [math.nan if math.isinf(v) else v for v in series.values]
        times = [_dnum(t) for t in series.times]
        if draw_style == "bars":
            bar_w = (end - start).total_seconds() / max(len(values), 1) / 86400 * 0.8
            line = ax.bar(times, values, width=bar_w, color=color, alpha=0.8)
        elif draw_style == "points":
            (line,) = ax.plot(times, values, "o", color=color, markersize=2.5)
        else:
            (line,) = ax.plot(times, values, color=color, linewidth=max(width, 1.2))
            if fill > 0 and len(series.times) > 1 and len(item.series) <= 8:
                ax.fill_between(times, values, 0, color=color, alpha=min(fill, 0.5), linewidth=0)
        handles.append(line)
    thresholds = style.graph_thresholds()
    mode = (custom.get("thresholdsStyle") or {}).get("mode", "dashed")
    for value, color in thresholds:
        ax.axhline(
            value, color=color, linestyle="-" if mode == "line" else "--", linewidth=1.1, alpha=0.9
        )
    if mode in ("area", "line+area", "dashed+area") and thresholds:
        _threshold_areas(ax, style)
    _y_limits(ax, style, item.series, thresholds)
    _time_axis(ax, start, end, w)
    ax.grid(True, color=GRID, linewidth=0.6)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=max(3, int(plot_h // 40))))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: format_value(v, style.unit, None)))
    label = custom.get("axisLabel")
    if label:
        ax.set_ylabel(str(label), color=MUTED, fontsize=8)
    if show_legend and names:
        _legend(
            canvas,
            item,
            style,
            calcs,
            (x + 4, y + plot_h + 27, w - 8),
            handles,
            per_row,
            shown,
            end,
        )


def _threshold_areas(ax: Any, style: FieldStyle) -> None:
    bounds = [v for _c, v in style.steps]
    colors = [color_of(c) for c, _v in style.steps]
    for index, color in enumerate(colors):
        low = bounds[index] if bounds[index] is not None else -1e18
        high = (
            bounds[index + 1] if index + 1 < len(bounds) and bounds[index + 1] is not None else 1e18
        )
        ax.axhspan(low, high, color=color, alpha=0.08, linewidth=0)


def _y_limits(
    ax: Any, style: FieldStyle, series: Sequence[Series], thresholds: Sequence[tuple[float, str]]
) -> None:
    finite = [v for s in series for v in s.values if math.isfinite(v)]
    low = min(finite, default=0.0)
    high = max(finite, default=1.0)
    for value, _c in thresholds:
        high = max(high, value * 1.05) if value > 0 else high
    soft_min = _opt_float(style.custom.get("axisSoftMin"))
    soft_max = _opt_float(style.custom.get("axisSoftMax"))
    low = min(low, 0.0) if low >= 0 else low
    low = (
        style.min
        if style.min is not None
        else (min(low, soft_min) if soft_min is not None else low)
    )
    if style.max is not None:
        high = style.max
    elif soft_max is not None:
        high = max(high, soft_max)
    if high <= low:
        high = low + 1.0
    elif style.max is None:
        high += (high - low) * 0.05
    ax.set_ylim(low, high)


def _legend(
    canvas: Canvas,
    item: PanelData,
    style: FieldStyle,
    calcs: Sequence[str],
    where: tuple[float, float, float],
    handles: Sequence[Any],
    per_row: int,
    shown: int,
    now: datetime,
) -> None:
    x, y, w = where
    col_w = w / per_row
    overrides = _color_overrides(item.panel)
    for index, series in enumerate(item.series[:shown]):
        row, col = divmod(index, per_row)
        px, py = x + col * col_w, y + row * 14
        color = _series_color(index, style, overrides, series.name)
        canvas.base.add_patch(Rectangle((px, py - 2), 12, 4, color=color))
        stats = "".join(
            f"   {c}: "
            + format_value(reduce_values(series.values, c), style.unit, style.decimals, now)
            for c in calcs
        )
        text = _fit(series.name + stats, col_w - 24, 8)
        canvas.text(px + 17, py, text, fontsize=8, va="center")
    hidden = len(item.series) - shown
    if hidden > 0:
        row = math.ceil(shown / per_row)
        canvas.text(
            x + 17, y + row * 14, f"+{hidden} more series", fontsize=8, color=MUTED, va="center"
        )


def _reduce_options(panel: Mapping[str, Any]) -> str:
    calcs = ((panel.get("options") or {}).get("reduceOptions") or {}).get("calcs") or []
    return str(calcs[0]) if calcs else "lastNotNull"


def _draw_stat(
    canvas: Canvas,
    item: PanelData,
    box: tuple[float, float, float, float],
    start: datetime,
    end: datetime,
) -> None:
    x, y, w, h = box
    style = FieldStyle.of(item.panel)
    options = item.panel.get("options") or {}
    calc = _reduce_options(item.panel)
    color_mode = options.get("colorMode", "value")
    graph = options.get("graphMode", "area")
    series = item.series[:12]
    cols = min(len(series), max(1, int(w // 150)))
    rows = math.ceil(len(series) / cols)
    cell_w, cell_h = w / cols, h / rows
    for index, s in enumerate(series):
        row, col = divmod(index, cols)
        cx, cy = x + col * cell_w, y + row * cell_h
        value = reduce_values(s.values, calc)
        text, color = style.display(value, end)
        if color_mode == "background":
            canvas.base.add_patch(
                FancyBboxPatch(
                    (cx + 2, cy + 2),
                    cell_w - 4,
                    cell_h - 4,
                    boxstyle="round,pad=0,rounding_size=3",
                    facecolor=color,
                    edgecolor="none",
                    alpha=0.85,
                    zorder=1,
                )
            )
            text_color = "#FFFFFF"
        else:
            text_color = color
        show_name = len(series) > 1
        if show_name:
            canvas.text(
                cx + cell_w / 2,
                cy + 10,
                _fit(s.name, cell_w - 8, 9),
                fontsize=9,
                color=TEXT if color_mode != "background" else "#FFFFFF",
                ha="center",
                va="center",
                zorder=3,
            )
        top = cy + (20 if show_name else 4)
        spark = graph == "area" and len(s.values) > 1 and cell_h > 60
        value_h = (cy + cell_h - top) * (0.62 if spark else 0.9)
        if spark:
            band = (cx + 4, top + value_h, cell_w - 8, cy + cell_h - top - value_h - 4)
            _sparkline(canvas, s, band, color, start, end)
        canvas.text(
            cx + cell_w / 2,
            top + value_h / 2,
            text,
            fontsize=_fit_font(text, cell_w - 16, value_h),
            fontweight="bold",
            color=text_color,
            ha="center",
            va="center",
            zorder=3,
        )
    if len(item.series) > len(series):
        canvas.text(
            x + w - 4,
            y + h - 4,
            f"+{len(item.series) - len(series)} more",
            fontsize=7,
            color=MUTED,
            ha="right",
        )


def _fit_font(text: str, width_px: float, height_px: float, bold: bool = True) -> float:
    """Largest font size (pt) for `text` to fit a pixel box (DejaVu Sans glyph widths)."""
    px_per_pt = DPI / 72.0
    by_height = height_px * 0.8 / px_per_pt
    by_width = width_px / (max(len(text), 1) * (0.68 if bold else 0.6)) / px_per_pt
    return max(7.0, min(by_height, by_width, 44.0))


def _sparkline(
    canvas: Canvas,
    series: Series,
    box: tuple[float, float, float, float],
    color: str,
    start: datetime,
    end: datetime,
) -> None:
    ax = canvas.figure.add_axes(canvas.rect(*box))
    ax.axis("off")
    values = [v if math.isfinite(v) else math.nan for v in series.values]
    times = [_dnum(t) for t in series.times]
    ax.plot(times, values, color=color, linewidth=1, alpha=0.6)
    finite = [v for v in values if math.isfinite(v)]
    if finite:
        low = min(finite)
        ax.fill_between(times, values, low, color=color, alpha=0.15, linewidth=0)
        high = max(finite)
        ax.set_ylim(low - (high - low) * 0.05 - 1e-9, high + (high - low) * 0.05 + 1e-9)
    ax.set_xlim(_dnum(start), _dnum(end))
    ax.patch.set_alpha(0)


def _draw_gauge(
    canvas: Canvas,
    item: PanelData,
    box: tuple[float, float, float, float],
    start: datetime,
    end: datetime,
) -> None:
    x, y, w, h = box
    style = FieldStyle.of(item.panel)
    calc = _reduce_options(item.panel)
    series = item.series[:6]
    cell_w = w / len(series)
    low = style.min if style.min is not None else 0.0
    high = style.max if style.max is not None else (1.0 if style.unit == "percentunit" else 100.0)
    for index, s in enumerate(series):
        value = reduce_values(s.values, calc)
        text, color = style.display(value, end)
        size = min(cell_w, h * 1.6)
        ax = canvas.axes(x + index * cell_w + (cell_w - size) / 2, y, size, min(h, size * 0.62))
        ax.axis("off")
        ax.set_xlim(-1.1, 1.1)
        ax.set_ylim(-0.25, 1.1)
        ax.set_aspect("equal", adjustable="box")
        ax.add_patch(Wedge((0, 0), 1.0, 0, 180, width=0.22, color=GRID))
        # threshold ring
        steps = [(limit, color_of(c)) for c, limit in style.steps]
        for step_index, (limit, step_color) in enumerate(steps):
            lo = low if limit is None else limit
            hi = steps[step_index + 1][0] if step_index + 1 < len(steps) else high
            if hi is None:
                continue
            a0, a1 = _angle(lo, low, high), _angle(hi, low, high)
            if a0 > a1:
                ax.add_patch(Wedge((0, 0), 1.06, a1, a0, width=0.05, color=step_color))
        if value is not None and math.isfinite(value):
            angle = _angle(value, low, high)
            ax.add_patch(Wedge((0, 0), 0.97, angle, 180, width=0.17, color=color))
        ax.text(
            0,
            0.12,
            text,
            color=color,
            ha="center",
            va="center",
            fontweight="bold",
            fontsize=_fit_font(text, size * 0.6, size * 0.22),
        )
        if len(series) > 1:
            ax.text(
                0,
                -0.18,
                _fit(s.name, size - 10, 8),
                color=TEXT,
                ha="center",
                va="center",
                fontsize=8,
            )


def _angle(value: float, low: float, high: float) -> float:
    fraction = 0.0 if high == low else (min(max(value, low), high) - low) / (high - low)
    return 180.0 - 180.0 * fraction


def _draw_bargauge(
    canvas: Canvas,
    item: PanelData,
    box: tuple[float, float, float, float],
    start: datetime,
    end: datetime,
) -> None:
    x, y, w, h = box
    style = FieldStyle.of(item.panel)
    calc = _reduce_options(item.panel)
    series = item.series[:12]
    low = style.min if style.min is not None else 0.0
    values = [reduce_values(s.values, calc) for s in series]
    finite = [v for v in values if v is not None and math.isfinite(v)]
    high = style.max if style.max is not None else max([*finite, low + 1.0])
    bar_h = min(28.0, h / len(series))
    for index, (s, value) in enumerate(zip(series, values, strict=True)):
        by = y + index * bar_h
        text, color = style.display(value, end)
        canvas.text(x, by + bar_h / 2, _fit(s.name, w * 0.3, 8), fontsize=8, va="center")
        bx, bw = x + w * 0.32, w * 0.5
        canvas.base.add_patch(Rectangle((bx, by + 3), bw, bar_h - 6, color=GRID))
        if value is not None and math.isfinite(value) and high > low:
            fraction = (min(max(value, low), high) - low) / (high - low)
            canvas.base.add_patch(Rectangle((bx, by + 3), bw * fraction, bar_h - 6, color=color))
        canvas.text(
            x + w,
            by + bar_h / 2,
            text,
            fontsize=9,
            color=color,
            ha="right",
            va="center",
            fontweight="bold",
        )


def _draw_state_timeline(
    canvas: Canvas,
    item: PanelData,
    box: tuple[float, float, float, float],
    start: datetime,
    end: datetime,
) -> None:
    x, y, w, h = box
    style = FieldStyle.of(item.panel)
    series = item.series[:12]
    legend_px = 16
    label_w = min(200.0, w * 0.22)
    ax = canvas.axes(x + label_w, y, w - label_w - 4, h - legend_px - 16)
    _time_axis(ax, start, end, w - label_w)
    ax.set_ylim(len(series), 0)
    ax.set_yticks([])
    states: dict[str, str] = {}
    total_s = (end - start).total_seconds()
    # Without mappings or real thresholds every state would share one colour: colour by value.
    plain = not style.mappings and (not style.steps or list(style.steps) == GRAFANA_DEFAULT_STEPS)
    palette: dict[float, str] | None = {} if plain else None
    for row, s in enumerate(series):
        canvas.text(
            x + label_w - 6,
            y + (row + 0.5) * (h - legend_px - 16) / len(series),
            _fit(s.name, label_w - 8, 8),
            fontsize=8,
            ha="right",
            va="center",
        )
        for seg_start, seg_end, value in _segments(s):
            if value is None:
                continue
            text, color = style.display(value, end)
            if palette is not None:
                color = palette.setdefault(value, SERIES_COLORS[len(palette) % len(SERIES_COLORS)])
            states.setdefault(text, color)
            left = _dnum(seg_start)
            width = _dnum(seg_end) - left
            ax.add_patch(
                Rectangle((left, row + 0.1), width, 0.8, color=color, alpha=0.85, linewidth=0)
            )
            seconds = (seg_end - seg_start).total_seconds()
            if seconds / total_s * (w - label_w) > len(text) * 6 + 6:
                mid = (_dnum(seg_start) + _dnum(seg_end)) / 2
                ax.text(mid, row + 0.5, text, ha="center", va="center", fontsize=8, color="#111217")
    lx = x + label_w
    for text, color in list(states.items())[:8]:
        canvas.base.add_patch(Rectangle((lx, y + h - 8), 10, 6, color=color))
        canvas.text(lx + 14, y + h - 5, text, fontsize=8, va="center")
        lx += 30 + len(text) * 6


def _segments(series: Series) -> list[tuple[datetime, datetime, float | None]]:
    """Runs of equal values: (start, end, value); a gap longer than 2 steps ends a run."""
    if not series.times:
        return []
    steps = [(b - a).total_seconds() for a, b in zip(series.times, series.times[1:], strict=False)]
    step = min(steps) if steps else 1.0
    out: list[tuple[datetime, datetime, float | None]] = []
    run_start, run_value = series.times[0], series.values[0]
    prev = series.times[0]
    for t, v in zip(series.times[1:], series.values[1:], strict=True):
        gap = (t - prev).total_seconds() > 2.5 * step
        if gap or v != run_value:
            out.append((run_start, prev + timedelta(seconds=step) if gap else t, run_value))
            run_start, run_value = t, v
        prev = t
    out.append((run_start, prev + timedelta(seconds=step), run_value))
    return [(a, b, None if math.isnan(v) else v) for a, b, v in out]  # type: ignore[arg-type]


def _draw_table(
    canvas: Canvas,
    item: PanelData,
    box: tuple[float, float, float, float],
    start: datetime,
    end: datetime,
) -> None:
    x, y, w, h = box
    style = FieldStyle.of(item.panel)
    row_h = 16.0
    canvas.text(x + 4, y + 6, "series", fontsize=8, color=MUTED, va="center")
    canvas.text(x + w - 4, y + 6, "last", fontsize=8, color=MUTED, va="center", ha="right")
    for index, s in enumerate(item.series[: int((h - row_h) // row_h)]):
        ry = y + (index + 1) * row_h + 6
        text, color = style.display(reduce_values(s.values, "lastNotNull"), end)
        canvas.text(x + 4, ry, _fit(s.name, w * 0.7, 8), fontsize=8, va="center")
        canvas.text(x + w - 4, ry, text, fontsize=8, color=color, va="center", ha="right")


def _draw_text(
    canvas: Canvas,
    item: PanelData,
    box: tuple[float, float, float, float],
    start: datetime,
    end: datetime,
) -> None:
    x, y, w, h = box
    content = str(
        (item.panel.get("options") or {}).get("content") or item.panel.get("content") or ""
    )
    plain = re.sub(r"<[^>]+>", "", content)
    plain = re.sub(r"[#*`_]", "", plain)
    lines = [line for raw in plain.splitlines() for line in _wrap(raw, int(w / 6))]
    for index, line in enumerate(lines[: int(h // 14)]):
        canvas.text(x + 2, y + 6 + index * 14, line, fontsize=9, va="center")


def _wrap(text: str, width: int) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return lines


# ---------------------------------------------------------------- entry points


def load_dashboard(source: Mapping[str, Any] | Path) -> dict[str, Any]:
    """Load dashboard JSON from a file, or accept an already parsed mapping."""
    if isinstance(source, Path):
        try:
            loaded = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise SnapshotError(f"{source}: cannot read dashboard JSON ({err})") from err
    else:
        loaded = dict(source)
    if isinstance(loaded, dict) and isinstance(loaded.get("dashboard"), dict):
        loaded = loaded["dashboard"]  # an API export `{"dashboard": {...}, "meta": {...}}`
    if not isinstance(loaded, dict) or not isinstance(loaded.get("panels"), list):
        raise SnapshotError("dashboard JSON must be an object with a `panels` list")
    return loaded


def render_snapshot(
    dashboard: Mapping[str, Any] | Path,
    prometheus_url: str,
    out: Path,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    range_s: float | None = None,
    variables: Mapping[str, str] | None = None,
    scrape_interval_s: float = 15.0,
    rate_interval: str | None = None,
    step_s: float | None = None,
    title: str | None = None,
    http: httpx.Client | None = None,
    clock: Clock | None = None,
    timeout_s: float = 10.0,
) -> SnapshotResult:
    """Query Prometheus for every panel of `dashboard` and write one PNG to `out`.

    The range ends at `end` (default now) and spans `range_s` (default the dashboard's
    `time.from`, else 15 min) unless `start` is given. `$__rate_interval` is
    `max(step + scrape, 4 x scrape)` like Grafana unless `rate_interval` is given; other
    variables come from `variables`, their current value, All (`.*`) or `label_values()`.
    Query errors are drawn in their panel and listed in `result.errors`; they never raise.
    """
    board = load_dashboard(dashboard)
    end = end or (clock or SystemClock()).now_utc()
    if start is None:
        start = end - timedelta(seconds=range_s or dashboard_range_s(board))
    if end <= start:
        raise SnapshotError(f"time range {format_ts(start)} .. {format_ts(end)} is empty")
    span = (end - start).total_seconds()
    step = step_s or choose_step(span, scrape_interval_s)
    own = http is None
    client = http or httpx.Client()
    try:
        prom = PromRange(prometheus_url, client, timeout_s)
        resolved = resolve_variables(
            board,
            overrides=variables or {},
            step_s=step,
            range_s=span,
            scrape_interval_s=scrape_interval_s,
            rate_interval=rate_interval,
            label_values=prom.label_values,
        )
        data = fetch_panels(flatten_panels(board), prom, resolved, start, end, step)
    finally:
        if own:
            client.close()
    width, height = draw_dashboard(
        board, data, out, start=start, end=end, variables=resolved.values, title=title
    )
    reports = tuple(PanelReport(d.type, d.title, len(d.series), tuple(d.errors)) for d in data)
    return SnapshotResult(out, width, height, start, end, reports)


def main(argv: list[str] | None = None) -> int:
    """`python -m arbqos.demo.snapshot`: render a dashboard JSON to a PNG."""
    parser = argparse.ArgumentParser(
        prog="python -m arbqos.demo.snapshot", description=__doc__.split("\n")[0]
    )
    parser.add_argument("dashboard", type=Path)
    parser.add_argument("--prometheus", default="http://127.0.0.1:9090")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--range", default=None, help="time range ending now, e.g. 15m")
    parser.add_argument("--scrape-interval", default="15s")
    parser.add_argument("--rate-interval", default=None)
    parser.add_argument("--var", action="append", default=[], help="NAME=VALUE (repeatable)")
    args = parser.parse_args(argv)
    try:
        overrides = dict(item.split("=", 1) for item in args.var)
        range_s = parse_duration(args.range) if args.range else None
        scrape = parse_duration(args.scrape_interval)
    except ValueError as err:
        parser.error(str(err))
    try:
        result = render_snapshot(
            args.dashboard,
            args.prometheus,
            args.out,
            range_s=range_s,
            variables=overrides,
            scrape_interval_s=scrape,
            rate_interval=args.rate_interval,
        )
    except SnapshotError as err:
        print(f"error: {err}")
        return 2
    size = f"{result.width_px}x{result.height_px} px"
    print(f"wrote {result.path} ({size}, {result.panel_count} panels)")
    for error in result.errors:
        print(f"panel error: {error}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
