"""Recording rules: the QoS window statistics the dashboard plots, named `level:metric:operation`.

Every statistic covers `exec.qos_window_s`, the window the alerts and the in-process guard use,
so the dashboard shows the numbers that pause trading. Ratios divide by `(denominator > 0)`:
an idle venue has no series instead of a NaN one. The void rate is not here: bets settle hours
after they are placed, so it lives in the long-window KPI rules (`arbqos.generators.kpi`).
"""

from __future__ import annotations

from arbqos.config import ArbqosConfig
from arbqos.generators.promql import bucket, count, counter, duration, increase_by, quantile_by

ORDERS_WINDOW = "venue:arb_orders_submitted:increase_window"
STAKE_REQUESTED_WINDOW = "venue:arb_stake_requested_usd:increase_window"
STAKE_FILLED_WINDOW = "venue:arb_stake_filled_usd:increase_window"
STAKE_RESOLVED_WINDOW = "venue:arb_stake_resolved_usd:increase_window"
FILL_RATIO = "venue:arb_fill_ratio:ratio_window"
RESULTS_WINDOW = "venue:arb_order_results:increase_window"
RESULTS_BY_RESULT_WINDOW = "venue_result:arb_order_results:increase_window"
PARTIAL_RATIO = "venue:arb_order_results_partial:ratio_window"
ERROR_RATIO = "venue:arb_order_results_error:ratio_window"
ACCEPTS_WINDOW = "venue:arb_accept_time_seconds_count:increase_window"
ACCEPT_SLOW_RATIO = "venue:arb_accept_time_seconds:slow_ratio_window"
ACCEPT_P50 = "venue:arb_accept_time_seconds:p50_window"
ACCEPT_P95 = "venue:arb_accept_time_seconds:p95_window"
ACCEPT_PHASE_P50 = "venue_phase:arb_accept_time_seconds:p50_window"
ACCEPT_PHASE_P95 = "venue_phase:arb_accept_time_seconds:p95_window"
QUOTE_TO_FILL_P95 = "venue:arb_quote_to_fill_seconds:p95_window"
SLIPPAGE_P50 = "venue:arb_quote_to_fill_slippage_bps:p50_window"
SLIPPAGE_P95 = "venue:arb_quote_to_fill_slippage_bps:p95_window"
STAKE_ABOVE_CAP_WINDOW = "venue:arb_stake_fraction_of_bank:above_cap_increase_window"
API_ERROR_RATIO = "venue_endpoint:arb_venue_request_errors:ratio_window"

ACCEPT = "arb_accept_time_seconds"


def _share_of(part: str, whole: str) -> str:
    """`part / (whole > 0)`, with `part` counted as 0 where only `whole` has a series."""
    return f"({part} or {whole} * 0)\n/ ({whole} > 0)"


def build_recording_rules(cfg: ArbqosConfig) -> list[dict[str, str]]:
    """Return the recording rules over the QoS window, in dependency order."""
    w = duration(cfg.exec.qos_window_s)
    threshold_s = cfg.exec.p95_accept_time_ms_max / 1000
    cap = cfg.risk.stake_pct_cap
    stake_hist = "arb_stake_fraction_of_bank"
    requests = "arb_venue_request_duration_seconds"
    rules = [
        (ORDERS_WINDOW, increase_by("venue", counter("arb_orders_submitted_total"), w)),
        (STAKE_REQUESTED_WINDOW, increase_by("venue", counter("arb_stake_requested_usd_total"), w)),
        (STAKE_FILLED_WINDOW, increase_by("venue", counter("arb_stake_filled_usd_total"), w)),
        (STAKE_RESOLVED_WINDOW, increase_by("venue", counter("arb_stake_resolved_usd_total"), w)),
        (FILL_RATIO, f"{STAKE_FILLED_WINDOW}\n/ ({STAKE_RESOLVED_WINDOW} > 0)"),
        (RESULTS_BY_RESULT_WINDOW, increase_by("venue, result", "arb_order_results_total", w)),
        (RESULTS_WINDOW, f"sum by (venue) ({RESULTS_BY_RESULT_WINDOW})"),
        (
            PARTIAL_RATIO,
            _share_of(
                f'sum by (venue) ({RESULTS_BY_RESULT_WINDOW}{{result="partial"}})', RESULTS_WINDOW
            ),
        ),
        (
            ERROR_RATIO,
            _share_of(
                f'sum by (venue) ({RESULTS_BY_RESULT_WINDOW}{{result="error"}})', RESULTS_WINDOW
            ),
        ),
        (ACCEPTS_WINDOW, increase_by("venue", count(ACCEPT), w)),
        (
            ACCEPT_SLOW_RATIO,
            f"({ACCEPTS_WINDOW} - {increase_by('venue', bucket(ACCEPT, threshold_s), w)})\n"
            f"/ ({ACCEPTS_WINDOW} > 0)",
        ),
        (ACCEPT_P50, quantile_by(0.5, "venue", ACCEPT, w)),
        (ACCEPT_P95, quantile_by(0.95, "venue", ACCEPT, w)),
        (ACCEPT_PHASE_P50, quantile_by(0.5, "venue, phase", ACCEPT, w)),
        (ACCEPT_PHASE_P95, quantile_by(0.95, "venue, phase", ACCEPT, w)),
        (QUOTE_TO_FILL_P95, quantile_by(0.95, "venue", "arb_quote_to_fill_seconds", w)),
        (SLIPPAGE_P50, quantile_by(0.5, "venue", "arb_quote_to_fill_slippage_bps", w)),
        (SLIPPAGE_P95, quantile_by(0.95, "venue", "arb_quote_to_fill_slippage_bps", w)),
        (
            STAKE_ABOVE_CAP_WINDOW,
            f"{increase_by('venue', count(stake_hist), w)}\n"
            f"- {increase_by('venue', bucket(stake_hist, cap), w)}",
        ),
        (
            API_ERROR_RATIO,
            _share_of(
                increase_by("venue, endpoint", counter("arb_venue_request_errors_total"), w),
                increase_by("venue, endpoint", count(requests), w),
            ),
        ),
    ]
    return [{"record": name, "expr": expr} for name, expr in rules]
