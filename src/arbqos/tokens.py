"""Bearer tokens from the environment: `ARBQOS_<SCOPE>_TOKEN` or `ARBQOS_<SCOPE>_TOKEN_FILE`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from arbqos.errors import TokenError

Scope = Literal["admin", "pause"]
ENV_VARS: dict[Scope, tuple[str, str]] = {
    "admin": ("ARBQOS_ADMIN_TOKEN", "ARBQOS_ADMIN_TOKEN_FILE"),
    "pause": ("ARBQOS_PAUSE_TOKEN", "ARBQOS_PAUSE_TOKEN_FILE"),
}
_PRINTABLE = re.compile(r"^[\x21-\x7e]+$")


def read_token(env: Mapping[str, str], scope: Scope) -> str | None:
    """Return the `scope` token from its variable or its file, or None when neither is set.

    Raises:
        TokenError: naming the variable (never the value) and the fix.
    """
    var, file_var = ENV_VARS[scope]
    value = env.get(var, "").strip()
    path = env.get(file_var, "").strip()
    if value and path:
        raise TokenError(f"both {var} and {file_var} are set; set only one of them")
    if path:
        value = _read_token_file(Path(path), file_var)
    if value and not _PRINTABLE.match(value):
        raise TokenError(
            f"the {scope} token from {file_var if path else var} contains spaces or non-ASCII "
            "characters; use printable ASCII only (e.g. `openssl rand -hex 32`)"
        )
    return value or None


def read_pause_token(env: Mapping[str, str]) -> str | None:
    """Return the pause token the guard, heartbeat and balance watcher send, if configured."""
    return read_token(env, "pause")


def _read_token_file(path: Path, var: str) -> str:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as err:
        raise TokenError(
            f"{var}={path}: cannot read the token file ({err.__class__.__name__}); point it at "
            "a readable file holding the token"
        ) from err
    if not value:
        raise TokenError(f"{var}={path}: the token file is empty; write the token in it")
    return value
