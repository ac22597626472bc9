"""`soak.png`: RSS and CPU of every process and the latency p95 per window, over the soak."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from arbqos_harness.soak.report import JUDGED_PROCESSES, SoakReport


def plot_soak(out_dir: Path, report: SoakReport) -> Path:
    """Draw `out_dir/soak.png` from `samples.csv` and `latency.csv`; return its path."""
    rss: dict[str, list[tuple[float, float]]] = defaultdict(list)
    cpu: dict[str, list[tuple[float, float]]] = defaultdict(list)
    with (out_dir / "samples.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            minutes = float(row["elapsed_s"]) / 60
            rss[row["process"]].append((minutes, float(row["rss_mb"])))
            if row["cpu_pct"]:
                cpu[row["process"]].append((minutes, float(row["cpu_pct"])))
    latency: dict[str, list[tuple[float, float]]] = defaultdict(list)
    with (out_dir / "latency.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["p95_ms"]:
                minutes = float(row["elapsed_s"]) / 60
                latency[row["series"]].append((minutes, float(row["p95_ms"])))
    figure = Figure(figsize=(12, 11), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots(3, 1, sharex=True)
    for name, points in sorted(rss.items()):
        style = "-" if name in JUDGED_PROCESSES else ":"
        axes[0].plot(*zip(*points, strict=True), style, label=name, linewidth=1)
    axes[0].set_ylabel("RSS (MB)")
    for name, points in sorted(cpu.items()):
        style = "-" if name in JUDGED_PROCESSES else ":"
        axes[1].plot(*zip(*points, strict=True), style, label=name, linewidth=0.8)
    axes[1].set_ylabel("CPU (% of a core)")
    for name, points in sorted(latency.items()):
        style = "o-" if name.startswith("accept") else ".-"
        axes[2].plot(*zip(*points, strict=True), style, label=name, linewidth=1, markersize=3)
    axes[2].set_ylabel("p95 per window (ms)")
    axes[2].set_yscale("log")
    axes[2].set_xlabel("minutes since the soak started")
    for ax in axes:
        ax.axvline(report.plan.warmup_s / 60, color="grey", linestyle="--", linewidth=0.8)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", ncol=4)
    verdict = "PASS" if report.ok else "FAIL"
    figure.suptitle(f"arbqos soak: {verdict} - {report.result_line()}", fontsize=9)
    figure.tight_layout()
    path = out_dir / "soak.png"
    figure.savefig(path)
    return path
