"""Bearer tokens of the `pause` and `admin` scopes: read from env or files, compared safely."""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from arbqos.errors import ArbqosError
from arbqos.services.state import Scope

ENV_VARS: dict[str, tuple[str, str]] = {
    "admin": ("ARBQOS_ADMIN_TOKEN", "ARBQOS_ADMIN_TOKEN_FILE"),
    "pause": ("ARBQOS_PAUSE_TOKEN", "ARBQOS_PAUSE_TOKEN_FILE"),
}
MIN_RECOMMENDED_LENGTH = 16
_TOKEN = re.compile(r"^[\x21-\x7e]+$")


class TokenError(ArbqosError, ValueError):
    """A token is set badly (both forms, unreadable file, empty, unusable characters)."""


@dataclass(frozen=True, repr=False)
class Tokens:
    """The configured tokens; `repr()` never shows them.

    >>> Tokens(admin="a" * 32, pause="p" * 32).scope_of("p" * 32)
    'pause'
    """

    admin: str | None
    pause: str | None

    def scope_of(self, presented: str) -> Scope | None:
        """Return the scope a presented token grants, or None; both are always compared."""
        given = presented.encode("utf-8", "replace")
        admin = self.admin is not None and hmac.compare_digest(given, self.admin.encode())
        pause = self.pause is not None and hmac.compare_digest(given, self.pause.encode())
        if admin:
            return "admin"
        if pause:
            return "pause"
        return None

    def short(self) -> list[str]:
        """Scopes whose token is shorter than the recommended length."""
        return [
            scope
            for scope, token in (("admin", self.admin), ("pause", self.pause))
            if token is not None and len(token) < MIN_RECOMMENDED_LENGTH
        ]

    def __repr__(self) -> str:
        shown = {
            s: "set" if t else "unset" for s, t in (("admin", self.admin), ("pause", self.pause))
        }
        return f"Tokens(admin={shown['admin']}, pause={shown['pause']})"


def load_tokens(env: Mapping[str, str]) -> Tokens:
    """Read both tokens from `ARBQOS_<SCOPE>_TOKEN` or `ARBQOS_<SCOPE>_TOKEN_FILE`.

    Raises:
        TokenError: naming the variable (never the value) and the fix.
    """
    found: dict[str, str | None] = {}
    for scope, (var, file_var) in ENV_VARS.items():
        value = env.get(var, "").strip()
        path = env.get(file_var, "").strip()
        if value and path:
            raise TokenError(f"both {var} and {file_var} are set; set only one of them")
        if path:
            value = _read_token_file(Path(path), file_var)
        if value and not _TOKEN.match(value):
            source = file_var if path else var
            raise TokenError(
                f"the {scope} token from {source} contains spaces or non-ASCII characters; "
                "use printable ASCII only (e.g. `openssl rand -hex 32`)"
            )
        found[scope] = value or None
    if found["admin"] is not None and found["admin"] == found["pause"]:
        raise TokenError(
            "the admin and pause tokens are identical; they must differ, or a pause-only "
            "caller could resume trading"
        )
    return Tokens(admin=found["admin"], pause=found["pause"])


def _read_token_file(path: Path, var: str) -> str:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as err:
        raise TokenError(
            f"{var}={path}: cannot read the token file ({err.__class__.__name__})"
        ) from err
    if not value:
        raise TokenError(f"{var}={path}: the token file is empty")
    return value
