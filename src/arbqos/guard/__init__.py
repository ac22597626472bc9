"""QoS guard: exact in-process window statistics that ask the orchestrator to pause fast."""

from arbqos.guard.notifier import PauseNotifier
from arbqos.guard.qos import PauseSink, QosGuard, WindowStats
from arbqos.guard.window import QosWindow, p95_nearest_rank

__all__ = [
    "PauseNotifier",
    "PauseSink",
    "QosGuard",
    "QosWindow",
    "WindowStats",
    "p95_nearest_rank",
]
