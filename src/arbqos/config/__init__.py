"""Configuration: schema, layered loading with sources, canonical hash, redaction, manager."""

from arbqos.config.alerting import AlertingConfig, DirectReceiver
from arbqos.config.hashing import canonical_json, config_hash
from arbqos.config.loader import LoadedConfig, load_config
from arbqos.config.manager import ConfigManager, ReloadOutcome
from arbqos.config.redact import redact, redact_url
from arbqos.config.schema import (
    ArbqosConfig,
    BalanceWatcherConfig,
    ChainEndpoint,
    EndpointsConfig,
    ExecConfig,
    HeartbeatConfig,
    OrchestratorConfig,
    RiskConfig,
    WalletConfig,
)

__all__ = [
    "AlertingConfig",
    "ArbqosConfig",
    "BalanceWatcherConfig",
    "ChainEndpoint",
    "ConfigManager",
    "DirectReceiver",
    "EndpointsConfig",
    "ExecConfig",
    "HeartbeatConfig",
    "LoadedConfig",
    "OrchestratorConfig",
    "ReloadOutcome",
    "RiskConfig",
    "WalletConfig",
    "canonical_json",
    "config_hash",
    "load_config",
    "redact",
    "redact_url",
]
