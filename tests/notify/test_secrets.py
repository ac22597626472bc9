"""Channel secrets never leave the secrets file: not in logs, metrics, status or errors.

The Telegram channel really delivers (apprise's Telegram plugin, pointed at the loopback sink
instead of api.telegram.org), so apprise really logs its request URL with the bot token at
debug level: the test proves those lines exist and are masked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from apprise.plugins.telegram import NotifyTelegram
from prometheus_client import CollectorRegistry, generate_latest

from arbqos.clock import SystemClock
from arbqos.log import JsonFormatter
from arbqos.notify import (
    Notifier,
    NotifyMetrics,
    NotifyUrlsError,
    Routes,
    SecretScrubber,
    load_channels,
    paused_notice,
)
from arbqos.notify.scrub import secret_fragments
from arbqos_harness.process import free_port
from arbqos_harness.sink import NotificationSink
from tests.notify.conftest import FAKE_PASSWORD, FAKE_TOKEN, FAST_RETRY

SECRETS = (FAKE_TOKEN, "FAKE-TOKEN-abcdef", FAKE_PASSWORD)


@pytest.fixture
def telegram_to_sink(sink: NotificationSink, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Send apprise's Telegram requests to the loopback sink instead of api.telegram.org."""
    monkeypatch.setattr(NotifyTelegram, "notify_url", f"{sink.url}/bot")
    yield


def _every_log_line(caplog: pytest.LogCaptureFixture) -> str:
    formatter = JsonFormatter()
    return "\n".join(formatter.format(record) for record in caplog.records)


@pytest.mark.usefixtures("telegram_to_sink")
def test_no_secret_in_logs_metrics_status_or_errors(
    sink: NotificationSink,
    registry: CollectorRegistry,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    dead = free_port()  # nothing listens: connection refused on every attempt
    urls = tmp_path / "notify_urls"
    urls.write_text(
        f"phone=tgram://{FAKE_TOKEN}/987654321\n"
        f"ops=json://arbqos:{FAKE_PASSWORD}@127.0.0.1:{sink.port}/hook\n"
        f"ops=jsons://arbqos:{FAKE_PASSWORD}@127.0.0.1:{dead}/{FAKE_TOKEN}\n"
    )
    urls.chmod(0o600)
    channels = load_channels(urls).channels
    sink.fail_next(1, status=401)
    notifier = Notifier(
        channels, Routes(), metrics=NotifyMetrics(registry), clock=SystemClock(), retry=FAST_RETRY
    )
    with notifier:
        notifier.submit(
            paused_notice(
                "ArbRpcDown", ["heartbeat ArbRpcDown"], since=SystemClock().now_utc(), resume="x"
            )
        )
        assert notifier.flush(20)
        status = [s.to_json() for s in notifier.status()]

    telegram = [r for r in sink.records if r.path.endswith("/sendMessage")]
    assert telegram and telegram[-1].path == f"/bot{FAKE_TOKEN}/sendMessage"  # really used
    assert telegram[-1].json["chat_id"] == 987654321
    assert [s["channel"] for s in status] == ["tgram#1", "json#2", "jsons#3"]
    assert status[2]["failed"] == 1 and status[2]["last_error"]

    logs = _every_log_line(caplog)
    assert "Telegram POST URL: " in logs  # apprise did log the URL ...
    assert "<redacted>" in logs  # ... masked
    exposition = generate_latest(registry).decode()
    assert 'channel="tgram#1"' in exposition
    for secret in SECRETS:
        assert secret not in logs
        assert secret not in exposition
        assert secret not in str(status)
        assert secret not in repr(channels)


def test_file_errors_never_echo_the_secret(tmp_path: Path) -> None:
    urls = tmp_path / "notify_urls"
    urls.write_text(f"{FAKE_TOKEN}\nphone=tgram://{FAKE_TOKEN}\nops={FAKE_PASSWORD}=x://\n")
    with pytest.raises(NotifyUrlsError) as caught:
        load_channels(urls)
    text = str(caught.value)
    assert f"{urls}:1:" in text and f"{urls}:3:" in text
    for secret in SECRETS:
        assert secret not in text


def test_fragments_cover_the_parts_that_carry_secrets() -> None:
    fragments = secret_fragments(f"tgram://{FAKE_TOKEN}/987654321")
    assert {"123456", "FAKE-TOKEN-abcdef", "987654321"} <= fragments
    hook = secret_fragments(f"json://arbqos:{FAKE_PASSWORD}@hooks.example.org:8443/p?token=abc")
    assert {"arbqos", FAKE_PASSWORD, "abc"} <= hook
    assert "hooks.example.org" not in hook and "8443" not in hook


def test_scrubber_masks_messages_arguments_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    library = logging.getLogger("apprise")
    with SecretScrubber([f"tgram://{FAKE_TOKEN}/1"]):
        library.debug("POST https://api.telegram.org/bot%s/sendMessage", FAKE_TOKEN)
        try:
            raise ValueError(f"bad token {FAKE_TOKEN}")
        except ValueError:
            library.exception("failed")
    library.debug("after uninstall: %s", "plain")
    logs = _every_log_line(caplog)
    assert "bot<redacted>:<redacted>/sendMessage" in logs
    assert "ValueError: bad token <redacted>:<redacted>" in logs
    assert "after uninstall: plain" in logs
    assert FAKE_TOKEN not in logs and "FAKE-TOKEN" not in logs
    assert not any(isinstance(f, SecretScrubber) for f in library.filters)
