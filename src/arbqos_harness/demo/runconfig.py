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
    notify_urls_file: str | None = None
    """Secrets file naming the demo's notification channel (the loopback sink)."""
    sink_url: str | None = None
    """Base URL of the notification sink; Alertmanager's direct receiver posts there."""


@dataclass(frozen=True)
class DemoTuning:
    """Demo timings: faster than production so every path shows within minutes."""

    heartbeat_interval_s: float = 8.0
    probe_timeout_s: float = 2.0
    retry_interval_s: float = 2.5
    """(failure_threshold - 1) x retry + probe timeout must fit in the heartbeat interval. Three
    failed attempts span 5 s, so a 4 s blip (`rpc-blip`) cannot pause, as in production, where
    they span 10 s (production: every 30 s, retries 5 s apart)."""
    balance_poll_s: float = 5.0
    balance_timeout_s: float = 2.0
    qos_window_s: int = 60
    min_orders_in_window: int = 20
    p95_accept_time_ms_max: int = 1200
    """The simulators compress SX Bet's betting delays by 10 (live 3-10 s -> 0.3-1 s)."""
    kpi_interval_s: float = 5.0
    """The KPI rules every 5 s instead of 60 s, so the KPI row fills within a short run."""
    infra_resume_after_s: float = 15.0
    """Infrastructure pauses lift 15 s after recovery instead of 60 s."""
    sequencer_grace_s: int = 30
    """Arbitrum feed grace after recovery (production 300 s)."""
    sx_stall_probes: int = 3
    """SX Rollup stalled after 3 probes without a new block (production 10)."""
    sx_stall_grace_s: float = 10.0
    """SX Rollup grace after a stall ends (production 120 s)."""
    absent_for_s: float = 10.0
    """Engine metrics or the orchestrator missing this long raise their alert (production 30 s)."""
    watchdog_repeat_s: float = 2.0
    """ArbWatchdog reaches the orchestrator every 2 s (production 60 s)."""
    watchdog_timeout_s: float = 10.0
    """The orchestrator calls the alert path silent after 10 s without it (production 180 s)."""

    def lines(self) -> list[str]:
        """The scaled timings, one `name value` per line, for the demo to print."""
        return [f"{name} {getattr(self, name):g}" for name in self.__dataclass_fields__]


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
        sequencer_grace_s=tune.sequencer_grace_s,
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
        sx_stall_probes=tune.sx_stall_probes,
        sx_stall_grace_s=tune.sx_stall_grace_s,
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
        infra_resume_after_s=tune.infra_resume_after_s,
        watchdog_timeout_s=tune.watchdog_timeout_s,
    )
    data["alerting"].update(
        pause_token_file=str(run_dir / "secrets" / "pause_token"),
        prometheus_listen=f"127.0.0.1:{local.prometheus_port}",
        alertmanager_listen=f"127.0.0.1:{local.alertmanager_port}",
        engine_target=f"127.0.0.1:{local.engine_port}",
        warn_for_s=5.0,
        kpi_interval_s=tune.kpi_interval_s,
        absent_for_s=tune.absent_for_s,
        watchdog_repeat_s=tune.watchdog_repeat_s,
        notify_urls_file=local.notify_urls_file,
    )
    if local.sink_url is not None:
        # ArbOrchestratorDown reaches a person without passing through the orchestrator
        data["alerting"]["direct_receivers"] = {
            "sink": {"type": "webhook", "url": f"{local.sink_url}/alertmanager"}
        }
    return ArbqosConfig.model_validate(data)


def write_config_dir(config: ArbqosConfig, config_dir: Path) -> None:
    """Write one `<section>.yml` per section, loadable by `--config-dir config_dir`."""
    config_dir.mkdir(parents=True, exist_ok=True)
    for section, values in config.model_dump(mode="json").items():
        text = yaml.safe_dump(values, sort_keys=False, default_flow_style=False)
        (config_dir / f"{section}.yml").write_text(text, encoding="utf-8")
