"""QoS guard: exact in-process window statistics that ask the orchestrator to pause fast."""

from arbqos.guard.notifier import PauseNotifier
from arbqos.guard.qos import ACCEPT_P95_HIGH, FILL_RATIO_LOW, PauseSink, QosGuard, WindowStats
from arbqos.guard.window import QosWindow, p95_nearest_rank

__all__ = [
    "ACCEPT_P95_HIGH",
    "FILL_RATIO_LOW",
    "PauseNotifier",
    "PauseSink",
    "QosGuard",
    "QosWindow",
    "WindowStats",
    "p95_nearest_rank",
]
