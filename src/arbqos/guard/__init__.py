"""QoS guard: exact in-process window statistics that ask the orchestrator to pause fast."""

from arbqos.guard.notifier import PauseNotifier
from arbqos.guard.qos import PauseSink, QosGuard
from arbqos.guard.rules import RULES, QosRules, p95_nearest_rank
from arbqos.guard.window import QosWindow, WindowStats

__all__ = [
    "RULES",
    "PauseNotifier",
    "PauseSink",
    "QosGuard",
    "QosRules",
    "QosWindow",
    "WindowStats",
    "p95_nearest_rank",
]
