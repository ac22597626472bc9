"""Execution instrumentation: what venue clients call per leg, bet and API call (contract §4)."""

from arbqos.instrument.azuro import AzuroOrders, azuro_implied_prob, azuro_raw_odds_prob
from arbqos.instrument.calls import (
    DEFAULT_ENDPOINTS,
    ERROR_CLASSES,
    VenueCall,
    VenueRejected,
    classify_error,
    status_error_class,
)
from arbqos.instrument.exporter import Exporter, make_metrics_app, start_exporter
from arbqos.instrument.metrics import EXECUTION_METRICS, ExecutionMetrics
from arbqos.instrument.outcome import FillOutcome
from arbqos.instrument.sx import record_sx_fill, submit_sx_fill, sx_fill_outcome, sx_implied_prob
from arbqos.instrument.tracker import ExecutionTracker, GuardHook, GuardWindow, Leg, bank_usd

__all__ = [
    "DEFAULT_ENDPOINTS",
    "ERROR_CLASSES",
    "EXECUTION_METRICS",
    "AzuroOrders",
    "ExecutionMetrics",
    "ExecutionTracker",
    "Exporter",
    "FillOutcome",
    "GuardHook",
    "GuardWindow",
    "Leg",
    "VenueCall",
    "VenueRejected",
    "azuro_implied_prob",
    "azuro_raw_odds_prob",
    "bank_usd",
    "classify_error",
    "make_metrics_app",
    "record_sx_fill",
    "start_exporter",
    "status_error_class",
    "submit_sx_fill",
    "sx_fill_outcome",
    "sx_implied_prob",
]
