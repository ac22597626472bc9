"""Bearer tokens of the `pause` and `admin` scopes: read from env or files, compared safely."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from arbqos.errors import TokenError
from arbqos.services.state import Scope
from arbqos.tokens import read_token

MIN_RECOMMENDED_LENGTH = 16


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
    admin, pause = read_token(env, "admin"), read_token(env, "pause")
    if admin is not None and admin == pause:
        raise TokenError(
            "the admin and pause tokens are identical; they must differ, or a pause-only "
            "caller could resume trading"
        )
    return Tokens(admin=admin, pause=pause)
