"""The notify URLs file: format, safe labels, errors that name file and line but never the URL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from arbqos.errors import ExitCode
from arbqos.notify import (
    Channel,
    NotifyUrlsError,
    Routes,
    load_channels,
    parse_channels,
    routing_gaps,
)
from arbqos.vocab import Severity
from tests.notify.conftest import FAKE_PASSWORD, FAKE_TOKEN

TELEGRAM = f"tgram://{FAKE_TOKEN}/987654321"
WEBHOOK = f"json://arbqos:{FAKE_PASSWORD}@127.0.0.1:9/hook"


def test_lines_tags_comments_and_labels() -> None:
    text = (
        "# phone gets critical only\n"
        f"phone={TELEGRAM}\n"
        "\n"
        f"   ops, team = {WEBHOOK}   \n"
        "  # indented comment\n"
        "ntfy://arbqos-alerts\n"
    )
    channels = parse_channels(text, source="notify_urls").channels
    assert [(c.label, sorted(c.tags), c.line) for c in channels] == [
        ("tgram#1", ["phone"], 2),
        ("json#2", ["ops", "team"], 4),
        ("ntfy#3", [], 6),
    ]
    assert channels[1].url == WEBHOOK
    assert FAKE_TOKEN not in repr(channels) and FAKE_PASSWORD not in repr(channels)


def test_a_query_with_equals_signs_is_not_mistaken_for_tags() -> None:
    (channel,) = parse_channels("json://127.0.0.1:9/x?method=POST\n").channels
    assert channel.tags == frozenset() and channel.url.endswith("?method=POST")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            f"just-a-token-{FAKE_TOKEN}",
            "notify_urls:2: expected an apprise URL such as tgram://<bot token>/<chat id>, "
            "optionally after tags and `=` (ops,phone=tgram://...); the line is not shown as "
            "it may hold a secret",
        ),
        (
            f"ops phone!={TELEGRAM}",
            "notify_urls:2: tags before `=` must be 1-64 letters, digits, `_`, `-` or `.`, "
            "separated by commas (ops,phone=...); the line is not shown as it may hold a secret",
        ),
        (
            f" ={TELEGRAM}",
            "notify_urls:2: tags before `=` must be 1-64 letters, digits, `_`, `-` or `.`, "
            "separated by commas (ops,phone=...); the line is not shown as it may hold a secret",
        ),
        (
            f"nosuchservice://{FAKE_TOKEN}@example.org/x",
            "notify_urls:2: unknown apprise schema (not shown, in case it is part of a secret); "
            "the supported URL formats are listed at https://github.com/caronc/apprise/wiki",
        ),
        (
            f"tgram://{FAKE_TOKEN}/98 76",
            "notify_urls:2: the URL contains whitespace; percent-encode it (%20) or remove it",
        ),
        (
            f"{TELEGRAM}",
            "notify_urls:2: repeats the URL of tgram#1; remove one",
        ),
    ],
)
def test_bad_lines_name_file_and_line_never_the_secret(line: str, message: str) -> None:
    with pytest.raises(NotifyUrlsError) as caught:
        parse_channels(f"{TELEGRAM}\n{line}\n", source="notify_urls")
    assert caught.value.exit_code == ExitCode.BAD_INPUT
    assert [issue.render() for issue in caught.value.issues] == [message]
    assert FAKE_TOKEN not in str(caught.value)


def test_apprise_rejection_gives_its_reason_without_the_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    with pytest.raises(NotifyUrlsError) as caught:
        parse_channels(f"slack://{FAKE_TOKEN}/B2\ntgram://not-a-token-{FAKE_PASSWORD}/1\n")
    rendered = [issue.render() for issue in caught.value.issues]
    assert rendered[0].startswith("<notify urls>:1: apprise cannot use this slack:// URL (")
    assert "Token" in rendered[0]
    assert rendered[1].startswith("<notify urls>:2: apprise cannot use this tgram:// URL (")
    for secret in (FAKE_TOKEN, FAKE_PASSWORD):
        assert secret not in str(caught.value)
        assert secret not in caplog.text


def test_every_bad_line_is_reported_at_once() -> None:
    with pytest.raises(NotifyUrlsError) as caught:
        parse_channels("garbage\nmore garbage\njson://127.0.0.1:9/ok\n", source="f")
    assert [i.origin for i in caught.value.issues] == ["f:1", "f:2"]
    assert str(caught.value).startswith("invalid configuration (2 errors):")


def test_missing_unreadable_and_directory_files(tmp_path: Path) -> None:
    with pytest.raises(
        NotifyUrlsError, match=r"nope \(alerting\.notify_urls_file\): file not found"
    ):
        load_channels(tmp_path / "nope")
    with pytest.raises(NotifyUrlsError, match="is a directory"):
        load_channels(tmp_path)
    if os.geteuid() != 0:  # root reads any file
        locked = tmp_path / "locked"
        locked.write_text(TELEGRAM)
        locked.chmod(0)
        with pytest.raises(NotifyUrlsError, match="not readable by this user"):
            load_channels(locked)


def test_world_readable_file_is_loaded_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "notify_urls"
    path.write_text(f"{TELEGRAM}\n")
    path.chmod(0o644)
    loaded = load_channels(path)
    assert [c.label for c in loaded.channels] == ["tgram#1"]
    assert loaded.warnings == (
        f"{path} is readable by every user on this machine and holds channel secrets; "
        f"chmod 600 {path}",
    )
    path.chmod(0o600)
    assert load_channels(path).warnings == ()


def _channel(label: str, *tags: str) -> Channel:
    return Channel(label, label.split("#")[0], frozenset(tags), f"json://127.0.0.1:9/{label}")


def test_routing_by_severity_and_tags() -> None:
    phone, ops, team = _channel("tgram#1", "phone"), _channel("slack#2", "ops"), _channel("json#3")
    channels = [phone, ops, team]
    routes = Routes(critical=("all",), warning=("ops", "phone"), info=("ops",))
    assert routes.targets(channels, Severity.CRITICAL) == [phone, ops, team]
    assert routes.targets(channels, Severity.WARNING) == [phone, ops]
    assert routes.targets(channels, Severity.INFO) == [ops]
    assert Routes().targets(channels, Severity.WARNING) == []
    assert Routes(critical=("phone",)).targets(channels, Severity.CRITICAL) == [phone]


def test_routing_gaps_say_what_reaches_nobody() -> None:
    assert routing_gaps([], Routes()) == [
        "no notification channel configured: critical alerts and pause/resume notices reach "
        "nobody (set alerting.notify_urls_file or ARBQOS_NOTIFY_URLS_FILE)"
    ]
    channels = [_channel("tgram#1", "phone")]
    assert routing_gaps(channels, Routes(warning=("ops",))) == [
        "warning notices reach no channel: no channel has the tags ops "
        "(alerting.notify_warning_tags); channel tags in the file: phone"
    ]
    assert routing_gaps(channels, Routes(warning=("phone",))) == []
