"""Typed, frozen configuration models; unknown keys are errors, thresholds carry their units."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from eth_utils.address import is_checksum_address, to_checksum_address
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

VenueName = Literal["sx", "azuro"]
ChainName = Literal["sx_rollup", "arbitrum", "polygon"]
BankSource = Literal["onchain", "venue_api", "static"]
TargetName = Literal["sx_rollup", "arbitrum", "polygon", "sx_api", "azuro_api", "azuro_subgraph"]

ALL_TARGETS: tuple[TargetName, ...] = (
    "sx_rollup",
    "arbitrum",
    "polygon",
    "sx_api",
    "azuro_api",
    "azuro_subgraph",
)
_HEX_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def _checksum_address(value: str) -> str:
    """Accept a 20-byte hex address and return it in EIP-55 form."""
    if not isinstance(value, str) or not _HEX_ADDRESS.match(value):
        raise ValueError("expected a 20-byte hex address: 0x followed by 40 hex digits")
    body = value[2:]
    mixed_case = body != body.lower() and body != body.upper()
    if mixed_case and not is_checksum_address(value):
        raise ValueError(
            "mixed-case address fails its EIP-55 checksum (a typo?); "
            "write it all lowercase or with the correct checksum"
        )
    return str(to_checksum_address(value))


def _http_url(value: str) -> str:
    """Accept an http(s) URL with a host."""
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError("expected an http:// or https:// URL with a host")
    return value.rstrip("/")


def _host_port(value: str) -> str:
    """Accept `host:port`."""
    if not re.match(r"^[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$", value):
        raise ValueError("expected host:port, e.g. 127.0.0.1:8700")
    return value


Address = Annotated[str, AfterValidator(_checksum_address)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
HostPort = Annotated[str, AfterValidator(_host_port)]
Port = Annotated[int, Field(ge=1, le=65535)]
Fraction = Annotated[float, Field(gt=0, le=1)]
PositiveSeconds = Annotated[float, Field(gt=0)]


class Section(BaseModel):
    """Base of every config model: frozen, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class ExecConfig(Section):
    """`config/exec.yml`: QoS thresholds shared by the guard, the rules and the dashboard."""

    fill_ratio_min: Fraction = 0.85
    """Pause when filled/requested stake over the window falls below this (0-1]."""
    p95_accept_time_ms_max: Annotated[int, Field(gt=0)] = 12000
    """Pause when the window's 95th percentile accept time exceeds this, ms."""
    qos_window_s: Annotated[int, Field(gt=0)] = 300
    """Window of both QoS statistics, seconds."""
    min_orders_in_window: Annotated[int, Field(ge=1)] = 20
    """Below this many submitted legs in the window, QoS ratios do not trigger."""
    guard_enabled: bool = True
    """Run the in-process QoS guard (the fast pause path)."""


