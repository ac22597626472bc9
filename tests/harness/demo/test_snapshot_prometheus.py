"""A dashboard snapshot rendered from a real Prometheus scraping a small exporter."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import matplotlib.image
import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from arbqos_harness.process import ManagedProcess, find_tool, free_port, wait_for_http
from arbqos_harness.snapshot import (
    PromRange,
    SnapshotResult,
    draw_dashboard,
    fetch_panels,
    panel_box,
    render_snapshot,
    resolve_variables,
)
from arbqos_harness.snapshot.annotations import fetch_events

pytestmark = pytest.mark.slow


def _target(expr: str, legend: str | None = None, ref: str = "A") -> dict[str, Any]:
    target = {
        "expr": expr,
        "refId": ref,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
    }
    if legend:
        target["legendFormat"] = legend
    return target


def _panel(
    kind: str, title: str, x: int, y: int, w: int, h: int, *targets: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "type": kind,
        "title": title,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "targets": list(targets),
        **extra,
    }


def _defaults(**defaults: Any) -> dict[str, Any]:
    return {"fieldConfig": {"defaults": defaults, "overrides": []}}


RATE = "[$__rate_interval]"
FIXTURE: dict[str, Any] = {
    "title": "Arb QoS (fixture)",
    "uid": "fixture",
    "schemaVersion": 36,
    "time": {"from": "now-15m", "to": "now"},
    "annotations": {
        "list": [
            {
                "name": "Paused",
                "enable": True,
                "expr": "arb_orchestrator_paused == 1",
                "iconColor": "red",
                "titleFormat": "paused ({{job}})",
                "step": "1s",
            },
            {"name": "Off", "enable": False, "expr": "sum(", "iconColor": "blue"},
        ]
    },
    "templating": {
        "list": [
            {"name": "datasource", "type": "datasource", "query": "prometheus"},
            {
                "name": "venue",
                "type": "query",
                "query": "label_values(arb_orders_submitted_total, venue)",
                "includeAll": True,
                "multi": True,
                "current": {"text": "All", "value": "$__all"},
            },
        ]
    },
    "panels": [
        {
            "type": "row",
            "title": "Execution",
            "collapsed": False,
            "panels": [],
            "gridPos": {"x": 0, "y": 0, "w": 24, "h": 1},
        },
        _panel(
            "stat",
            "Trading state",
            0,
            1,
            4,
            4,
            _target("arb_orchestrator_paused"),
            options={
                "colorMode": "background",
                "graphMode": "none",
                "reduceOptions": {"calcs": ["lastNotNull"]},
            },
            **_defaults(
                mappings=[
                    {
                        "type": "value",
                        "options": {
                            "0": {"text": "RUNNING", "color": "green"},
                            "1": {"text": "PAUSED", "color": "red"},
                        },
                    }
                ]
            ),
        ),
        _panel(
            "stat",
            "Orders / s",
            4,
            1,
            8,
            4,
            _target(
                f'sum by (venue) (rate(arb_orders_submitted_total{{venue=~"$venue"}}{RATE}))',
                "{{venue}}",
            ),
            options={"graphMode": "area"},
            **_defaults(
                unit="reqps",
                decimals=1,
                thresholds={"mode": "absolute", "steps": [{"color": "blue", "value": None}]},
            ),
        ),
        _panel(
            "stat",
            "Fill ratio",
            12,
            1,
            6,
            4,
            _target(
                f"sum(rate(arb_stake_filled_usd_total{RATE}))"
                f" / sum(rate(arb_stake_requested_usd_total{RATE}))",
                "fill",
            ),
            _target("vector(3)", "legs above cap", "B"),
            options={"graphMode": "area", "colorMode": "value"},
            fieldConfig={
                "defaults": {
                    "unit": "percentunit",
                    "thresholds": {
                        "mode": "absolute",
                        "steps": [
                            {"color": "red", "value": None},
                            {"color": "yellow", "value": 0.8},
                            {"color": "green", "value": 0.9},
                        ],
                    },
                },
                "overrides": [
                    {
                        "matcher": {"id": "byFrameRefID", "options": "B"},
                        "properties": [{"id": "unit", "value": "short"}],
                    }
                ],
            },
        ),
        _panel(
            "state-timeline",
            "RPC up",
            18,
            1,
            6,
            4,
            _target("arb_rpc_up", "{{chain}}"),
            **_defaults(
                mappings=[
                    {
                        "type": "value",
                        "options": {
                            "0": {"text": "down", "color": "red"},
                            "1": {"text": "up", "color": "green"},
                        },
                    }
                ]
            ),
        ),
        _panel(
            "timeseries",
            "Accept time p95 by venue",
            0,
            5,
            12,
            8,
            _target(
                "histogram_quantile(0.95, sum by (le, venue) ("
                f'rate(arb_accept_time_seconds_bucket{{venue="$venue"}}{RATE})))',
                "p95 {{venue}}",
            ),
            options={
                "legend": {
                    "displayMode": "list",
                    "placement": "bottom",
                    "showLegend": True,
                    "calcs": ["mean", "max"],
                }
            },
            **_defaults(
                unit="s",
                custom={"thresholdsStyle": {"mode": "dashed"}},
                thresholds={
                    "mode": "absolute",
                    "steps": [{"color": "green", "value": None}, {"color": "red", "value": 0.8}],
                },
            ),
        ),
        _panel(
            "timeseries",
            "Stake requested vs filled (USD/s)",
            12,
            5,
            12,
            8,
            _target(
                f'sum by (venue) (rate(arb_stake_requested_usd_total{{venue=~"$venue"}}{RATE}))',
                "requested {{venue}}",
            ),
            _target(
                f'sum by (venue) (rate(arb_stake_filled_usd_total{{venue=~"$venue"}}{RATE}))',
                "filled {{venue}}",
                "B",
            ),
            _target("vector(1)", "hidden", "C") | {"hide": True},
            **_defaults(unit="currencyUSD"),
        ),
        {
            "type": "row",
            "title": "Infrastructure",
            "collapsed": False,
            "panels": [],
            "gridPos": {"x": 0, "y": 13, "w": 24, "h": 1},
        },
        _panel(
            "timeseries",
            "Prometheus: HTTP requests",
            0,
            14,
            16,
            7,
            _target(
                f"sum by (handler) (rate(prometheus_http_requests_total{RATE}))", "{{handler}}"
            ),
            **_defaults(unit="reqps"),
        ),
        _panel(
            "table",
            "Wallet balances",
            16,
            14,
            8,
            4,
            _target("arb_wallet_balance_usd", "") | {"instant": True, "format": "table"},
            _target("arb_wallet_balance_usd * 0 + 1", "", "B") | {"instant": True},
            transformations=[
                {"id": "merge", "options": {}},
                {
                    "id": "filterFieldsByName",
                    "options": {"include": {"names": ["wallet", "token", "Value #A", "Value #B"]}},
                },
                {
                    "id": "organize",
                    "options": {"renameByName": {"Value #A": "balance", "Value #B": "ok"}},
                },
            ],
            fieldConfig={
                "defaults": {},
                "overrides": [
                    {
                        "matcher": {"id": "byName", "options": "balance"},
                        "properties": [{"id": "unit", "value": "currencyUSD"}],
                    },
                    {
                        "matcher": {"id": "byName", "options": "ok"},
                        "properties": [
                            {
                                "id": "mappings",
                                "value": [
                                    {
                                        "type": "value",
                                        "options": {"1": {"text": "fresh", "color": "green"}},
                                    }
                                ],
                            },
                            {"id": "custom.cellOptions", "value": {"type": "color-background"}},
                        ],
                    },
                ],
            },
        ),
        _panel(
            "stat", "Broken query", 16, 18, 8, 3, _target("sum(rate(arb_orders_submitted_total[")
        ),
        {
            "type": "row",
            "title": "Details",
            "collapsed": True,
            "gridPos": {"x": 0, "y": 21, "w": 24, "h": 1},
            "panels": [_panel("timeseries", "hidden", 0, 22, 24, 8, _target("up"))],
        },
    ],
}


class Feeder:
    """A tiny exporter of arb-like metrics, updated 10 times a second from a thread."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.submitted = Counter("arb_orders_submitted", "legs", ["venue"], registry=r)
        self.requested = Counter("arb_stake_requested_usd", "usd", ["venue"], registry=r)
        self.filled = Counter("arb_stake_filled_usd", "usd", ["venue"], registry=r)
        self.accept = Histogram(
            "arb_accept_time_seconds",
            "s",
            ["venue", "phase"],
            buckets=(0.1, 0.25, 0.5, 0.8, 1.0, 2.5),
            registry=r,
        )
        self.paused = Gauge("arb_orchestrator_paused", "paused", registry=r)
        self.up = Gauge("arb_rpc_up", "up", ["chain"], registry=r)
        self.balance = Gauge(
            "arb_wallet_balance_usd", "usd", ["wallet", "chain", "token"], registry=r
        )
        self.port = free_port()
        self.server, self.thread = start_http_server(self.port, addr="127.0.0.1", registry=r)
        self.stop = threading.Event()
        self.started = time.monotonic()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        tick = 0
        while not self.stop.is_set():
            tick += 1
            late = time.monotonic() - self.started > 3.5
            for venue, accept in (("sx", 0.9 if late else 0.2), ("azuro", 0.3)):
                self.submitted.labels(venue).inc()
                self.requested.labels(venue).inc(10)
                self.filled.labels(venue).inc(5 if late and venue == "sx" else 9.7)
                self.accept.labels(venue, "pregame").observe(accept + (tick % 5) * 0.01)
            self.paused.set(1 if late else 0)
            for chain in ("sx_rollup", "arbitrum", "polygon"):
                self.up.labels(chain).set(0 if chain == "arbitrum" and tick % 40 < 15 else 1)
            self.balance.labels("sx", "sx_rollup", "USDC").set(120)
            self.balance.labels("azuro", "polygon", "USDT").set(12)
            time.sleep(0.1)

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Prometheus 2.42 on loopback scraping the feeder and itself every second, with data."""
    root = tmp_path_factory.mktemp("prom")
    feeder = Feeder()
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {"job_name": "arb", "static_configs": [{"targets": [f"127.0.0.1:{feeder.port}"]}]},
            {"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]},
        ],
    }
    (root / "prometheus.yml").write_text(json.dumps(config))
    argv = [
        find_tool("prometheus"),
        f"--config.file={root / 'prometheus.yml'}",
        f"--storage.tsdb.path={root / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    with ManagedProcess("prometheus", argv, root) as proc:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(url + "/-/ready", timeout_s=30)
        deadline = time.monotonic() + 30
        query = "count_over_time(arb_orchestrator_paused[1m])"
        while True:  # enough samples for rates and a pause flip
            result = httpx.get(url + "/api/v1/query", params={"query": query}).json()["data"][
                "result"
            ]
            if result and float(result[0]["value"][1]) >= 6:
                break
            assert time.monotonic() < deadline, proc.tail()
            time.sleep(0.25)
        yield url
    feeder.close()


def _assert_panels_drawn(result: SnapshotResult, panels: list[dict[str, Any]]) -> None:
    image = matplotlib.image.imread(result.path)
    assert image.shape[:2] == (result.height_px, result.width_px)
    for panel in panels:
        x, y, w, h = panel_box(panel)
        region = image[int(y) : int(y + h), int(x) : int(x + w), :3]
        assert region.std() > 0.02, f"panel {panel.get('title')!r} looks empty"


def test_fixture_dashboard_renders_from_real_prometheus(prometheus: str, tmp_path: Path) -> None:
    path = tmp_path / "fixture.json"
    path.write_text(json.dumps(FIXTURE))
    out = tmp_path / "dashboard.png"
    result = render_snapshot(path, prometheus, out, range_s=30, scrape_interval_s=1.0)
    assert out.stat().st_size > 50_000
    assert (result.width_px, result.height_px) == (1800, 100 + 22 * 36 + 12)
    assert result.panel_count == 12  # 3 rows + 9 panels; the collapsed row hides its panel
    by_title = {p.title: p for p in result.panels}
    assert "hidden" not in by_title
    assert by_title["Orders / s"].series == 2
    assert by_title["RPC up"].series == 3
    assert by_title["Stake requested vs filled (USD/s)"].series == 4  # hidden target skipped
    assert by_title["Accept time p95 by venue"].series == 2  # venue="$venue" became =~".*"
    assert by_title["Wallet balances"].series == 4  # two wallets, two instant queries
    assert by_title["Fill ratio"].series == 2
    assert by_title["Prometheus: HTTP requests"].series >= 1
    assert len(result.errors) == 1 and result.errors[0].startswith("Broken query: A:")
    assert "parse error" in result.errors[0]
    _assert_panels_drawn(result, [p for p in FIXTURE["panels"] if not p.get("collapsed")])


def test_variable_override_and_unreachable_prometheus(prometheus: str, tmp_path: Path) -> None:
    only_sx = render_snapshot(
        FIXTURE,
        prometheus,
        tmp_path / "sx.png",
        range_s=30,
        scrape_interval_s=1.0,
        variables={"venue": "sx"},
    )
    assert {p.title: p.series for p in only_sx.panels}["Orders / s"] == 1
    closed = f"http://127.0.0.1:{free_port()}"
    down = render_snapshot(FIXTURE, closed, tmp_path / "down.png", range_s=30, timeout_s=1.0)
    assert (tmp_path / "down.png").stat().st_size > 10_000
    queried = [p for p in down.panels if p.type != "row"]
    assert all(p.errors and "unreachable" in p.errors[0] for p in queried)


def test_series_keep_their_query_ref_id_for_overrides(prometheus: str, tmp_path: Path) -> None:
    panel = _panel(
        "timeseries",
        "Paused and orders",
        0,
        0,
        24,
        8,
        _target("arb_orchestrator_paused", "paused"),
        {"expr": 'sum by (venue) (rate(arb_orders_submitted_total{venue="sx"}[5s]))'},
        fieldConfig={
            "defaults": {"unit": "short"},
            "overrides": [
                {
                    "matcher": {"id": "byFrameRefID", "options": "B"},
                    "properties": [
                        {"id": "unit", "value": "reqps"},
                        {"id": "custom.axisPlacement", "value": "right"},
                    ],
                }
            ],
        },
    )
    end = datetime.now(UTC)
    with httpx.Client() as client:
        prom = PromRange(prometheus, client)
        variables = resolve_variables(
            {"panels": [panel]},
            overrides={},
            step_s=1.0,
            range_s=20.0,
            scrape_interval_s=1.0,
            rate_interval=None,
        )
        (data,) = fetch_panels([panel], prom, variables, end - timedelta(seconds=20), end, 1.0)
    assert not data.errors
    assert [(s.name, s.ref_id) for s in data.series] == [("paused", "A"), ('{venue="sx"}', "B")]
    out = tmp_path / "overrides.png"
    draw_dashboard(
        {"title": "o"}, [data], out, start=end - timedelta(seconds=20), end=end, variables={}
    )
    assert not data.errors and out.stat().st_size > 10_000


def test_annotations_become_regions_from_real_prometheus(prometheus: str) -> None:
    end = datetime.now(UTC)
    start = end - timedelta(seconds=30)
    with httpx.Client() as client:
        prom = PromRange(prometheus, client)
        variables = resolve_variables(
            FIXTURE,
            overrides={},
            step_s=1.0,
            range_s=30.0,
            scrape_interval_s=1.0,
            rate_interval=None,
        )
        events, errors = fetch_events(FIXTURE, prom, variables, start, end, 1.0)
    assert errors == []  # the broken annotation is disabled
    assert events, "the feeder pauses after 3.5 s"
    assert {e.title for e in events} == {"paused (arb)"}
    assert all(e.color == "#F2495C" and e.end >= e.start for e in events)
    assert max(e.end for e in events) >= end - timedelta(seconds=3)
