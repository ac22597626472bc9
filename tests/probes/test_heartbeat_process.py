"""`arbqos heartbeat` as a process: /metrics, SIGHUP reload, SIGTERM exit 0, tick numbering."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from arbqos.clock import parse_ts
from arbqos_harness.process import free_port
from tests.probes.conftest import FakeWorld
from tests.support.cli import arbqos_service
from tests.support.wait import eventually

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


def _lines(path: Path) -> list[dict[str, Any]]:
    """The tick lines of the log."""
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]
    return [line for line in lines if line["event"] == "tick"]


def test_metrics_reload_and_clean_stop(
    world: FakeWorld, tmp_path: Path, write_config: Callable[..., Path]
) -> None:
    log_path = tmp_path / "monitoring" / "heartbeat.log"
    metrics_port = free_port()
    cfg = world.config(log_path, interval_s=0.5, probe_timeout_s=0.3, metrics_port=metrics_port)
    data = cfg.model_dump(mode="json")
    config_dir = write_config({s: data[s] for s in ("endpoints", "heartbeat", "orchestrator")})
    args = ["heartbeat", "--config-dir", str(config_dir)]
    env = {"ARBQOS_PAUSE_TOKEN": world.orchestrator.token}
    metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
    with arbqos_service(
        "heartbeat", *args, workdir=tmp_path, env=env, ready_url=metrics_url, timeout_s=30
    ) as proc:
        try:
            # The first ticks of a fresh process on a loaded machine may time out; wait for a
            # fully healthy one, its chains confirmed up, before reading the metrics.
            first = eventually(
                lambda: [
                    x
                    for x in _lines(log_path)
                    if x["ok"] and all(t["confirmed"] for t in x["targets"].values())
                ],
                15,
                what="an ok tick with every target confirmed up",
            )[0]
            assert set(first["targets"]) == {
                "sx_rollup",
                "arbitrum",
                "polygon",
                "sx_api",
                "azuro_api",
                "azuro_subgraph",
            }
            metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
            assert 'arb_probe_success{target="sx_api"} 1.0' in metrics
            assert 'arb_heartbeat_ticks_total{result="ok"}' in metrics
            assert 'arb_rpc_up{chain="sx_rollup"} 1.0' in metrics
            assert f'config_hash="{first["config_hash"]}"' in metrics  # arb_config_info
            heartbeat_yml = config_dir / "heartbeat.yml"
            changed = yaml.safe_load(heartbeat_yml.read_text())
            changed["targets"] = ["sx_rollup", "sx_api"]
            heartbeat_yml.write_text(yaml.safe_dump(changed))
            os.kill(proc.pid, signal.SIGHUP)
            reloaded = eventually(
                lambda: [
                    x for x in _lines(log_path) if set(x["targets"]) == {"sx_rollup", "sx_api"}
                ],
                10,
                what="a tick with the reloaded targets",
            )[0]
            assert reloaded["config_hash"] != first["config_hash"]
            moved = parse_ts(reloaded["scheduled_ts"]) - parse_ts(first["scheduled_ts"])
            slots = moved.total_seconds() / 0.5
            assert slots == pytest.approx(round(slots), abs=0.01)  # the reload kept the schedule
            metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
            assert 'arb_probe_success{target="sx_api"}' in metrics
            assert 'arb_probe_success{target="azuro_api"}' not in metrics  # removed target
        except AssertionError:
            print(proc.tail(40))
            raise
        assert proc.stop() == 0
    lines = _lines(log_path)
    ticks = [x["tick"] for x in lines]
    assert ticks[0] == 1 and ticks == sorted(set(ticks))  # skipped slots only on a starved host
    assert world.orchestrator.reports[-1]["tick"] == lines[-1]["tick"]
    assert world.orchestrator.reports[-1]["config_hash"] == reloaded["config_hash"]
