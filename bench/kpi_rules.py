"""Cost of the KPI rules (group arbqos_kpi) with a week of history, in the real Prometheus.

Backfills 7 days of the step records (one sample per `alerting.kpi_interval_s` per series, as
the group records them) with `promtool tsdb create-blocks-from openmetrics`, starts Prometheus
on that TSDB with the horizon rules (1 h, 6 h, 24 h, 7 d) evaluated every second, and reads
the group's evaluation time from `/api/v1/rules`. Each horizon expression is also evaluated
once with `stats=all` for the samples it reads; the naive form, `increase(x[H])` over the raw
counters scraped every second, reads kpi_interval_s times as many. Ends with:

    RESULT kpi_rules series=<n> rules=<n> eval_ms_p50=<x> eval_ms_max=<y> samples_per_eval=<n>
    naive_samples_per_eval=<n>

Usage: .venv/bin/python bench/kpi_rules.py [--days 7] [--evaluations 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import yaml

from arbqos.config import ArbqosConfig
from arbqos.generators import kpi
from arbqos.metrics.definitions import (
    ORDER_RESULTS,
    PAUSE_SOURCES,
    QUOTE_TO_FILL_BUCKETS_S,
    VENUES,
    accept_time_buckets,
    format_le,
)
from arbqos_harness.process import ManagedProcess, find_tool, free_port, wait_for_http


def step_series(cfg: ArbqosConfig) -> list[str]:
    """Every step-record series (name and labels) the KPI group writes for `cfg`."""
    accept = [*(format_le(b) for b in accept_time_buckets(cfg.exec.p95_accept_time_ms_max)), "+Inf"]
    quote = [*(format_le(b) for b in QUOTE_TO_FILL_BUCKETS_S), "+Inf"]
    out = []
    for venue in VENUES:
        v = f'venue="{venue}"'
        for name in (kpi.FILLED_STEP, kpi.RESOLVED_STEP, kpi.VOIDED_STEP, kpi.SETTLED_STEP):
            out.append(f"{name}{{{v}}}")
        out += [f'{kpi.RESULTS_STEP}{{{v},result="{r}"}}' for r in ORDER_RESULTS]
        out += [f'{kpi.ACCEPT_BUCKET_STEP}{{{v},le="{le}"}}' for le in accept]
        out += [f'{kpi.QUOTE_BUCKET_STEP}{{{v},le="{le}"}}' for le in quote]
        out += [f"{kpi.ACCEPT_COUNT_STEP}{{{v}}}", f"{kpi.QUOTE_COUNT_STEP}{{{v}}}"]
        out.append(f'{kpi.LOW_EVENTS_STEP}{{wallet="{venue}"}}')
    out += [f'{kpi.PAUSES_STEP}{{source="{s}"}}' for s in PAUSE_SOURCES]
    return [*out, kpi.TICKS_STEP, kpi.PAUSED_STEP]


def openmetrics(series: list[str], start: int, end: int, step: int) -> Iterator[str]:
    """The series as OpenMetrics text, one family after another, samples in time order."""
    families: dict[str, list[str]] = {}
    for one in series:
        families.setdefault(one.split("{")[0], []).append(one)
    for family, members in families.items():
        yield f"# TYPE {family} gauge\n"
        for one in members:
            for index, ts in enumerate(range(start, end, step)):
                yield f"{one} {index % 3} {ts}\n"
    yield "# EOF\n"


def main() -> None:
    """Backfill, run Prometheus, print the RESULT line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--evaluations", type=int, default=15)
    args = parser.parse_args()
    cfg = ArbqosConfig()
    step = int(cfg.alerting.kpi_interval_s)
    series = step_series(cfg)
    rules = [r for r in kpi.build_kpi_rules(cfg) if not r["record"].endswith("_step")]
    with tempfile.TemporaryDirectory(prefix="kpi-bench-") as tmp:
        root = Path(tmp)
        end = int(time.time()) // step * step
        source = root / "steps.om"
        with source.open("w") as out:
            out.writelines(openmetrics(series, end - int(args.days * 86400), end, step))
        tsdb = root / "tsdb"
        promtool = [find_tool("promtool"), "tsdb", "create-blocks-from", "openmetrics"]
        subprocess.run([*promtool, str(source), str(tsdb)], check=True, capture_output=True)
        (root / "rules.yml").write_text(
            yaml.safe_dump({"groups": [{"name": "arbqos_kpi", "interval": "1s", "rules": rules}]})
        )
        (root / "prometheus.yml").write_text(
            yaml.safe_dump({"global": {"evaluation_interval": "1s"}, "rule_files": ["rules.yml"]})
        )
        listen = f"127.0.0.1:{free_port()}"
        prometheus = ManagedProcess(
            "prometheus",
            [
                find_tool("prometheus"),
                f"--config.file={root / 'prometheus.yml'}",
                f"--storage.tsdb.path={tsdb}",
                f"--web.listen-address={listen}",
            ],
            root / "logs",
        )
        with prometheus, httpx.Client(base_url=f"http://{listen}", timeout=30) as http:
            wait_for_http(f"http://{listen}/-/ready", timeout_s=60)
            times = []
            while len(times) < args.evaluations:
                time.sleep(1.05)
                (group,) = http.get("/api/v1/rules").json()["data"]["groups"]
                if group["lastEvaluation"].startswith("0001"):
                    continue
                errors = [r["lastError"] for r in group["rules"] if r.get("lastError")]
                if errors:
                    sys.exit(f"rule errors: {errors[:3]}")
                times.append(group["evaluationTime"] * 1000)
            samples = 0
            for rule in rules:
                answer = http.get("/api/v1/query", params={"query": rule["expr"], "stats": "all"})
                samples += int(answer.json()["data"]["stats"]["samples"]["totalQueryableSamples"])
    scrape = cfg.alerting.scrape_interval_s
    print(
        f"RESULT kpi_rules series={len(series)} rules={len(rules)} "
        f"eval_ms_p50={statistics.median(times):.2f} eval_ms_max={max(times):.2f} "
        f"samples_per_eval={samples} naive_samples_per_eval={round(samples * step / scrape)}"
    )


if __name__ == "__main__":
    main()
