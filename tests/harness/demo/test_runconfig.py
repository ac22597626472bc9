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
    notify_urls_file="/run/demo/secrets/notify_urls",
    sink_url="http://127.0.0.1:19",
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
    assert loaded.config.risk.wallets["sx"].token_address == TOKEN


def test_demo_timings_are_scaled_and_a_person_is_told_through_the_sink(tmp_path: Path) -> None:
    config = demo_config(ArbqosConfig(), LOCAL, tmp_path)
    hb, orch, alerting = config.heartbeat, config.orchestrator, config.alerting
    assert (hb.interval_s, hb.retry_interval_s, hb.probe_timeout_s) == (8.0, 2.5, 2.0)
    # three failed attempts span 5 s: a 4 s blip cannot be confirmed as an outage
    assert (hb.failure_threshold - 1) * hb.retry_interval_s > 4.0
    assert orch.infra_resume_after_s == 15.0 and orch.watchdog_timeout_s == 10.0
    assert alerting.watchdog_repeat_s == 2.0 and alerting.absent_for_s == 10.0
    assert alerting.notify_urls_file == "/run/demo/secrets/notify_urls"
    (receiver,) = alerting.direct_receivers.values()
    assert (receiver.type, str(receiver.url)) == ("webhook", "http://127.0.0.1:19/alertmanager")
    assert "ArbOrchestratorDown" in receiver.alerts
