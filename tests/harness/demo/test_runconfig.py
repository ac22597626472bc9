"""The demo config points every endpoint at loopback and round-trips through the loader."""

from __future__ import annotations

from pathlib import Path

from arbqos.config import ArbqosConfig, load_config
from arbqos.config.layers import flatten
from arbqos_harness.demo.runconfig import LocalEndpoints, demo_config, write_config_dir

TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
LOCAL = LocalEndpoints(
    rpc_urls={
        c: f"http://127.0.0.1:{p}" for c, p in (("sx_rollup", 1), ("arbitrum", 2), ("polygon", 3))
    },
    token_addresses={"sx_rollup": TOKEN, "polygon": TOKEN, "arbitrum": TOKEN},
    feed_address=TOKEN,
    sx_api_url="http://127.0.0.1:11",
    azuro_api_url="http://127.0.0.1:12/api/v1/public",
    azuro_subgraph_url="http://127.0.0.1:12/subgraph",
    orchestrator_port=13,
    heartbeat_port=14,
    balance_port=15,
    engine_port=16,
    prometheus_port=17,
    alertmanager_port=18,
)


def test_every_url_is_loopback_and_config_round_trips(tmp_path: Path) -> None:
    config = demo_config(ArbqosConfig(), LOCAL, tmp_path)
    urls = [
        v
        for v in flatten(config.model_dump(mode="json"), "").values()
        for v in (v if isinstance(v, list) else [v])
        if isinstance(v, str) and "://" in v
    ]
    assert urls and all(u.startswith("http://127.0.0.1:") for u in urls)
    write_config_dir(config, tmp_path / "config")
    loaded = load_config(tmp_path / "config", {}, ())
    assert loaded.config == config
    assert loaded.config.heartbeat.interval_s == 5.0
    assert loaded.config.risk.wallets["sx"].token_address == TOKEN
