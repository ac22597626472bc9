"""Remove credentials from config values before they are shown, logged or hashed."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

REDACTED = "REDACTED"
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>]+")
_HEX_TOKEN = re.compile(r"^(0x)?[0-9a-fA-F]{32,}$")
_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9_\-]{16,}$")
_PLAIN_TOKEN = re.compile(r"^[A-Za-z0-9]{20,}$")


def is_keylike(segment: str) -> bool:
    """Tell whether a URL path segment or query item looks like an API key, not a word.

    Key-like: 32+ hex digits; or 16+ of `[A-Za-z0-9_-]` mixing upper case, lower case and
    digits; or 20+ letters and digits with no separator. `azuro-api-polygon-v3` is not.
    """
    if _HEX_TOKEN.match(segment):
        return True
    has_digit = any(c.isdigit() for c in segment)
    mixed_case = any(c.isupper() for c in segment) and any(c.islower() for c in segment)
    if _TOKEN_CHARS.match(segment) and has_digit and mixed_case:
        return True
    return bool(_PLAIN_TOKEN.match(segment)) and has_digit and not segment.isdigit()


def redact_url(url: str) -> str:
    """Drop user info, query values and key-like path segments (`/v2/<api key>`) from a URL.

    >>> redact_url("https://user:pw@rpc.example/v2/Ab3dEfGh1JkLmNoPqRsT?apikey=x")
    'https://REDACTED@rpc.example/v2/REDACTED?apikey=REDACTED'
    """
    if not isinstance(url, str) or "://" not in url:
        return url
    try:
        parts = urlsplit(url)
        netloc = _redacted_netloc(parts)
    except ValueError:
        return REDACTED
    path = "/".join(REDACTED if is_keylike(s) else s for s in parts.path.split("/"))
    return urlunsplit((parts.scheme, netloc, path, _redacted_query(parts.query), ""))


def _redacted_netloc(parts: SplitResult) -> str:
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    if parts.username or parts.password:
        host = f"{REDACTED}@{host}"
    return host


def _redacted_query(query: str) -> str:
    items = []
    for pair in query.split("&"):
        if "=" in pair:
            items.append(f"{pair.split('=', 1)[0]}={REDACTED}")
        elif pair:
            items.append(REDACTED if is_keylike(pair) else pair)
    return "&".join(items)


def redact_text(text: str) -> str:
    """Redact every URL found inside free text (error messages, log lines)."""
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)


def redact(data: Any) -> Any:
    """Return `data` with every URL redacted (config dumps are otherwise free of secrets)."""
    if isinstance(data, dict):
        return {key: redact(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [redact(item) for item in data]
    if isinstance(data, str) and "://" in data:
        return redact_text(data)
    return data
