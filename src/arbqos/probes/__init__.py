"""Probes: the heartbeat prober (chains, venue APIs, subgraph), its schedule and its log audit."""

from arbqos.probes.audit import AuditResult, audit_files, run_audit
from arbqos.probes.base import ProbeFn, ProbeResult, ProbeRunner, Target, failed_result
from arbqos.probes.heartbeat import Heartbeat, TickOutcome
from arbqos.probes.report import OrchestratorReporter, Reporter
from arbqos.probes.schedule import LoopClock, Slot, TickSchedule, VirtualTimeLoop, run_virtual
from arbqos.tokens import read_pause_token

__all__ = [
    "AuditResult",
    "Heartbeat",
    "LoopClock",
    "OrchestratorReporter",
    "ProbeFn",
    "ProbeResult",
    "ProbeRunner",
    "Reporter",
    "Slot",
    "Target",
    "TickOutcome",
    "TickSchedule",
    "VirtualTimeLoop",
    "audit_files",
    "failed_result",
    "read_pause_token",
    "run_audit",
    "run_virtual",
]
