"""The environment a test, or a child process it starts, sees: never the caller's ARBQOS*."""

from __future__ import annotations

import os
from collections.abc import Mapping

PREFIX = "ARBQOS"


def arbqos_names(environ: Mapping[str, str] | None = None) -> list[str]:
    """Names of the `ARBQOS*` variables in `environ` (default: this process)."""
    return sorted(k for k in (os.environ if environ is None else environ) if k.startswith(PREFIX))


def child_environ(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any `ARBQOS*` variable, plus `extra`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    return {**clean, **(extra or {})}
