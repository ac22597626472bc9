"""Build the demo's effective config: the operator's config pointed at the local stack."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from arbqos.config.schema import ArbqosConfig


@dataclass(frozen=True)
class LocalEndpoints:
    """Where the local stack's pieces listen (all on 127.0.0.1)."""

    rpc_urls: dict[str, str]
    """chain -> anvil RPC URL."""
    token_addresses: dict[str, str]
    """chain -> deployed 6-decimal stablecoin."""
    feed_address: str
    sx_api_url: str
    azuro_api_url: str
    azuro_subgraph_url: str
    orchestrator_port: int
    heartbeat_port: int
    balance_port: int
    engine_port: int
    prometheus_port: int
    alertmanager_port: int


@dataclass(frozen=True)
class DemoTuning:
    """Demo timings: faster than production so every path shows within minutes."""

    heartbeat_interval_s: float = 5.0
    probe_timeout_s: float = 2.0
    retry_interval_s: float = 1.5
    """(failure_threshold - 1) x retry + probe timeout must fit in the heartbeat interval."""
    balance_poll_s: float = 5.0
    balance_timeout_s: float = 2.0
    qos_window_s: int = 60
    min_orders_in_window: int = 20
    p95_accept_time_ms_max: int = 1200
    """The simulators compress SX Bet's betting delays by 10 (live 3-10 s -> 0.3-1 s)."""
    kpi_interval_s: float = 5.0
    """The KPI rules every 5 s instead of 60 s, so the KPI row fills within a short run."""


def demo_config(
    base: ArbqosConfig, local: LocalEndpoints, run_dir: Path, tuning: DemoTuning | None = None
) -> ArbqosConfig:
    """Return `base` with endpoints, ports, paths and demo timings pointed at the local stack."""
    tune = tuning or DemoTuning()
    data: dict[str, Any] = base.model_dump(mode="json")
    for chain, url in local.rpc_urls.items():
        data["endpoints"]["chains"][chain]["rpc_urls"] = [url]
    data["endpoints"].update(
        sx_api_url=local.sx_api_url,
        azuro_api_url=local.azuro_api_url,
        azuro_subgraph_url=local.azuro_subgraph_url,
        sequencer_uptime_feed=local.feed_address,
        sequencer_grace_s=30,
        orchestrator_url=f"http://127.0.0.1:{local.orchestrator_port}",
        request_timeout_s=tune.probe_timeout_s,
    )
    for wallet in data["risk"]["wallets"].values():
        wallet["token_address"] = local.token_addresses[wallet["chain"]]
    data["risk"]["bank_source"] = "onchain"
    data["exec"].update(
        qos_window_s=tune.qos_window_s,
        min_orders_in_window=tune.min_orders_in_window,
        p95_accept_time_ms_max=tune.p95_accept_time_ms_max,
    )
    data["heartbeat"].update(
        interval_s=tune.heartbeat_interval_s,
        probe_timeout_s=tune.probe_timeout_s,
        retry_interval_s=tune.retry_interval_s,
        host="127.0.0.1",
        metrics_port=local.heartbeat_port,
        log_path=str(run_dir / "monitoring" / "heartbeat.log"),
        sx_stall_probes=3,
        sx_stall_grace_s=10.0,
    )
    data["balance_watcher"].update(
        poll_interval_s=tune.balance_poll_s,
        read_timeout_s=tune.balance_timeout_s,
        host="127.0.0.1",
        metrics_port=local.balance_port,
        log_path=str(run_dir / "monitoring" / "balance_watcher.log"),
    )
    data["orchestrator"].update(
        host="127.0.0.1",
        port=local.orchestrator_port,
        state_dir=str(run_dir / "state"),
        alert_events_log=str(run_dir / "monitoring" / "alert_events.log"),
    )
    data["alerting"].update(
        pause_token_file=str(run_dir / "secrets" / "pause_token"),
        prometheus_listen=f"127.0.0.1:{local.prometheus_port}",
        alertmanager_listen=f"127.0.0.1:{local.alertmanager_port}",
        engine_target=f"127.0.0.1:{local.engine_port}",
        warn_for_s=5.0,
        kpi_interval_s=tune.kpi_interval_s,
    )
    return ArbqosConfig.model_validate(data)


def write_config_dir(config: ArbqosConfig, config_dir: Path) -> None:
    """Write one `<section>.yml` per section, loadable by `--config-dir config_dir`."""
    config_dir.mkdir(parents=True, exist_ok=True)
    for section, values in config.model_dump(mode="json").items():
        text = yaml.safe_dump(values, sort_keys=False, default_flow_style=False)
        (config_dir / f"{section}.yml").write_text(text, encoding="utf-8")
