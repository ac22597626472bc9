"""The orchestrator control service: pause state, control API, webhook and registry host."""

from arbqos.errors import TokenError
from arbqos.services.auth import Tokens, load_tokens
from arbqos.services.control import Outcome, PauseControl, ResumeRefused
from arbqos.services.http_app import create_app
from arbqos.services.service import ControlService
from arbqos.services.state import Actor, Reason, State, alert_reason_name

__all__ = [
    "Actor",
    "ControlService",
    "Outcome",
    "PauseControl",
    "Reason",
    "ResumeRefused",
    "State",
    "TokenError",
    "Tokens",
    "alert_reason_name",
    "create_app",
    "load_tokens",
]
