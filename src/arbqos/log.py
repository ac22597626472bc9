"""Process logging: one JSON object per line with `ts`, `level`, `logger`, `msg` and extras."""

from __future__ import annotations

import json
import logging
import math
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from arbqos.clock import format_ts

_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)
_CORE_FIELDS = ("ts", "level", "logger", "msg", "exc", "stack")


def json_line(payload: Any) -> str:
    """Serialise to one compact line of strict JSON: NaN and infinities become null.

    >>> json_line({"ok": True, "latency_ms": float("nan")})
    '{"ok":true,"latency_ms":null}'
    """
    try:
        return json.dumps(payload, separators=(",", ":"), default=str, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(payload), separators=(",", ":"), default=str, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


class JsonFormatter(logging.Formatter):
    """Format log records as JSON lines; `extra={...}` keys become top-level fields.

    Sample line:
    `{"ts":"2026-11-26T13:50:58.123Z","level":"info","logger":"arbqos.x","msg":"tick","tick":3}`.
    An extra that would overwrite a core field is kept as `extra_<name>`.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Render one record."""
        payload: dict[str, Any] = {
            "ts": format_ts(datetime.fromtimestamp(record.created, UTC)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key in _STANDARD_ATTRS or key.startswith("_"):
                continue
            payload[f"extra_{key}" if key in _CORE_FIELDS else key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return json_line(payload)


def configure_logging(level: str = "info", stream: TextIO | None = None) -> None:
    """Send every arbqos log record to `stream` (stderr by default) as JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
