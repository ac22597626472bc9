"""Notification channels read from the notify URLs secrets file, and severity routing.

File format: one apprise URL per line, optionally after channel tags and `=` (apprise's own
`tag=url` convention); `#` starts a comment line; blank lines are ignored:

    # phone: everything critical; ops room: warnings too
    phone=tgram://123456789:AAE-bot-token/987654321
    ops, team = slack://T0000/B0000/XXXXXXXX/#ops
    json://127.0.0.1:8999/notify

A channel is named in logs and metrics by a safe label, its apprise schema and its position
among the channels (`tgram#1`, `slack#2`, `json#3`), never by its URL.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import apprise
from apprise.manager_plugins import NotificationManager

from arbqos.errors import MISSING, ConfigError, ConfigIssue
from arbqos.notify.scrub import SecretScrubber
from arbqos.vocab import Severity

ALL_CHANNELS = "all"
"""A route tag that selects every channel."""
_TAG = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_SCHEMA = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]{0,31}$")
_URL_IN_TEXT = re.compile(r"\S+://\S*")
_KEY = "alerting.notify_urls_file"
FORMATS_DOC = "https://github.com/caronc/apprise/wiki"


class NotifyUrlsError(ConfigError):
    """The notify URLs file is missing, unreadable or holds a bad line (exit code 2).

    Every issue names the file and line; no issue ever contains the line's text.
    """


@dataclass(frozen=True)
class Channel:
    """One delivery channel: a safe label, its tags, and the apprise URL (never shown)."""

    label: str
    """`<schema>#<n>`, e.g. `tgram#1`: what logs, metrics and status show."""
    schema: str
    tags: frozenset[str]
    url: str = field(repr=False)
    line: int = 0
    """Line of the notify URLs file it came from (0 when built in code)."""

    def matches(self, tags: Iterable[str]) -> bool:
        """True when `tags` (a route) selects this channel: `all` or a shared tag."""
        wanted = set(tags)
        return ALL_CHANNELS in wanted or bool(wanted & self.tags)


@dataclass(frozen=True)
class ChannelSet:
    """The channels of one notify URLs file, plus non-fatal remarks about it."""

    channels: tuple[Channel, ...]
    warnings: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class Routes:
    """Which channel tags each severity goes to (`all`: every channel).

    Critical notices, pause and resume announcements and alert-path notices use `critical`.
    """

    critical: tuple[str, ...] = (ALL_CHANNELS,)
    warning: tuple[str, ...] = ()
    info: tuple[str, ...] = ()

    def tags(self, severity: Severity) -> tuple[str, ...]:
        """The route of `severity`."""
        return {
            Severity.CRITICAL: self.critical,
            Severity.WARNING: self.warning,
            Severity.INFO: self.info,
        }[severity]

    def targets(self, channels: Sequence[Channel], severity: Severity) -> list[Channel]:
        """The channels a notice of `severity` is delivered to, in file order."""
        route = self.tags(severity)
        return [channel for channel in channels if channel.matches(route)]


def routing_gaps(channels: Sequence[Channel], routes: Routes) -> list[str]:
    """Say, per severity, what will not be delivered (for start-up and `config validate`).

    >>> routing_gaps([], Routes())[0].startswith("no notification channel configured")
    True
    """
    if not channels:
        return [
            "no notification channel configured: critical alerts and pause/resume notices "
            f"reach nobody (set {_KEY} or ARBQOS_NOTIFY_URLS_FILE)"
        ]
    gaps = []
    for severity in Severity:
        route = routes.tags(severity)
        if route and not routes.targets(channels, severity):
            known = sorted({tag for channel in channels for tag in channel.tags}) or ["none"]
            gaps.append(
                f"{severity} notices reach no channel: no channel has the tags "
                f"{', '.join(route)} (alerting.notify_{severity}_tags); channel tags in "
                f"the file: {', '.join(known)}"
            )
    return gaps


def load_channels(path: str | os.PathLike[str]) -> ChannelSet:
    """Read and check the notify URLs file; every bad line is reported at once.

    Raises:
        NotifyUrlsError: the file is missing or unreadable, or lines are invalid. The messages
            name the file and line and what to fix, never the URL.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
        mode = os.stat(path).st_mode
    except FileNotFoundError as err:
        raise _error(source, f"file not found; create it (mode 600) or unset {_KEY}") from err
    except IsADirectoryError as err:
        raise _error(source, "is a directory; name the file of apprise URLs") from err
    except PermissionError as err:
        raise _error(
            source, "not readable by this user; chown it to the service user, mode 600"
        ) from err
    except UnicodeDecodeError as err:
        raise _error(source, "not UTF-8 text; write one apprise URL per line") from err
    except OSError as err:
        raise _error(source, f"cannot be read ({err.strerror or type(err).__name__})") from err
    remarks: list[str] = []
    if mode & stat.S_IROTH:
        remarks.append(
            f"{source} is readable by every user on this machine and holds channel secrets; "
            f"chmod 600 {source}"
        )
    parsed = parse_channels(text, source=source)
    return ChannelSet(parsed.channels, tuple(remarks) + parsed.warnings, source)


