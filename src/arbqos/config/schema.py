"""Typed, frozen configuration models; unknown keys are errors, thresholds carry their units."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from eth_utils.address import is_checksum_address, to_checksum_address
from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator

from arbqos.config.alerting import AlertingConfig
from arbqos.config.base import Fraction, HttpUrl, Port, PositiveSeconds, Section
from arbqos.vocab import Chain, ProbeTarget, Venue

BankSource = Literal["onchain", "venue_api", "static"]
ALL_TARGETS: tuple[ProbeTarget, ...] = tuple(ProbeTarget)
_HEX_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def _address_not_number(value: object) -> object:
    """Explain the YAML trap: an unquoted `0x...` is read as an integer."""
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(
            "YAML read this unquoted 0x... value as a number; put the address in quotes: "
            'address: "0x..."'
        )
    return value


def _address_problem(value: str) -> str:
    """Say what is wrong with a string that is not `0x` + 40 hex digits."""
    expected = "expected a 20-byte hex address: 0x followed by exactly 40 hex digits (0-9, a-f)"
    if not value.startswith("0x"):
        return f"{expected}; it does not start with 0x"
    body = value[2:]
    bad = sorted({c for c in body if c not in "0123456789abcdefABCDEF"})
    if bad:
        return f"{expected}; not hex: {''.join(bad)}"
    return f"{expected}; got {len(body)} digits"


def _checksum_address(value: str) -> str:
    """Accept a 20-byte hex address and return it in EIP-55 form."""
    if not _HEX_ADDRESS.match(value):
        raise ValueError(_address_problem(value))
    body = value[2:]
    mixed_case = body != body.lower() and body != body.upper()
    if mixed_case and not is_checksum_address(value):
        raise ValueError(
            "mixed-case address fails its EIP-55 checksum (a typo?); "
            "write it all lowercase or with the correct checksum"
        )
    return str(to_checksum_address(value))


Address = Annotated[str, BeforeValidator(_address_not_number), AfterValidator(_checksum_address)]


class ExecConfig(Section):
    """`config/exec.yml`: QoS thresholds shared by the guard, the rules and the dashboard."""

    fill_ratio_min: Fraction = 0.85
    """Pause when filled/requested stake (USD) over the QoS window falls below this, (0, 1]."""
    p95_accept_time_ms_max: Annotated[int, Field(gt=0)] = 12000
    """Pause when the window's 95th percentile submit-to-accepted time exceeds this, ms."""
    qos_window_s: Annotated[int, Field(gt=0)] = 300
    """Window of both QoS statistics, seconds."""
    min_orders_in_window: Annotated[int, Field(ge=1)] = 20
    """Below this many submitted legs in the window, the QoS ratios do not trigger."""
    guard_enabled: bool = True
    """Run the in-process QoS guard (the fast pause path, next to the Prometheus rules)."""


class WalletConfig(Section):
    """One venue wallet: where the bank of that venue lives."""

    address: Address
    """Wallet address (20-byte hex, quoted in YAML); all lowercase or valid EIP-55 checksum."""
    chain: Chain
    """Chain the wallet holds its bank on: sx_rollup, arbitrum or polygon."""
    token: Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9.]+$")]
    """Symbol of the bank token, e.g. USDC (label value of arb_wallet_balance_usd)."""
    token_address: Address
    """ERC-20 contract of the bank token on that chain."""
    decimals: Annotated[int, Field(ge=0, le=36)]
    """Decimals of the token (USDC and USDT: 6)."""
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
                f"token {info.data.get('token')} has stablecoin: false, so usd_price (USD per "
                "token) is required; give usd_price or set stablecoin: true"
            )
        return value


def _default_wallets() -> dict[Venue, WalletConfig]:
    # Demo wallets: the well-known anvil development accounts 1 and 2. Set your own addresses.
    return {
        Venue.SX: WalletConfig(
            address="0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
            chain=Chain.SX_ROLLUP,
            token="USDC",
            token_address="0x6629Ce1Cf35Cc1329ebB4F63202F3f197b3F050B",
            decimals=6,
        ),
        Venue.AZURO: WalletConfig(
            address="0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
            chain=Chain.POLYGON,
            token="USDT",
            token_address="0xc2132D05D31c914a87C6611C10748AEb04B58e8F",
            decimals=6,
        ),
    }


