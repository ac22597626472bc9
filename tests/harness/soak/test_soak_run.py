"""`arbqos soak` end to end on a real stack, cut to half a minute."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from arbqos.config import load_config
from arbqos_harness.soak.plan import SoakPlan
from arbqos_harness.soak.report import JUDGED_PROCESSES
from arbqos_harness.soak.run import run_soak
from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def test_a_short_soak_samples_every_process_and_judges_the_run(tmp_path: Path) -> None:
    loaded = load_config(REPO_ROOT / "config", {}, ())
    plan = SoakPlan(
        duration_s=30, rate=5, heartbeat_interval_s=2, warmup_s=6, window_s=8, sample_s=1
    )
    out, stream = tmp_path / "soak", io.StringIO()
    code = run_soak(loaded, plan, out, stream=stream, env=os.environ, runs_dir=tmp_path / "runs")
    text = stream.getvalue()
    print(text)
    summary = json.loads((out / "summary.json").read_text())
    assert code == (0 if summary["ok"] else 1)
    assert text.splitlines()[-1] == summary["result"]
    assert summary["result"].startswith("RESULT soak duration_s=30.0 pauses=0 ")
    assert summary["heartbeat_ticks"] >= 12 and summary["heartbeat_gaps"] == 0
    assert "ticks=" in (out / "heartbeat_audit.txt").read_text()
    assert set(JUDGED_PROCESSES) <= set(summary["rss_growth_pct"])
    with (out / "samples.csv").open() as handle:
        names = {row["process"] for row in csv.DictReader(handle)}
    assert {"prometheus", "alertmanager", "anvil-polygon", "soak-runner"} <= names
    with (out / "latency.csv").open() as handle:
        windows = {row["elapsed_s"] for row in csv.DictReader(handle)}
    assert windows == {"14", "22", "30"}  # three whole windows after the 6 s warm-up
    assert summary["drifts"], "no latency series judged"  # 8 s windows: the busiest only
    assert (out / "soak.png").stat().st_size > 10_000
    assert not any(p["reasons"] for p in summary["pauses"])
