"""Exception tree of arbqos: every error carries the data an operator needs to fix it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """Exit codes of every `arbqos` command (contract §2)."""

    OK = 0
    FAILURE = 1
    """Runtime failure: a port in use, a dependency unreachable, a check that found a problem."""
    BAD_INPUT = 2
    """Bad input: invalid config, bad flag, unusable token; the message names what to fix."""


class ArbqosError(Exception):
    """Base class of every error arbqos raises on purpose.

    `exit_code` is what a command exits with when this error ends it.
    """

    exit_code: ExitCode = ExitCode.FAILURE


class _Marker:
    """A value placeholder that renders as `<name>` (never as a real value)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"<{self._name}>"


MISSING: object = _Marker("missing")
"""The issue has no value to show (a required key is absent, or the problem is the whole file)."""
REDACTED_VALUE: object = _Marker("redacted")
"""The value looked like a secret and is never echoed."""


@dataclass(frozen=True)
class ConfigIssue:
    """One problem found in the configuration: where it is, what it holds, what is expected.

    >>> ConfigIssue("config/exec.yml:2", "exec.fill_ratio_min", 0, "expected a number > 0").render()
    'config/exec.yml:2: exec.fill_ratio_min = 0: expected a number > 0'
    """

    origin: str
    """`config/exec.yml:3`, `env:ARBQOS__EXEC__FILL_RATIO_MIN`, `cli`, or `default`."""
    path: str
    """Dotted key path, e.g. `exec.fill_ratio_min`; empty when the problem is a whole file."""
    value: object
    """The offending value (shown as JSON), `MISSING` when there is none, `REDACTED_VALUE`."""
    message: str
    """What is wrong and what is expected."""

    def render(self) -> str:
        """Return the one-line message shown to the operator."""
        where = f"{self.origin}: {self.path}" if self.path else self.origin
        if self.value is MISSING:
            return f"{where}: {self.message}"
        return f"{where} = {_shown(self.value)}: {self.message}"


def _shown(value: object) -> str:
    """Show a value the way it is written in YAML, env or JSON (`true`, `"yes"`, `[1, 2]`)."""
    if isinstance(value, _Marker):
        return repr(value)
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:
        return repr(value)


class ConfigError(ArbqosError, ValueError):
    """The configuration is invalid; `.issues` lists every problem at once."""

    exit_code = ExitCode.BAD_INPUT

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        count = len(issues)
        lines = [f"invalid configuration ({count} error{'s' if count != 1 else ''}):"]
        lines += [f"  {issue.render()}" for issue in issues]
        super().__init__("\n".join(lines))


class ProbeError(ArbqosError):
    """A probe got an answer that is wrong (bad chain id, garbage JSON, error status)."""


class RpcError(ProbeError):
    """A JSON-RPC endpoint answered with an error or could not be reached."""


class ForbiddenRpcMethod(ArbqosError, PermissionError):
    """A JSON-RPC method that could move funds or sign was refused before leaving the process."""


class TokenError(ArbqosError, ValueError):
    """A token is set badly (both forms, unreadable file, empty, unusable characters)."""

    exit_code = ExitCode.BAD_INPUT


class OrchestratorError(ArbqosError):
    """The orchestrator answered with an error, or could not be reached.

    `status` is the HTTP status when there was an answer, `body` its parsed JSON (if any).
    """

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
