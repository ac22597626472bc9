"""Prometheus range queries for every panel target, with Grafana-like series names."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from arbqos_harness.snapshot.model import PanelData, Series, SnapshotError
from arbqos_harness.snapshot.units import prom_duration
from arbqos_harness.snapshot.variables import Variables


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

    def query_instant(self, expr: str, at: datetime) -> list[Series]:
        """Evaluate `expr` at one moment (a table's or an instant stat's query)."""
        data = self._get("/api/v1/query", {"query": expr, "time": f"{at.timestamp():.3f}"})
        kind = data.get("resultType")
        if kind == "scalar":
            return [Series({}, [at], [float(data["result"][1])])]
        if kind != "vector":
            raise SnapshotError(f"expected a vector result, got {kind!r}")
        return [
            Series(dict(item.get("metric", {})), [at], [float(item["value"][1])])
            for item in data.get("result", [])
        ]

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


def ref_id_of(index: int) -> str:
    """The `refId` Grafana gives the `index`-th query when it has none: A..Z, then AA, AB, ..."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def fetch_panels(
    panels: Sequence[dict[str, Any]],
    prom: PromRange,
    variables: Variables,
    start: datetime,
    end: datetime,
    step_s: float,
) -> list[PanelData]:
    """Run every visible target of every panel; errors are kept per panel, never raised.

    Instant targets (tables) are evaluated at `end` only, as Grafana does: a pause reason
    cleared earlier in the range is not listed.
    """
    out = []
    for panel in panels:
        data = PanelData(panel)
        for index, target in enumerate(panel.get("targets") or []):
            if target.get("hide") or not target.get("expr"):
                continue
            ref_id = str(target.get("refId") or ref_id_of(index))
            expr = variables.apply(str(target["expr"]))
            try:
                if target.get("instant") and not target.get("range"):
                    found = prom.query_instant(expr, end)
                else:
                    found = prom.query_range(expr, start, end, step_s)
            except SnapshotError as err:
                data.errors.append(f"{ref_id}: {err}")
                continue
            for series in found:
                series.name = legend_name(series, target.get("legendFormat"), expr)
                series.ref_id = ref_id
            data.series.extend(found)
        out.append(data)
    return out
