"""Exception tree of arbqos: every error carries the data an operator needs to fix it."""

from __future__ import annotations

from dataclasses import dataclass


class ArbqosError(Exception):
    """Base class of every error arbqos raises on purpose."""


@dataclass(frozen=True)
class ConfigIssue:
    """One problem found in the configuration: where it is, what it holds, what is expected."""

    origin: str
    """`config/exec.yml:3`, `env:ARBQOS__EXEC__FILL_RATIO_MIN`, `cli`, or `default`."""
    path: str
    """Dotted key path, e.g. `exec.fill_ratio_min`."""
    value: object
    message: str

    def render(self) -> str:
        """Return the one-line message shown to the operator."""
        if not self.path:
            return f"{self.origin}: {self.message}"
        shown = "<missing>" if self.value is _MISSING else repr(self.value)
        return f"{self.origin}: {self.path} = {shown}: {self.message}"


class _Missing:
    """Marker for a required key that has no value."""

    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()
MISSING: object = _MISSING


class ConfigError(ArbqosError, ValueError):
    """The configuration is invalid; `.issues` lists every problem at once."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        lines = [f"invalid configuration ({len(issues)} error{'s' if len(issues) != 1 else ''}):"]
        lines += [f"  {issue.render()}" for issue in issues]
        super().__init__("\n".join(lines))


class ProbeError(ArbqosError):
    """A probe got an answer that is wrong (bad chain id, garbage JSON, error status)."""


class RpcError(ProbeError):
    """A JSON-RPC endpoint answered with an error or could not be reached."""


class ForbiddenRpcMethod(ArbqosError, PermissionError):
    """A JSON-RPC method that could move funds or sign was refused before leaving the process."""
