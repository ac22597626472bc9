"""The top row: can the bot trade, and if not, why, since when, and what it waits for.

Fits a 1920x1080 screen without scrolling (rows y=0..9, see `TOP_ROW_BOTTOM`): the trading
state, each listed pause reason with its source, class, start and what lifts it, the config
hash of every service next to the hash the loaded rules were rendered from, and the health of
the pause paths, now and over the time range.
"""

from __future__ import annotations

from typing import Any

from arbqos.config import ArbqosConfig
from arbqos.generators.blindspots import RULES_INFO
from arbqos.generators.dashboard.exprs import (
    HEARTBEAT_AGE,
    NO_DATA,
    Limits,
    hash12,
    or_no_data,
    scraped,
)
from arbqos.generators.dashboard.panels import (
    AMBER,
    GREEN,
    RED,
    UP_DOWN,
    Override,
    Pos,
    Query,
    States,
    row,
    timeline_panel,
)
from arbqos.generators.dashboard.stats import coloured_cells, stat_panel, table_panel
from arbqos.generators.promql import gauge, number
from arbqos.vocab import ReasonClass, Service, Severity

TITLE = "Can the bot trade, and if not, why?"
TOP_ROW_BOTTOM = 10
"""First grid row below the top row."""
REASON = gauge("arb_orchestrator_reason_since_timestamp_seconds")
REASON_LABELS = "source, reason, class, active"
PAUSED = gauge("arb_orchestrator_paused")
TRADING = States({"0": ("RUNNING", GREEN), "1": ("PAUSED", RED), str(NO_DATA): ("UNKNOWN", RED)})
HEALTH = States({"1": ("OK", GREEN), "0": ("DOWN", RED), str(NO_DATA): ("NO DATA", RED)})
RUNNING_PAUSED = States({"0": ("running", GREEN), "1": ("PAUSED", RED)})
MATCH = States({"1": ("same as rules", GREEN), "0": ("DIFFERS", RED)})


def _config_queries() -> list[Query]:
    info = "max by (service, config_hash) (arb_config_info)"
    rules = f"group by (config_hash) ({RULES_INFO})"
    differ = f"count(arb_config_info unless on (config_hash) {rules})"
    return [
        Query(
            hash12(f"({info} * on (config_hash) group_left () {rules}\n  or {info} * 0)"),
            "{{service}} {{hash}}",
            instant=True,
        ),
        Query(
            hash12(f"{rules}\n  * on () group_left () ({differ} == bool 0 or on () vector(1))"),
            "rules {{hash}}",
            instant=True,
        ),
        Query(f"absent({RULES_INFO})", "rules", instant=True),
        Query(
            "max by (service) (arb_config_last_reload_successful) == 0",
            "{{service}} last reload",
            instant=True,
        ),
    ]


def _pause_path_queries(limits: Limits) -> list[Query]:
    fresh = f"({HEARTBEAT_AGE} <= bool {number(limits.heartbeat_stale_s)})"
    return [
        Query(or_no_data(scraped(Service.ENGINE)), "engine scraped", instant=True),
        Query(or_no_data(fresh), "heartbeat fresh", instant=True),
        Query(or_no_data("max(arb_alerting_pipeline_up)"), "alert pipeline", instant=True),
        Query(or_no_data(scraped(Service.ORCHESTRATOR)), "orchestrator scraped", instant=True),
        Query(
            or_no_data("max(arb_orchestrator_state_persisted)"), "pause state on disk", instant=True
        ),
    ]


def _waits_for(cfg: ArbqosConfig) -> States:
    orch = cfg.orchestrator
    return States(
        {
            ReasonClass.INFRA: (
                f"itself, {number(orch.infra_resume_after_s)} s after recovery",
                AMBER,
            ),
            ReasonClass.QOS: ("a person (admin resume)", RED),
            ReasonClass.MANUAL: ("a person (admin resume)", RED),
        }
    )


