"""Two hours of demo traffic through the simulators: per-request cost and memory stay flat."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from arbqos_harness.soak.compressed import (
    P50_DRIFT_MAX,
    P95_DRIFT_MAX,
    RSS_GROWTH_PCT_MAX,
    CompressedSettings,
)


@pytest.mark.slow
def test_two_hours_of_demo_traffic_keep_latency_and_memory_flat(tmp_path: Path) -> None:
    """30,000 legs (the demo's 2 opportunities/s for 2 h) in their own process, so RSS is theirs."""
    out = tmp_path / "sim_soak.json"
    proc = subprocess.run(
        [sys.executable, "-m", "arbqos_harness.soak.compressed", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    print(proc.stdout, proc.stderr)
    report = json.loads(out.read_text())
    assert report["legs"] >= CompressedSettings.legs, report["problems"]
    assert report["completed"], report["problems"]
    for name, ratio in report["p50_drift"].items():
        assert ratio <= P50_DRIFT_MAX, f"{name}: median x{ratio:.2f}\n{proc.stdout}"
    for name, ratio in report["p95_drift"].items():
        assert ratio <= P95_DRIFT_MAX, f"{name}: p95 x{ratio:.2f}\n{proc.stdout}"
    judged = {"sx:trades", "sx:metadata", "sx:orders_fill", "azuro:bet_order_place"}
    assert judged <= set(report["p50_drift"]), "an endpoint had too few requests to judge"
    assert report["rss_growth_pct"] <= RSS_GROWTH_PCT_MAX, proc.stdout
    assert report["retained_ratio"] <= 1.2, f"kept records x{report['retained_ratio']:.2f}"
    assert proc.returncode == 0, proc.stdout + proc.stderr
