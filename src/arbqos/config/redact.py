"""Remove credentials from config values before they are shown, logged or hashed."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REDACTED = "REDACTED"
_KEYLIKE_SEGMENT = re.compile(r"^(?=.*[A-Za-z])(?=.*\d)[A-Za-z0-9_\-]{16,}$")


def redact_url(url: str) -> str:
    """Drop user info, query values and key-like path segments (`/v2/<api key>`) from a URL."""
    if not isinstance(url, str) or "://" not in url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    if parts.username or parts.password:
        host = f"{REDACTED}@{host}"
    path = "/".join(
        REDACTED if _KEYLIKE_SEGMENT.match(segment) else segment
        for segment in parts.path.split("/")
    )
    query = "&".join(
        f"{pair.split('=', 1)[0]}={REDACTED}" if "=" in pair else pair
        for pair in parts.query.split("&")
        if pair
    )
    return urlunsplit((parts.scheme, host, path, query, ""))


def redact(data: Any) -> Any:
    """Return `data` with every URL redacted (config dumps are otherwise free of secrets)."""
    if isinstance(data, dict):
        return {key: redact(value) for key, value in data.items()}
    if isinstance(data, list):
        return [redact(item) for item in data]
    if isinstance(data, str) and "://" in data:
        return redact_url(data)
    return data
