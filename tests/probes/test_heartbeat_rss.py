"""A real `arbqos heartbeat` process against endpoints answering 50 MB: its memory stays bounded."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from arbqos_harness.process import ManagedProcess, free_port, wait_for_http
from tests.conftest import REPO_ROOT
from tests.probes.conftest import FakeWorld
from tests.probes.fakes import HUGE_BYTES

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]

ARBQOS = str(REPO_ROOT / ".venv" / "bin" / "arbqos")
TICKS = 4
PEAK_LIMIT_MB = 150.0
"""Well under what reading one 50 MB answer costs (the unbounded client peaked near 475 MB)."""


def _kib(pid: int, field: str) -> int:
    """A `VmRSS`/`VmHWM` line of /proc/<pid>/status, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def _ticks(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = [json.loads(x) for x in path.read_text().splitlines() if x.endswith("}")]
    return [x for x in lines if x["event"] == "tick"]


@pytest.mark.parametrize("mode", ["huge", "huge_stream"])
def test_fifty_megabyte_answers_keep_the_heartbeat_rss_bounded(
    world: FakeWorld, tmp_path: Path, write_config: Callable[..., Path], mode: str
) -> None:
    for fake in (world.sx, world.arbitrum, world.polygon, world.venues):
        fake.mode = mode
    log_path = tmp_path / "heartbeat.log"
    port = free_port()
    # Time enough per request for the first megabyte to arrive even on a loaded machine.
    cfg = world.config(log_path, interval_s=2.0, probe_timeout_s=1.5, metrics_port=port)
    data = cfg.model_dump(mode="json")
    config_dir = write_config({s: data[s] for s in ("endpoints", "heartbeat", "orchestrator")})
    argv = [ARBQOS, "heartbeat", "--config-dir", str(config_dir)]
    env = {"ARBQOS_PAUSE_TOKEN": world.orchestrator.token}
    samples: list[int] = []
    with ManagedProcess("heartbeat", argv, tmp_path / "logs", env=env, cwd=tmp_path) as proc:
        try:
            wait_for_http(f"http://127.0.0.1:{port}/metrics", timeout_s=30)
            deadline = time.monotonic() + 30
            while len(_ticks(log_path)) < TICKS and time.monotonic() < deadline:
                samples.append(_kib(proc.pid, "VmRSS"))
                time.sleep(0.02)
            peak_kib = _kib(proc.pid, "VmHWM")
        except AssertionError:
            print(proc.tail(40))
            raise
        assert proc.stop() == 0
    ticks = _ticks(log_path)
    assert len(ticks) >= TICKS, "the heartbeat must keep ticking"
    details = [t["detail"] for tick in ticks for t in tick["targets"].values()]
    too_large = [d for d in details if "too large" in d and "limit 1048576 bytes" in d]
    assert len(too_large) == len(details) >= TICKS * 6, details[:6]  # every target, every tick
    announced = "announced" if mode == "huge" else "read past"
    assert all(announced in d for d in too_large)
    if mode == "huge":
        assert any(f"announced {HUGE_BYTES} bytes" in d for d in too_large)
    peak_mb = peak_kib / 1024
    print(f"RESULT heartbeat_rss mode={mode} peak_mb={peak_mb:.1f} samples={len(samples)}")
    assert peak_mb < PEAK_LIMIT_MB, f"peak RSS {peak_mb:.1f} MB"