class RiskConfig(Section):
    """`config/risk.yml`: stake cap, balance floor, wallets and where balances are read."""

    stake_pct_cap: Fraction = 0.05
    """Largest stake of one leg as a fraction of the bank, (0, 1]; above it alerts."""
    balance_alert_usd: Annotated[float, Field(ge=0)] = 15.0
    """Per-wallet balance floor, USD; below it alerts (never pauses, never bridges)."""
    balance_recover_margin_usd: Annotated[float, Field(ge=0)] = 1.0
    """Hysteresis: a low wallet counts as recovered above floor + margin, USD."""
    bank_source: BankSource = "onchain"
    """Where balances are read: onchain (ERC-20 balanceOf) or static (static_balance)."""
    bank_max_age_s: PositiveSeconds = 900.0
    """The engine checks stakes against a wallet balance read at most this long ago, seconds."""
    wallets: dict[Venue, WalletConfig] = Field(default_factory=_default_wallets)
    """One wallet per venue, keyed sx and azuro; both are required."""
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
        missing = sorted(set(Venue) - set(value))
        if missing:
            raise ValueError(
                "needs one wallet per venue (sx and azuro); missing: " + ", ".join(missing)
            )
        if info.data.get("bank_source") == "static":
            unset = [v for v, w in sorted(value.items()) if w.static_balance is None]
            if unset:
                raise ValueError(
                    "risk.bank_source is static, so every wallet needs static_balance (token "
                    "units); missing for: " + ", ".join(unset)
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
    """EIP-155 chain id the RPC must report (SX Rollup 4162, Arbitrum One 42161, Polygon 137)."""
    rpc_urls: Annotated[list[HttpUrl], Field(min_length=1)]
    """JSON-RPC URLs, tried in order; keyed URLs belong in the environment, not in git."""
    head_age_max_s: PositiveSeconds | None = None
    """Head older than this means stalled, seconds; empty for chains without empty blocks."""
    enabled: bool = True
    """Probe this chain; a wallet on a disabled chain is an error."""


def _default_chains() -> dict[Chain, ChainEndpoint]:
    return {
        Chain.SX_ROLLUP: ChainEndpoint(
            chain_id=4162,
            rpc_urls=["https://rpc-rollup.sx.technology", "https://rpc.sx-rollup.gelato.digital"],
        ),
        Chain.ARBITRUM: ChainEndpoint(
            chain_id=42161, rpc_urls=["https://arb1.arbitrum.io/rpc"], head_age_max_s=60
        ),
        Chain.POLYGON: ChainEndpoint(
            chain_id=137, rpc_urls=["https://polygon-rpc.com"], head_age_max_s=60
        ),
    }


class EndpointsConfig(Section):
    """`config/endpoints.yml`: chains, venue APIs, the sequencer feed and the orchestrator."""

    chains: dict[Chain, ChainEndpoint] = Field(default_factory=_default_chains)
    """One entry per chain, keyed sx_rollup, arbitrum and polygon; all three are required."""
    sx_api_url: HttpUrl = "https://api.sx.bet"
    """SX Bet REST API base URL."""
    azuro_api_url: HttpUrl = "https://api.onchainfeed.org/api/v1/public"
    """Azuro public REST API base URL."""
    azuro_subgraph_url: HttpUrl = (
        "https://thegraph.onchainfeed.org/subgraphs/name/azuro-protocol/azuro-api-polygon-v3"
    )
    """Azuro subgraph (GraphQL) URL; its lag behind Polygon is probed."""
    sequencer_uptime_feed: Address = "0xFdB631F5EE196F0ed6FAa767959853A9F217697D"
    """Chainlink L2 sequencer uptime feed on Arbitrum One."""
    sequencer_grace_s: Annotated[int, Field(ge=0)] = 300
    """Arbitrum: 'recovering' (not up) this long after the uptime feed's startedAt, seconds."""
    orchestrator_url: HttpUrl = "http://127.0.0.1:8700"
    """Base URL of the orchestrator control API, used by every client."""
    sx_api_key_file: str | None = None
    """File holding the SX Bet API key (the key itself never sits in config)."""
    request_timeout_s: PositiveSeconds = 10.0
    """Timeout of one venue API or RPC request, seconds."""
    response_max_bytes: Annotated[int, Field(ge=1024, le=256 * 1024 * 1024)] = 1024 * 1024
    """Largest answer read from an RPC, venue API or subgraph, bytes; larger fails the call."""

    @field_validator("chains")
    @classmethod
    def _all_chains(cls, value: dict[str, ChainEndpoint]) -> dict[str, ChainEndpoint]:
        missing = sorted(set(Chain) - set(value))
        if missing:
            raise ValueError(
                "needs an entry for each chain (sx_rollup, arbitrum and polygon); missing: "
                + ", ".join(missing)
            )
        return value


class HeartbeatConfig(Section):
    """`config/heartbeat.yml`: the 30-second prober."""

    interval_s: PositiveSeconds = 30.0
    """Time between tick starts (monotonic schedule), seconds."""
    probe_timeout_s: PositiveSeconds = 10.0
    """Hard per-probe timeout, seconds; must be below interval_s."""
    targets: list[ProbeTarget] = Field(default_factory=lambda: list(ALL_TARGETS))
    """Targets probed each tick (all six by default)."""
    log_path: str = "monitoring/heartbeat.log"
    """JSON-lines tick log, rotated at UTC midnight to `<path>.YYYY-MM-DD`."""
    retention_days: Annotated[int, Field(ge=2)] = 3
    """Rotated log files kept, days (at least 2 so 48 h can be audited)."""
    host: str = "127.0.0.1"
    """Bind address of the prober's /metrics."""
    metrics_port: Port = 9102
    """Port of the prober's /metrics."""
    report_to_orchestrator: bool = True
    """POST each tick to the orchestrator (pause on sequencer/RPC down, dead man's switch)."""
    sx_stall_probes: Annotated[int, Field(ge=1)] = 10
    """SX Rollup: no new block for this many probes while other signals fail = sequencer down."""
    sx_stall_grace_s: Annotated[float, Field(ge=0)] = 120.0
    """SX Rollup: 'recovering' (not up) this long after the first new block ending a stall, s."""
    subgraph_lag_max_s: PositiveSeconds = 300.0
    """Azuro subgraph more than this behind Polygon is a failed probe, seconds."""
    subgraph_lag_max_blocks: Annotated[int, Field(ge=1)] = 150
    """Azuro subgraph more than this many blocks behind Polygon is a failed probe."""
    failure_threshold: Annotated[int, Field(ge=1, le=100)] = 3
    """A target is declared down after this many failed attempts in a row."""
    success_threshold: Annotated[int, Field(ge=1, le=100)] = 2
    """A target is declared up again after this many successful attempts in a row."""
    retry_interval_s: PositiveSeconds = 5.0
    """Re-probe an unconfirmed target this often, seconds; (failure_threshold - 1) x this +
    probe_timeout_s must fit in interval_s."""

    @field_validator("probe_timeout_s")
    @classmethod
    def _timeout_below_interval(cls, value: float, info: ValidationInfo) -> float:
        interval = info.data.get("interval_s")
        if interval is not None and value >= interval:
            raise ValueError(
                f"must be below heartbeat.interval_s ({interval} s) so a hung probe never "
                "delays the next tick"
            )
        return value

    def down_within_s(self) -> float:
        """Longest time from a target failing to the heartbeat reporting it down (confirmed).

        The failure meets the next tick at the latest, then `failure_threshold - 1` retries
        follow `retry_interval_s` apart, the last one taking up to `probe_timeout_s`.
        """
        retries_s = (self.failure_threshold - 1) * self.retry_interval_s
        return self.interval_s + retries_s + self.probe_timeout_s

    @field_validator("retry_interval_s")
    @classmethod
    def _retries_fit(cls, value: float, info: ValidationInfo) -> float:
        interval = info.data.get("interval_s")
        timeout = info.data.get("probe_timeout_s")
        threshold = info.data.get("failure_threshold")
        if interval is None or timeout is None or threshold is None:
            return value  # reported on those keys already
        needed = (threshold - 1) * value + timeout
        if needed <= interval * (1 + 1e-9):
            return value
        fits = (interval - timeout) / (threshold - 1)
        raise ValueError(
            f"(heartbeat.failure_threshold - 1) x retry_interval_s + heartbeat.probe_timeout_s "
            f"= ({threshold} - 1) x {value:g} + {timeout:g} = {needed:g} s does not fit in "
            f"heartbeat.interval_s ({interval:g} s), so a failing target could not be confirmed "
            f"down before the next tick; set retry_interval_s to at most {fits:.4g}, or lower "
            "heartbeat.failure_threshold or heartbeat.probe_timeout_s"
        )


class BalanceWatcherConfig(Section):
    """`config/balance_watcher.yml`: the wallet balance poller."""

    poll_interval_s: PositiveSeconds = 60.0
    """Time between polls, seconds."""
    read_timeout_s: PositiveSeconds = 10.0
    """Timeout of one balance read, seconds; must be below poll_interval_s."""
    log_path: str = "monitoring/balance_watcher.log"
    """JSON-lines poll log, rotated at UTC midnight to `<path>.YYYY-MM-DD`."""
    retention_days: Annotated[int, Field(ge=2)] = 3
    """Rotated log files kept, days."""
    host: str = "127.0.0.1"
    """Bind address of the watcher's /metrics."""
    metrics_port: Port = 9103
    """Port of the watcher's /metrics."""
    balance_max_usd: Annotated[float, Field(gt=0)] = 1e7
    """A balance above this is a read error (a lying RPC or a wrong token), never a balance, USD."""

    @field_validator("read_timeout_s")
    @classmethod
    def _timeout_below_interval(cls, value: float, info: ValidationInfo) -> float:
        interval = info.data.get("poll_interval_s")
        if interval is not None and value >= interval:
            raise ValueError(
                f"must be below balance_watcher.poll_interval_s ({interval} s) so a hung read "
                "never delays the next poll"
            )
        return value


class OrchestratorConfig(Section):
    """`config/orchestrator.yml`: the control service that owns the pause state."""

    host: str = "127.0.0.1"
    """Bind address of the control API."""
    port: Port = 8700
    """Port of the control API (keep endpoints.orchestrator_url in step)."""
    state_dir: str = "state"
    """Directory of the persisted pause state (survives restart and kill -9)."""
    deadman_intervals: Annotated[float, Field(ge=1)] = 3.0
    """Pause when no heartbeat report arrived for this many heartbeat intervals."""
    infra_resume_after_s: Annotated[float, Field(ge=0)] = 60.0
    """Infrastructure reasons lift themselves once all recovered this long ago, seconds."""
    max_auto_resumes: Annotated[int, Field(ge=0)] = 3
    """Automatic resumes allowed per hour; past it new infrastructure pauses wait for a person."""
    max_body_bytes: Annotated[int, Field(ge=1024, le=16 * 1024 * 1024)] = 65536
    """Largest accepted request body, bytes (larger gets 413)."""
    alert_events_log: str = "monitoring/alert_events.log"
    """JSON-lines log of every alert received from Alertmanager."""
    client_fail_closed: bool = True
    """The SDK says trading is not allowed when the orchestrator cannot be reached."""
    client_cache_s: Annotated[float, Field(ge=0)] = 0.25
    """How long the SDK reuses a status answer, seconds."""
    client_timeout_s: PositiveSeconds = 2.0
    """Timeout of one SDK call to the orchestrator, seconds."""
    watchdog_timeout_s: Annotated[float, Field(gt=0)] = 180.0
    """ArbWatchdog silent this long: the alert path is down (notified), seconds."""
    pause_on_pipeline_down: bool = False
    """Also pause trading while the alert path is down (the guard and heartbeat still pause)."""
    heartbeat_ping_url_file: str | None = None
    """File holding a dead man's switch URL (healthchecks style) pinged while all is well."""
    heartbeat_ping_interval_s: Annotated[float, Field(ge=10)] = 60.0
    """How often that URL is pinged, seconds."""
    max_connections: Annotated[int, Field(ge=8, le=65536)] = 512
    """Most open connections to the control API; beyond it the oldest idle one is closed."""
    header_timeout_s: Annotated[float, Field(gt=0, le=300)] = 5.0
    """A connection must send complete request headers within this, seconds."""
    body_timeout_s: Annotated[float, Field(gt=0, le=300)] = 10.0
    """A request body must arrive within this, seconds (else 408)."""
    journal_retention_days: Annotated[float, Field(gt=0)] = 30.0
    """Journal rows older than this are deleted (hourly and at start), days."""


class ArbqosConfig(Section):
    """The whole validated configuration; one attribute per file in the config directory."""

    exec: ExecConfig = Field(default_factory=ExecConfig)
    """`config/exec.yml`."""
    risk: RiskConfig = Field(default_factory=RiskConfig)
    """`config/risk.yml`."""
    endpoints: EndpointsConfig = Field(default_factory=EndpointsConfig)
    """`config/endpoints.yml`."""
    heartbeat: HeartbeatConfig = Field(default_factory=HeartbeatConfig)
    """`config/heartbeat.yml`."""
    balance_watcher: BalanceWatcherConfig = Field(default_factory=BalanceWatcherConfig)
    """`config/balance_watcher.yml`."""
    orchestrator: OrchestratorConfig = Field(default_factory=OrchestratorConfig)
    """`config/orchestrator.yml`."""
    alerting: AlertingConfig = Field(default_factory=AlertingConfig)
    """`config/alerting.yml`."""


SECTIONS: dict[str, type[Section]] = {
    name: field.annotation  # type: ignore[misc]
    for name, field in ArbqosConfig.model_fields.items()
}