def top_panels(cfg: ArbqosConfig) -> list[Any]:
    """The row header and its panels (ids 1-7)."""
    limits = Limits.of(cfg)
    orch = cfg.orchestrator
    fail_closed = (
        " With orchestrator.client_fail_closed the SDK refuses to trade while it is unreachable."
        if orch.client_fail_closed
        else ""
    )
    reason = f"max by ({REASON_LABELS}) ({REASON})"
    return [
        row(1, TITLE, 0),
        stat_panel(
            2,
            "Trading",
            Pos(0, 1, 3, 5),
            [Query(or_no_data(f"max({PAUSED})"), "", instant=True)],
            description=(
                "arb_orchestrator_paused: RUNNING or PAUSED; UNKNOWN when Prometheus has no "
                f"value from the orchestrator.{fail_closed}"
            ),
            states=TRADING,
            sparkline=False,
            background=True,
            names=False,
        ),
        table_panel(
            3,
            "Why paused: listed reasons",
            Pos(3, 1, 10, 5),
            [
                Query(f"{reason} * 1000", "", table=True),
                Query(f"time() - {reason}", "", table=True),
            ],
            description=(
                "One row per pause reason the orchestrator lists "
                "(arb_orchestrator_reason_since_timestamp_seconds): who asked, the reason, "
                "since when (UTC) and for how long, whether its signal is still bad, and what "
                "lifts it. Infrastructure reasons lift themselves "
                f"{number(orch.infra_resume_after_s)} s after every one recovered, at most "
                f"{orch.max_auto_resumes} times an hour "
                "(then a person resumes); QoS and manual reasons wait for an admin resume."
            ),
            columns={
                "source": "source",
                "reason": "reason",
                "active": "signal",
                "Value #A": "since (UTC)",
                "Value #B": "for",
                "class": "lifted by",
            },
            overrides=[
                coloured_cells("lifted by", _waits_for(cfg)),
                coloured_cells(
                    "signal", States({"true": ("bad", RED), "false": ("recovered", AMBER)})
                ),
                Override(name="since (UTC)", props={"unit": "dateTimeAsIso"}),
                Override(name="for", props={"unit": "s", "decimals": 0}),
            ],
            no_value="no pause reason listed",
        ),
        stat_panel(
            4,
            "Config hash: services vs loaded rules",
            Pos(13, 1, 6, 5),
            _config_queries(),
            description=(
                "First 12 hex digits of each service's config hash (arb_config_info) and of "
                "the config the loaded rules were rendered from (arb_rules_info). Red: a "
                "service runs another config than the rules (ArbConfigDrift), the rules carry "
                "no hash, or a service's last reload failed. `arbqos config hash` prints the "
                "full hash, `arbqos config show` the source of every key."
            ),
            states=MATCH,
            sparkline=False,
            background=True,
            overrides=[
                Override("C", props={"mappings": States({"1": ("NOT LOADED", RED)}).mappings()}),
                Override("D", props={"mappings": States({"0": ("FAILED", RED)}).mappings()}),
            ],
        ),
        stat_panel(
            5,
            "Pause paths",
            Pos(19, 1, 5, 5),
            _pause_path_queries(limits),
            description=(
                "Whether each path that pauses trading works now. engine scraped: Prometheus "
                "reads the engine's metrics (the QoS alerts need them; the in-process guard "
                "does not). heartbeat fresh: a tick within "
                f"{number(limits.heartbeat_stale_s)} s (else ArbHeartbeatStale and the dead "
                "man's switch pause). alert pipeline: the orchestrator receives ArbWatchdog "
                "(Prometheus and Alertmanager deliver). orchestrator scraped, pause state on "
                "disk: the pause authority is up and can persist a pause. NO DATA is red."
            ),
            states=HEALTH,
            sparkline=False,
            background=True,
        ),
        timeline_panel(
            6,
            "Trading and pause paths over time",
            Pos(0, 6, 13, 4),
            [
                Query(f"max({PAUSED})", "trading"),
                Query(scraped(Service.ENGINE), "engine scraped"),
                Query(
                    f"{HEARTBEAT_AGE} <= bool {number(limits.heartbeat_stale_s)}",
                    "heartbeat fresh",
                ),
                Query("max(arb_alerting_pipeline_up)", "alert pipeline"),
                Query(scraped(Service.ORCHESTRATOR), "orchestrator scraped"),
            ],
            description="The rows of the two panels above over the time range; gaps are no data.",
            states=UP_DOWN,
            overrides=[Override("A", props={"mappings": RUNNING_PAUSED.mappings()})],
        ),
        table_panel(
            7,
            "Alerts firing",
            Pos(13, 6, 11, 4),
            [
                Query(
                    "count by (alertname, cause, severity, action) "
                    '(ALERTS{alertstate="firing", alertname!="ArbWatchdog"})',
                    "",
                    table=True,
                )
            ],
            description=(
                "Alerts Prometheus reports as firing (ArbWatchdog, always firing, left out). "
                'action="pause" alerts pause trading through Alertmanager and the '
                "orchestrator; count is the number of series (venues, chains, ...)."
            ),
            columns={
                "alertname": "alert",
                "cause": "cause",
                "severity": "severity",
                "action": "action",
                "Value": "series",
            },
            overrides=[
                coloured_cells(
                    "severity",
                    States(
                        {
                            Severity.CRITICAL: ("critical", RED),
                            Severity.WARNING: ("warning", AMBER),
                            Severity.INFO: ("info", "blue"),
                        }
                    ),
                ),
                coloured_cells("action", States({"pause": ("pause", RED)})),
            ],
            no_value="no alert firing",
        ),
    ]
