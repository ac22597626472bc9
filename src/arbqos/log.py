"""Process logging: one JSON object per line with `ts`, `level`, `logger`, `msg` and extras."""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from collections.abc import Callable
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


class RepeatLimiter(logging.Filter):
    """Let at most `burst` records of one kind through per `window_s`; count the rest.

    A kind is (logger, level, message template), so a flood of one warning (a client hammering
    the API with bad requests, a dead endpoint failing every call) cannot fill the disk, while
    distinct messages all pass. The first record let through after a suppression carries
    `suppressed_repeats` with how many were dropped.
    """

    def __init__(
        self,
        burst: int = 20,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_kinds: int = 10_000,
    ) -> None:
        super().__init__()
        self.burst = burst
        self.window_s = window_s
        self._clock = clock
        self._max_kinds = max_kinds
        self._seen: dict[tuple[str, int, str], list[float]] = {}
        """kind -> [window start, count in window, suppressed since last pass]"""

    def filter(self, record: logging.LogRecord) -> bool:
        """True when the record may be emitted."""
        kind = (record.name, record.levelno, str(record.msg))
        now = self._clock()
        entry = self._seen.get(kind)
        if entry is None or now - entry[0] >= self.window_s:
            suppressed = int(entry[2]) if entry is not None else 0
            if entry is None and len(self._seen) >= self._max_kinds:
                self._seen.clear()
            self._seen[kind] = [now, 1.0, 0.0]
            if suppressed:
                record.suppressed_repeats = suppressed
            return True
        if entry[1] < self.burst:
            entry[1] += 1
            return True
        entry[2] += 1
        return False


def configure_logging(level: str = "info", stream: TextIO | None = None) -> None:
    """Send every arbqos log record to `stream` (stderr by default) as JSON lines.

    Repeats of one message are rate-limited (`RepeatLimiter`) so a flood cannot fill the disk.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RepeatLimiter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
