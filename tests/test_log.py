"""JsonFormatter writes one JSON object per line with ts, level, logger, msg and extras."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from arbqos.log import JsonFormatter, configure_logging, json_line


def _record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("arbqos.probes", logging.WARNING, __file__, 1, msg, args, None)
    record.created = 1795701058.1239  # 2026-11-26T13:50:58.123Z
    record.__dict__.update(extra)
    return record


def test_formatter_fields() -> None:
    line = JsonFormatter().format(_record("probe %s failed after %d ms", "polygon", 250))
    assert json.loads(line) == {
        "ts": "2026-11-26T13:50:58.123Z",
        "level": "warning",
        "logger": "arbqos.probes",
        "msg": "probe polygon failed after 250 ms",
    }
    assert "\n" not in line


def test_extras_become_top_level_fields() -> None:
    record = _record("tick", target="polygon", duration_seconds=0.25, ok=False)
    payload = json.loads(JsonFormatter().format(record))
    assert payload["target"] == "polygon"
    assert payload["duration_seconds"] == 0.25
    assert payload["ok"] is False


def test_an_extra_never_overwrites_a_core_field() -> None:
    payload = json.loads(JsonFormatter().format(_record("x", level="custom", ts="no")))
    assert payload["level"] == "warning"
    assert payload["ts"] == "2026-11-26T13:50:58.123Z"
    assert payload["extra_level"] == "custom"
    assert payload["extra_ts"] == "no"


def test_exceptions_and_odd_values_stay_valid_json() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord(
            "arbqos", logging.ERROR, __file__, 1, "failed", None, __import__("sys").exc_info()
        )
    record.__dict__.update({"latency_ms": float("nan"), "when": object()})
    payload = json.loads(JsonFormatter().format(record))
    assert "RuntimeError: boom" in payload["exc"]
    assert payload["latency_ms"] is None
    assert payload["when"].startswith("<object object")


def test_json_line_is_compact_and_strict() -> None:
    assert json_line({"a": 1, "b": [float("inf")]}) == '{"a":1,"b":[null]}'


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_root_logger")
def test_configure_logging_writes_json_lines() -> None:
    stream = io.StringIO()
    configure_logging("debug", stream)
    logging.getLogger("arbqos.test").info("hello %s", "world", extra={"tick": 3})
    logging.getLogger("httpx").info("noisy")
    [line] = stream.getvalue().splitlines()
    payload = json.loads(line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", payload["ts"])
    assert (payload["level"], payload["logger"], payload["msg"], payload["tick"]) == (
        "info",
        "arbqos.test",
        "hello world",
        3,
    )
