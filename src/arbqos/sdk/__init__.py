"""Client SDK of the orchestrator: may the bot trade, pause, resume, report (sync and async).

The only code in arbqos that builds orchestrator URLs and auth headers. Answers parse into the
wire models of `arbqos.wire`, the same the server validates with; failures raise
`OrchestratorError` (as `OrchestratorCallError`, with a short `.reason`).
"""

from arbqos.sdk.calls import JournalKind, Route, url_for
from arbqos.sdk.client import AsyncOrchestratorClient, OrchestratorClient
from arbqos.sdk.core import OrchestratorCallError, failure_reason
from arbqos.wire import ReasonOut as PauseReason
from arbqos.wire import StatusResponse as OrchestratorStatus

__all__ = [
    "AsyncOrchestratorClient",
    "JournalKind",
    "OrchestratorCallError",
    "OrchestratorClient",
    "OrchestratorStatus",
    "PauseReason",
    "Route",
    "failure_reason",
    "url_for",
]