class WalletConfig(Section):
    """One venue wallet: where the bank of that venue lives."""

    address: Address
    chain: ChainName
    token: Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9.]+$")]
    token_address: Address
    decimals: Annotated[int, Field(ge=0, le=36)]
    stablecoin: bool = True
    """Valued 1:1 in USD. Any other token needs `usd_price`."""
    usd_price: Annotated[float, Field(gt=0)] | None = None
    """Fixed USD price of one token, for a token that is not a USD stablecoin."""
    static_balance: Annotated[float, Field(ge=0)] | None = None
    """Balance in token units, used when `bank_source` is `static`."""

    @field_validator("usd_price")
    @classmethod
    def _priced(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is None and info.data.get("stablecoin") is False:
            raise ValueError(
                f"token {info.data.get('token')} is not declared a USD stablecoin: set "
                "stablecoin: true or give usd_price (USD per token)"
            )
        return value


def _default_wallets() -> dict[VenueName, WalletConfig]:
    # Demo wallets: the well-known anvil development accounts 1 and 2. Set your own addresses.
    return {
        "sx": WalletConfig(
            address="0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
            chain="sx_rollup",
            token="USDC",
            token_address="0x6629Ce1Cf35Cc1329ebB4F63202F3f197b3F050B",
            decimals=6,
        ),
        "azuro": WalletConfig(
            address="0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
            chain="polygon",
            token="USDT",
            token_address="0xc2132D05D31c914a87C6611C10748AEb04B58e8F",
            decimals=6,
        ),
    }


class RiskConfig(Section):
    """`config/risk.yml`: stake cap, balance floor, wallets and where balances are read."""

    stake_pct_cap: Fraction = 0.05
    """Largest stake of one leg as a fraction of the bank; above it alerts."""
    balance_alert_usd: Annotated[float, Field(ge=0)] = 15.0
    """Per-wallet balance floor, USD; below it alerts (never pauses, never bridges)."""
    balance_recover_margin_usd: Annotated[float, Field(ge=0)] = 1.0
    """Hysteresis: a low wallet recovers above floor + margin, USD."""
    bank_source: BankSource = "onchain"
    wallets: dict[VenueName, WalletConfig] = Field(default_factory=_default_wallets)
    auto_bridge: Literal[False] | None = None
    """arbqos never moves funds: if present this must be false."""

    @field_validator("bank_source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        if value == "venue_api":
            raise ValueError(
                "bank_source venue_api is not available: neither SX Bet nor Azuro documents a "
                "balance endpoint; use onchain (ERC-20 balanceOf) or static"
            )
        return value

    @field_validator("wallets")
    @classmethod
    def _both_wallets(
        cls, value: dict[str, WalletConfig], info: ValidationInfo
    ) -> dict[str, WalletConfig]:
        missing = sorted({"sx", "azuro"} - set(value))
        if missing:
            raise ValueError(f"wallets must define both venues sx and azuro; missing: {missing}")
        if info.data.get("bank_source") == "static":
            unset = [v for v, w in sorted(value.items()) if w.static_balance is None]
            if unset:
                raise ValueError(
                    "bank_source static needs static_balance (token units) for every wallet; "
                    f"missing for: {unset}"
                )
        return value

    @field_validator("auto_bridge", mode="before")
    @classmethod
    def _never_bridge(cls, value: object) -> object:
        if value is not None and value is not False and str(value).lower() != "false":
            raise ValueError(
                "must be false: arbqos never moves funds; bridging is a manual decision"
            )
        return False if value is not None else None


class ChainEndpoint(Section):
    """RPC endpoints of one chain, tried in order (failover)."""

    chain_id: Annotated[int, Field(gt=0)]
    rpc_urls: Annotated[list[HttpUrl], Field(min_length=1)]
    head_age_max_s: PositiveSeconds | None = None
    """Head older than this means stalled; empty for chains without empty blocks (SX Rollup)."""
    enabled: bool = True


def _default_chains() -> dict[ChainName, ChainEndpoint]:
    return {
        "sx_rollup": ChainEndpoint(
            chain_id=4162,
            rpc_urls=["https://rpc-rollup.sx.technology", "https://rpc.sx-rollup.gelato.digital"],
        ),
        "arbitrum": ChainEndpoint(
            chain_id=42161, rpc_urls=["https://arb1.arbitrum.io/rpc"], head_age_max_s=60
        ),
        "polygon": ChainEndpoint(
            chain_id=137, rpc_urls=["https://polygon-rpc.com"], head_age_max_s=60
        ),
    }


class EndpointsConfig(Section):
    """`config/endpoints.yml`: chains, venue APIs, the sequencer feed and the orchestrator."""

    chains: dict[ChainName, ChainEndpoint] = Field(default_factory=_default_chains)
    sx_api_url: HttpUrl = "https://api.sx.bet"
    azuro_api_url: HttpUrl = "https://api.onchainfeed.org/api/v1/public"
    azuro_subgraph_url: HttpUrl = (
        "https://thegraph.onchainfeed.org/subgraphs/name/azuro-protocol/azuro-api-polygon-v3"
    )
    sequencer_uptime_feed: Address = "0xFdB631F5EE196F0ed6FAa767959853A9F217697D"
    """Chainlink L2 sequencer uptime feed on Arbitrum One."""
    sequencer_grace_s: Annotated[int, Field(ge=0)] = 3600
    """After the feed reports recovery, treat the sequencer as recovering for this long."""
    orchestrator_url: HttpUrl = "http://127.0.0.1:8700"
    sx_api_key_file: str | None = None
    """File holding the SX Bet API key (the key itself never sits in config)."""
    request_timeout_s: PositiveSeconds = 10.0

    @field_validator("chains")
    @classmethod
    def _all_chains(cls, value: dict[str, ChainEndpoint]) -> dict[str, ChainEndpoint]:
        missing = sorted({"sx_rollup", "arbitrum", "polygon"} - set(value))
        if missing:
            raise ValueError(
                f"chains must define sx_rollup, arbitrum and polygon; missing: {missing}"
            )
        return value


class HeartbeatConfig(Section):
    """`config/heartbeat.yml`: the 30-second prober."""

    interval_s: PositiveSeconds = 30.0
    probe_timeout_s: PositiveSeconds = 10.0
    """Hard per-probe timeout; must be below interval_s."""
    targets: list[TargetName] = Field(default_factory=lambda: list(ALL_TARGETS))
    log_path: str = "monitoring/heartbeat.log"
    retention_days: Annotated[int, Field(ge=2)] = 3
    host: str = "127.0.0.1"
    metrics_port: Port = 9102
    report_to_orchestrator: bool = True
    sx_stall_probes: Annotated[int, Field(ge=1)] = 10
    """SX Rollup: no new block for this many probes while other signals fail = sequencer down."""
    subgraph_lag_max_s: PositiveSeconds = 300.0
    subgraph_lag_max_blocks: Annotated[int, Field(ge=1)] = 150

    @field_validator("probe_timeout_s")
    @classmethod
    def _timeout_below_interval(cls, value: float, info: ValidationInfo) -> float:
        interval = info.data.get("interval_s")
        if interval is not None and value >= interval:
            raise ValueError(
                f"must be below heartbeat.interval_s ({interval}) so a hung probe never delays "
                "the next tick"
            )
        return value


class BalanceWatcherConfig(Section):
    """`config/balance_watcher.yml`: the wallet balance poller."""

    poll_interval_s: PositiveSeconds = 60.0
    read_timeout_s: PositiveSeconds = 10.0
    log_path: str = "monitoring/balance_watcher.log"
    retention_days: Annotated[int, Field(ge=2)] = 3
    host: str = "127.0.0.1"
    metrics_port: Port = 9103

    @field_validator("read_timeout_s")
    @classmethod
    def _timeout_below_interval(cls, value: float, info: ValidationInfo) -> float:
        interval = info.data.get("poll_interval_s")
        if interval is not None and value >= interval:
            raise ValueError(f"must be below balance_watcher.poll_interval_s ({interval})")
        return value


class OrchestratorConfig(Section):
    """`config/orchestrator.yml`: the control service that owns the pause state."""

    host: str = "127.0.0.1"
    port: Port = 8700
    state_dir: str = "state"
    deadman_intervals: Annotated[float, Field(ge=1)] = 3.0
    """Pause when no heartbeat report arrived for this many heartbeat intervals."""
    auto_resume: bool = False
    auto_resume_grace_s: Annotated[float, Field(ge=0)] = 300.0
    max_body_bytes: Annotated[int, Field(ge=1024, le=16 * 1024 * 1024)] = 65536
    alert_events_log: str = "monitoring/alert_events.log"
    client_fail_closed: bool = True
    """The SDK says trading is not allowed when the orchestrator cannot be reached."""
    client_cache_s: Annotated[float, Field(ge=0)] = 0.25
    client_timeout_s: PositiveSeconds = 2.0


class AlertingConfig(Section):
    """`config/alerting.yml`: Prometheus and Alertmanager timings and scrape targets."""

    scrape_interval_s: PositiveSeconds = 1.0
    evaluation_interval_s: PositiveSeconds = 1.0
    pause_for_s: Annotated[float, Field(ge=0)] = 0.0
    """`for:` of alerts that pause trading."""
    warn_for_s: Annotated[float, Field(ge=0)] = 60.0
    """`for:` of alerts that only notify."""
    group_wait_s: Annotated[float, Field(ge=0)] = 0.0
    group_interval_s: PositiveSeconds = 1.0
    repeat_interval_s: PositiveSeconds = 3600.0
    heartbeat_stale_intervals: Annotated[float, Field(gt=1)] = 3.0
    pause_token_file: str = "/etc/arbqos/pause_token"
    """Credentials file Alertmanager reads the pause token from."""
    default_webhook_url: HttpUrl | None = None
    """Where alerts that do not pause are sent (chat bridge, pager); empty: nowhere."""
    prometheus_listen: HostPort = "127.0.0.1:9090"
    alertmanager_listen: HostPort = "127.0.0.1:9093"
    engine_target: HostPort = "127.0.0.1:9101"
    """`/metrics` of the arb engine's instrumentation exporter."""


class ArbqosConfig(Section):
    """The whole validated configuration; one attribute per file in the config directory."""

    exec: ExecConfig = Field(default_factory=ExecConfig)
    risk: RiskConfig = Field(default_factory=RiskConfig)
    endpoints: EndpointsConfig = Field(default_factory=EndpointsConfig)
    heartbeat: HeartbeatConfig = Field(default_factory=HeartbeatConfig)
    balance_watcher: BalanceWatcherConfig = Field(default_factory=BalanceWatcherConfig)
    orchestrator: OrchestratorConfig = Field(default_factory=OrchestratorConfig)
    alerting: AlertingConfig = Field(default_factory=AlertingConfig)


SECTIONS: dict[str, type[Section]] = {
    name: field.annotation  # type: ignore[misc]
    for name, field in ArbqosConfig.model_fields.items()
}
