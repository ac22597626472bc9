"""`arbqos heartbeat` as a process against anvil and a real orchestrator: pause, recover, audit."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from arbqos.config.schema import ArbqosConfig, HeartbeatConfig, OrchestratorConfig
from arbqos.probes.audit import run_audit
from arbqos_harness.chain.localchain import LocalChains
from arbqos_harness.process import free_port
from tests.support.cli import arbqos_service
from tests.support.wait import eventually

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]

PAUSE_TOKEN = "pause-" + "p" * 32
TOKENS = {"ARBQOS_PAUSE_TOKEN": PAUSE_TOKEN, "ARBQOS_ADMIN_TOKEN": "admin-" + "a" * 32}
INTERVAL_S = 1.0


def _write_config(chains: LocalChains, tmp_path: Path, orch_port: int, metrics_port: int) -> Path:
    heartbeat = HeartbeatConfig(
        interval_s=INTERVAL_S,
        probe_timeout_s=0.3,
        retry_interval_s=0.3,
        targets=["sx_rollup", "arbitrum", "polygon"],  # venue APIs cannot run here
        log_path=str(tmp_path / "monitoring" / "heartbeat.log"),
        metrics_port=metrics_port,
    )
    base = ArbqosConfig(heartbeat=heartbeat, orchestrator=OrchestratorConfig(port=orch_port))
    cfg = chains.config(base)
    endpoints = cfg.endpoints.model_copy(
        update={"orchestrator_url": f"http://127.0.0.1:{orch_port}"}
    )
    data = cfg.model_copy(update={"endpoints": endpoints}).model_dump(mode="json")
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    for section, values in data.items():
        (config_dir / f"{section}.yml").write_text(yaml.safe_dump(values, sort_keys=False))
    return config_dir


ARBITRUM_DOWN = 'ArbSequencerDown{chain="arbitrum"}'
"""The heartbeat's reason name, labelled like the alert."""


def test_sequencer_down_pauses_through_the_orchestrator_and_recovers(
    local_chains: LocalChains, tmp_path: Path
) -> None:
    local_chains.set_feed(0, int(time.time()) - 86400)  # up for a day, whatever ran before
    orch_port, metrics_port = free_port(), free_port()
    config_dir = _write_config(local_chains, tmp_path, orch_port, metrics_port)
    base = f"http://127.0.0.1:{orch_port}"
    orch_args = ["orchestrator", "--config-dir", str(config_dir)]
    orch_args += ["--state-dir", str(tmp_path / "state")]
    hb_args = ["heartbeat", "--config-dir", str(config_dir)]
    hb_ready = f"http://127.0.0.1:{metrics_port}/metrics"
    with (
        arbqos_service(
            "orchestrator", *orch_args, workdir=tmp_path, env=TOKENS, ready_url=f"{base}/healthz"
        ) as orch,
        arbqos_service(
            "heartbeat", *hb_args, workdir=tmp_path, env=TOKENS, ready_url=hb_ready
        ) as heartbeat,
        httpx.Client(base_url=base, timeout=5) as http,
    ):
        try:

            def reason(name: str) -> dict[str, Any] | None:
                reasons = http.get("/v1/status").json()["reasons"]
                found = [r for r in reasons if r["name"] == name and r["source"] == "heartbeat"]
                return found[0] if found else None

            def registry_arbitrum() -> dict[str, Any]:
                chains_json: dict[str, Any] = http.get("/v1/registry").json()["chains"]
                return chains_json.get("arbitrum", {})

            eventually(lambda: registry_arbitrum().get("sequencer_up"), 15, what="healthy reports")
            assert reason(ARBITRUM_DOWN) is None
            local_chains.set_feed(1)
            down = eventually(
                lambda: (r := reason(ARBITRUM_DOWN)) and r["active"] and r, 10, what="pause"
            )
            assert http.get("/v1/status").json()["state"] == "paused"
            assert down["detail"].startswith("uptime feed reports sequencer down since ")
            metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
            assert 'arb_sequencer_up{chain="arbitrum"} 0.0' in metrics
            assert 'arb_probe_success{target="arbitrum"} 0.0' in metrics
            local_chains.set_feed(0, int(time.time()) - 86400)
            eventually(lambda: not reason(ARBITRUM_DOWN)["active"], 10, what="reason inactive")
        except AssertionError:
            print(orch.tail(40), heartbeat.tail(40))
            raise
        finally:
            local_chains.set_feed(0, int(time.time()) - 86400)
        assert heartbeat.stop() == 0  # SIGTERM ends it cleanly after the current tick
    log = tmp_path / "monitoring" / "heartbeat.log"
    records = [json.loads(line) for line in log.read_text().splitlines()]
    lines = [line for line in records if line["event"] == "tick"]
    assert len(lines) >= 3
    changes = [(r["target"], r["to"]) for r in records if r["event"] == "state_change"]
    assert ("arbitrum", "down") in changes and changes[-1] == ("arbitrum", "up")
    assert any(r["event"] == "retry" and r["target"] == "arbitrum" for r in records)
    ticks = [line["tick"] for line in lines]
    assert ticks[0] == 1 and ticks == sorted(set(ticks))  # skipped slots only on a starved host
    assert any(not line["targets"]["arbitrum"]["ok"] for line in lines)
    assert run_audit([log], max_gap_s=None, interval_s=INTERVAL_S) == 0
