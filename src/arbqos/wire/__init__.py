"""The orchestrator's JSON shapes, defined once: the server validates with them, the SDK parses.

Pure pydantic models over `arbqos.vocab`; nothing here knows HTTP, the service or the registry.
Bodies our own clients send (`*Request`, `*Body`, `HeartbeatReport`) refuse unknown fields;
answers (`*Response`, `*Out`) ignore them, so an older client reads a newer orchestrator.
"""

from arbqos.wire.alertmanager import (
    AlertmanagerPayload,
    AlertmanagerResponse,
    AlertResultOut,
    AmAlert,
)
from arbqos.wire.base import (
    DETAIL_MAX,
    RequestBody,
    Timestamp,
    WireModel,
    clip_detail,
    describe,
)
from arbqos.wire.control import (
    AlertingStatusOut,
    ChannelStatusOut,
    ErrorResponse,
    HeartbeatStatusOut,
    JournalEntryOut,
    JournalResponse,
    LastReportOut,
    PauseRequest,
    PauseResponse,
    ReasonOut,
    ResumePolicyOut,
    ResumeRefusedResponse,
    ResumeRequest,
    ResumeResponse,
    StateName,
    StatusReasonOut,
    StatusResponse,
)
from arbqos.wire.registry import (
    BalancesRequest,
    ChainHealthBody,
    ChainHealthOut,
    HeartbeatReport,
    HeartbeatResponse,
    RegistryResponse,
    SequencerStatus,
    TargetReport,
    WalletBalanceBody,
    WalletBalanceOut,
)

__all__ = [
    "DETAIL_MAX",
    "AlertResultOut",
    "AlertingStatusOut",
    "AlertmanagerPayload",
    "AlertmanagerResponse",
    "AmAlert",
    "BalancesRequest",
    "ChainHealthBody",
    "ChainHealthOut",
    "ChannelStatusOut",
    "ErrorResponse",
    "HeartbeatReport",
    "HeartbeatResponse",
    "HeartbeatStatusOut",
    "JournalEntryOut",
    "JournalResponse",
    "LastReportOut",
    "PauseRequest",
    "PauseResponse",
    "ReasonOut",
    "RegistryResponse",
    "RequestBody",
    "ResumePolicyOut",
    "ResumeRefusedResponse",
    "ResumeRequest",
    "ResumeResponse",
    "SequencerStatus",
    "StateName",
    "StatusReasonOut",
    "StatusResponse",
    "TargetReport",
    "Timestamp",
    "WalletBalanceBody",
    "WalletBalanceOut",
    "WireModel",
    "clip_detail",
    "describe",
]