def parse_channels(text: str, *, source: str = "<notify urls>") -> ChannelSet:
    """Parse the file content; see the module docstring for the format.

    Raises:
        NotifyUrlsError: one issue per bad line (`<source>:<line>: <what to fix>`).
    """
    entries: list[tuple[int, tuple[str, ...], str]] = []
    issues: list[ConfigIssue] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        problem, tags, url = _split_line(line)
        if problem:
            issues.append(ConfigIssue(f"{source}:{number}", "", MISSING, problem))
        else:
            entries.append((number, tags, url))
    channels: list[Channel] = []
    seen: dict[str, Channel] = {}
    with SecretScrubber(url for _, _, url in entries) as scrubber:
        for number, tags, url in entries:
            schema = url.split("://", 1)[0].lower()
            where = f"{source}:{number}"
            label = f"{schema}#{len(channels) + 1}"
            if url in seen:
                issues.append(_issue(where, f"repeats the URL of {seen[url].label}; remove one"))
                continue
            problem = _check_url(url, schema, scrubber)
            if problem:
                issues.append(_issue(where, problem))
                continue
            channel = Channel(label, schema, frozenset(tags), url, number)
            seen[url] = channel
            channels.append(channel)
    if issues:
        raise NotifyUrlsError(issues)
    return ChannelSet(tuple(channels), (), source)


def _split_line(line: str) -> tuple[str, tuple[str, ...], str]:
    """Split `tags=url`; return (problem, tags, url) with problem empty when fine."""
    hint = (
        "expected an apprise URL such as tgram://<bot token>/<chat id>, optionally after "
        "tags and `=` (ops,phone=tgram://...); the line is not shown as it may hold a secret"
    )
    if "://" not in line:
        return hint, (), ""
    prefix = line.split("://", 1)[0]
    tags: tuple[str, ...] = ()
    url = line
    if "=" in prefix:
        head, url = line.split("=", 1)
        url = url.strip()
        tags = tuple(t for t in re.split(r"[\s,]+", head.strip()) if t)
        bad = [t for t in tags if not _TAG.match(t)]
        if bad or not tags:
            return (
                (
                    "tags before `=` must be 1-64 letters, digits, `_`, `-` or `.`, separated by "
                    "commas (ops,phone=...); the line is not shown as it may hold a secret"
                ),
                (),
                "",
            )
    schema = url.split("://", 1)[0]
    if not _SCHEMA.match(schema):
        return hint, (), ""
    if re.search(r"\s", url):
        return "the URL contains whitespace; percent-encode it (%20) or remove it", (), ""
    return "", tags, url


def _check_url(url: str, schema: str, scrubber: SecretScrubber) -> str:
    """Return why apprise cannot use `url` (empty when it can), without the URL itself."""
    if schema not in NotificationManager():  # type: ignore[no-untyped-call]
        return (
            "unknown apprise schema (not shown, in case it is part of a secret); the "
            f"supported URL formats are listed at {FORMATS_DOC}"
        )
    reasons: list[str] = []
    catcher = _Catcher(reasons)
    logger = logging.getLogger("apprise")
    logger.addHandler(catcher)
    try:
        plugin = apprise.Apprise.instantiate(url, asset=make_asset())
    finally:
        logger.removeHandler(catcher)
    if plugin is not None:
        return ""
    cleaned = [_URL_IN_TEXT.sub("<url>", scrubber.scrub(r)) for r in reasons]
    specific = [r for r in cleaned if not r.startswith("Could not load")] or cleaned
    said = "; ".join(dict.fromkeys(r.rstrip(". ") for r in specific))
    return (
        f"apprise cannot use this {schema}:// URL ({said or 'no reason given'}); check it "
        f"against {FORMATS_DOC}"
    )


def make_asset() -> apprise.AppriseAsset:
    """The apprise asset arbqos uses: its name, no persistent storage, masked URLs in logs."""
    return apprise.AppriseAsset(
        app_id="arbqos",
        app_desc="arbqos execution-quality notifications",
        storage_mode="memory",
        secure_logging=True,
    )


class _Catcher(logging.Handler):
    """Collect apprise's warnings while one URL is checked."""

    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.WARNING)
        self._sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self._sink.append(record.getMessage())


def _issue(where: str, message: str) -> ConfigIssue:
    return ConfigIssue(where, "", MISSING, message)


def _error(source: str, message: str) -> NotifyUrlsError:
    return NotifyUrlsError([ConfigIssue(f"{source} ({_KEY})", "", MISSING, message)])
