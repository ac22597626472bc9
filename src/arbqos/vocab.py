"""The words of arbqos, defined once: venues, chains, probe targets, pause sources, alerts.

Every module that names one of these imports it from here, so a label value, a config key, a
reason name and a rule name can never drift apart. The members are `StrEnum`s: they compare
equal to their string values (`Venue.SX == "sx"`), format as them in f-strings and JSON, and
pydantic validates plain strings into them.

>>> Venue("sx") is Venue.SX, f"{Chain.SX_ROLLUP}", AlertName.RPC_DOWN in PAUSE_ALERTS
(True, 'sx_rollup', True)
"""

from __future__ import annotations

from enum import StrEnum


class Venue(StrEnum):
    """A betting venue the bot trades on (also the `wallet` label value)."""

    SX = "sx"
    AZURO = "azuro"


class Phase(StrEnum):
    """When a bet is placed relative to the event."""

    PREGAME = "pregame"
    LIVE = "live"


class Chain(StrEnum):
    """A chain arbqos watches (contract §4 `chain` label)."""

    SX_ROLLUP = "sx_rollup"
    ARBITRUM = "arbitrum"
    POLYGON = "polygon"


class ProbeTarget(StrEnum):
    """A heartbeat probe target: the three chains and the three venue endpoints."""

    SX_ROLLUP = "sx_rollup"
    ARBITRUM = "arbitrum"
    POLYGON = "polygon"
    SX_API = "sx_api"
    AZURO_API = "azuro_api"
    AZURO_SUBGRAPH = "azuro_subgraph"


class OrderResult(StrEnum):
    """Terminal result of a submitted leg (`arb_order_results_total{result}`)."""

    FILLED = "filled"
    PARTIAL = "partial"
    REJECTED = "rejected"
    EXPIRED = "expired"
    ERROR = "error"


class PauseSource(StrEnum):
    """Who asked the orchestrator to pause (`arb_orchestrator_pauses_total{source}`)."""

    ALERT = "alert"
    GUARD = "guard"
    HEARTBEAT = "heartbeat"
    DEADMAN = "deadman"
    MANUAL = "manual"
    SYSTEM = "system"
    """The orchestrator's own integrity checks (state store, state lost at start)."""


class SystemReason(StrEnum):
    """Reasons the orchestrator pauses for on its own behalf (source `system`)."""

    STATE_NOT_PERSISTED = "StateNotPersisted"
    """The pause state could not be written to disk; it is kept in memory and retried."""
    STATE_LOST = "StateLost"
    """At start, acknowledged state was missing or unreadable; an admin must check and resume."""
    ALERT_PIPELINE_DOWN = "AlertPipelineDown"
    """ArbWatchdog stopped arriving (with `orchestrator.pause_on_pipeline_down`)."""


class ReasonClass(StrEnum):
    """How a pause reason is lifted (`GET /v1/status` `class`)."""

    INFRA = "infra"
    """Chains, sequencers, RPCs, the heartbeat, the state store: lifts itself after recovery."""
    QOS = "qos"
    """Execution quality (fill ratio, accept time): money at stake, a person resumes."""
    MANUAL = "manual"
    """Asked by a person, or state lost at start: a person resumes."""


class Service(StrEnum):
    """A long-running arbqos process (`arb_config_info{service}`)."""

    ORCHESTRATOR = "orchestrator"
    HEARTBEAT = "heartbeat"
    BALANCE_WATCHER = "balance_watcher"
    ENGINE = "engine"


class Severity(StrEnum):
    """Alert severity label."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


class AlertName(StrEnum):
    """Every alert the generated rules define (contract §5 and the notify-only warnings)."""

    FILL_RATIO_LOW = "ArbFillRatioLow"
    ACCEPT_P95_HIGH = "ArbAcceptTimeP95High"
    SEQUENCER_DOWN = "ArbSequencerDown"
    RPC_DOWN = "ArbRpcDown"
    HEARTBEAT_STALE = "ArbHeartbeatStale"
    WALLET_BALANCE_LOW = "ArbWalletBalanceLow"
    STAKE_CAP_EXCEEDED = "ArbStakeCapExceeded"
    STAKE_CAP_UNCHECKED = "ArbStakeCapUnchecked"
    CONFIG_DRIFT = "ArbConfigDrift"
    WATCHDOG = "ArbWatchdog"
    PROBE_FAILED = "ArbProbeFailed"
    CHAIN_RPC_DOWN = "ArbChainRpcDown"
    CHAIN_HEAD_STALE = "ArbChainHeadStale"
    BALANCE_WATCHER_STALE = "ArbBalanceWatcherStale"
    ENGINE_METRICS_ABSENT = "ArbEngineMetricsAbsent"
    THRESHOLD_BUCKET_MISSING = "ArbThresholdBucketMissing"
    ORCHESTRATOR_DOWN = "ArbOrchestratorDown"
    PROMETHEUS_NOTIFY_FAILING = "ArbPrometheusNotifyFailing"
    ALERTMANAGER_NOTIFY_FAILING = "ArbAlertmanagerNotifyFailing"
    RULE_EVALUATION_FAILING = "ArbRuleEvaluationFailing"


PAUSE_ALERTS: frozenset[AlertName] = frozenset(
    {
        AlertName.FILL_RATIO_LOW,
        AlertName.ACCEPT_P95_HIGH,
        AlertName.SEQUENCER_DOWN,
        AlertName.RPC_DOWN,
        AlertName.HEARTBEAT_STALE,
    }
)
"""Alerts whose rules always carry `action="pause"`."""

OPTIONAL_PAUSE_ALERTS: frozenset[AlertName] = frozenset({AlertName.ENGINE_METRICS_ABSENT})
"""Alerts that carry `action="pause"` only when configured (`alerting.pause_on_engine_absent`)."""

PAUSABLE_ALERTS: frozenset[AlertName] = PAUSE_ALERTS | OPTIONAL_PAUSE_ALERTS
"""Every alert that pauses under some configuration: the orchestrator pre-creates their series."""


def pause_alerts(*, pause_on_engine_absent: bool) -> frozenset[AlertName]:
    """The alerts rendered with `action="pause"` (use `AlertingConfig.pause_alerts()`).

    The rule generator marks exactly these and a test checks the rendered rule file against
    them, so the rules and the orchestrator agree on what pauses.

    >>> AlertName.ENGINE_METRICS_ABSENT in pause_alerts(pause_on_engine_absent=True)
    True
    """
    return PAUSE_ALERTS | (OPTIONAL_PAUSE_ALERTS if pause_on_engine_absent else frozenset())
