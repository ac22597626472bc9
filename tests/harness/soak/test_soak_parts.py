"""The soak's plan, process sampling, latency drift and verdict, without a running stack."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from arbqos.cli import main as arbqos_main
from arbqos_harness.sim.history import HISTORY_S
from arbqos_harness.soak.latency import DRIFT_FLOOR_S, LatencyPoint, drifts, window_points
from arbqos_harness.soak.plan import PlanError, plan_for
from arbqos_harness.soak.procstat import ProcessSampler, read_proc
from arbqos_harness.soak.report import PauseEvent, SoakReport


def test_long_soaks_use_5_minute_windows_short_ones_scale_down() -> None:
    day = plan_for(86400, 10, 30)
    assert (day.warmup_s, day.window_s, day.windows_after_warmup) == (600, 300, 286)
    assert "scaled" not in day.describe()
    short = plan_for(1200, 10, 30)
    assert (short.warmup_s, short.window_s, short.windows_after_warmup) == (360, 210, 4)
    assert "warm-up 360 s, latency windows of 210 s (4 after the warm-up)" in short.describe()
    assert "scaled down" in short.describe()
    assert plan_for(2400, 2, 30).warmup_s == 600  # a quarter
    shortest = plan_for(600, 2, 30)
    assert (shortest.warmup_s, shortest.window_s, shortest.windows_after_warmup) == (360, 60, 4)
    assert shortest.warmup_s > HISTORY_S  # the simulators' memory is full before judging


@pytest.mark.parametrize(
    ("args", "named"),
    [((500, 2, 30), "--duration-s 500"), ((600, 0, 30), "--rate 0"), ((600, 2, -1), "interval")],
)
def test_plans_that_cannot_work_name_the_flag(args: tuple[float, float, float], named: str) -> None:
    with pytest.raises(PlanError, match=named):
        plan_for(*args)


def test_cli_refuses_a_short_soak_with_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(arbqos_main, ["soak", "--duration-s", "10"])
    assert result.exit_code == 2
    assert "--duration-s 10" in result.output and "600" in result.output


def test_reads_rss_and_cpu_of_a_process_from_proc() -> None:
    own = read_proc(os.getpid())
    assert own is not None and own.rss_bytes > 10_000_000 and own.cpu_s > 0
    assert read_proc(2**22 + 12345) is None


def fake_proc(root: Path, pid: int, rss_pages: int, ticks: int) -> None:
    (root / str(pid)).mkdir(parents=True, exist_ok=True)
    fields = ["S"] + ["0"] * 10 + [str(ticks), "0"] + ["0"] * 30
    (root / str(pid) / "stat").write_text(f"{pid} (python (x)) " + " ".join(fields))
    (root / str(pid) / "statm").write_text(f"999 {rss_pages} 1 1 0 1 0")


def test_rss_growth_compares_window_means_after_the_warm_up(tmp_path: Path) -> None:
    sampler = ProcessSampler(window_s=10, warmup_s=10, proc=tmp_path)
    page = os.sysconf("SC_PAGE_SIZE")
    pages = 100_000_000 // page
    for t in range(0, 41, 2):
        grow = pages if t < 30 else int(pages * 1.3)  # the last window grows 30 %
        fake_proc(tmp_path, 11, grow, ticks=t * 10)
        fake_proc(tmp_path, 12, pages, ticks=0)
        samples = sampler.sample({"engine": 11, "sim-sx": 12, "gone": 13}, float(t))
        if t == 2:
            assert samples[0].cpu_pct == pytest.approx(100 * 20 / os.sysconf("SC_CLK_TCK") / 2)
    sampler.finish(40.0)
    growth = sampler.growth_pct()
    assert growth["engine"] == pytest.approx(30.0, abs=0.5)
    assert growth["sim-sx"] == pytest.approx(0.0, abs=1e-6)
    assert [end for end, _mb in sampler.windows["engine"]] == [20.0, 30.0, 40.0]
    assert sampler.gone == {"gone"}


def test_latency_windows_from_prometheus_and_their_drift() -> None:
    asked: list[tuple[str, float]] = []

    def query(expr: str, at: float) -> list[dict[str, Any]]:
        asked.append((expr, at))
        labels = {"venue": "sx", "endpoint": "trades"} if "endpoint" in expr else {"venue": "sx"}
        value = "240" if "count" in expr else ("NaN" if at > 200 else str(at / 1000))
        return [{"metric": labels, "value": [at, value]}]

    first = window_points(query, 100.0, 60)
    assert {p.series for p in first} == {"request sx trades", "accept sx"}
    assert all("[60s]" in expr and at == 100.0 for expr, at in asked)
    assert first[0].count == 240 and first[0].p95_s == pytest.approx(0.1)
    later = window_points(query, 150.0, 60)
    empty = window_points(query, 300.0, 60)  # NaN: nothing observed
    assert all(p.p95_s is None for p in empty)
    (worst, _other) = drifts(first + later + empty)
    assert worst.pct == pytest.approx(50.0) and worst.last_p95_s == pytest.approx(0.15)


def test_fast_series_drift_against_the_floor_and_thin_ones_are_not_judged() -> None:
    points = [
        LatencyPoint(1.0, "request sx odds", 0.004, 1000),
        LatencyPoint(2.0, "request sx odds", 0.008, 1000),  # +100 % of 4 ms, +4 % of 100 ms
        LatencyPoint(1.0, "request sx thin", 0.1, 10),
        LatencyPoint(2.0, "request sx thin", 0.9, 10),
    ]
    (odds,) = drifts(points)
    assert odds.pct == pytest.approx(100 * 0.004 / DRIFT_FLOOR_S)


def report(**changes: Any) -> SoakReport:
    base: dict[str, Any] = {
        "plan": plan_for(1200, 10, 30),
        "elapsed_s": 1200.02,
        "pauses": [],
        "heartbeat_ticks": 40,
        "heartbeat_gaps": 0,
        "heartbeat_max_gap_s": 30.4,
        "rss_growth_pct": {
            "orchestrator": 1.0,
            "heartbeat": 0.5,
            "balance-watcher": 0.2,
            "engine": 3.0,
            "sim-sx": 2.0,
            "sim-azuro": 1.5,
            "prometheus": 80.0,  # not judged
        },
        "drifts": drifts(
            [LatencyPoint(1.0, "accept sx", 0.7, 900), LatencyPoint(2.0, "accept sx", 0.77, 900)]
        ),
    }
    return SoakReport(**{**base, **changes}).judge()


def test_a_healthy_soak_passes_with_the_contract_result_line() -> None:
    good = report()
    assert good.ok, good.problems
    assert good.result_line() == (
        "RESULT soak duration_s=1200.0 pauses=0 rss_growth_pct_max=3.0 latency_drift_pct=10.0 "
        "heartbeat_ticks=40 heartbeat_gaps=0"
    )
    assert "soak: PASS" in good.lines() and good.to_json()["ok"] is True


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"pauses": [PauseEvent("2026-12-02T10:00:00.000Z", ["guard:x"])]}, "paused at"),
        ({"heartbeat_gaps": 1}, "heartbeat gap"),
        ({"heartbeat_ticks": 0}, "no tick"),
        ({"rss_growth_pct": {"engine": 26.0}}, "engine RSS grew 26.0 %"),
        ({"drifts": []}, "no latency series"),
        ({"crashed": ["sim-sx"]}, "sim-sx exited"),
        ({"stopped_early": "stopped by SIGINT"}, "stopped after"),
    ],
)
def test_each_limit_fails_the_soak(changes: dict[str, Any], problem: str) -> None:
    bad = report(**changes)
    assert not bad.ok and any(problem in p for p in bad.problems), bad.problems
    assert "soak: FAIL" in bad.lines()


def test_latency_drift_above_20_percent_fails() -> None:
    slow = drifts(
        [LatencyPoint(1.0, "accept sx", 0.7, 900), LatencyPoint(2.0, "accept sx", 0.85, 900)]
    )
    bad = report(drifts=slow)
    assert any("accept sx p95 700 -> 850 ms" in p for p in bad.problems)
