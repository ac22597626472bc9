"""Keep channel secrets out of every log line, including the lines third-party libraries write.

Channel URLs carry bot tokens, webhook keys and passwords. arbqos never logs them, but apprise
logs its request URLs at debug level (`Telegram POST URL: https://api.telegram.org/bot<token>/`)
and urllib3 and httpx log request paths. A `SecretScrubber` is a logging filter, installed on
exactly those loggers, that rewrites each record with every secret fragment replaced by
`<redacted>` before any handler sees it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from types import TracebackType
from urllib.parse import quote, unquote

from arbqos.config.redact import redact_text

MASK = "<redacted>"
LIBRARY_LOGGERS: tuple[str, ...] = (
    "apprise",
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.util.retry",
    "requests",
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
)
"""Loggers that may print a request URL (a logger filter sees only its own records)."""

_DOMAIN = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_PORT = re.compile(r"^\d{1,5}$")
_SECRET_QUERY_KEY = re.compile(r"token|key|secret|pass|auth|sig|hook|cred", re.IGNORECASE)
_MIN_FRAGMENT = 4


def secret_fragments(url: str) -> set[str]:
    """Return the parts of an apprise URL that may be secret, in raw and %-encoded forms.

    The user, password, non-host parts of the authority (a Telegram bot token sits where a
    host would), path segments of 4+ characters, and query values that are long or named like
    a credential. Domain names, IP addresses and port numbers are not secret.

    >>> sorted(secret_fragments("tgram://123456:FAKE-TOKEN-abcdef/987654321"))[:3]
    ['123456', '987654321', 'FAKE-TOKEN-abcdef']
    """
    found: set[str] = {url.strip()}
    rest = url.split("://", 1)[1] if "://" in url else url
    rest, _, fragment = rest.partition("#")
    rest, _, query = rest.partition("?")
    authority, _, path = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if at:
        found.update(p for p in userinfo.split(":") if len(p) >= 3)
    for part in host.split(":"):
        if not (_DOMAIN.match(part) or _IPV4.match(part) or _PORT.match(part) or part == ""):
            found.add(part)
    found.update(s for s in re.split(r"[/,;]+", path) if len(s) >= _MIN_FRAGMENT)
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if value and (len(value) >= 8 or _SECRET_QUERY_KEY.search(key)):
            found.add(value)
    if len(fragment) >= _MIN_FRAGMENT:
        found.add(fragment)
    variants = {v for f in found for v in (f, unquote(f), quote(f, safe=""), quote(f))}
    return {v for v in variants if len(v) >= 3}


class SecretScrubber(logging.Filter):
    """A logging filter that masks known secrets; install it while channels are in use.

    >>> scrubber = SecretScrubber(["json://user:hunter22@127.0.0.1/x"])
    >>> scrubber.scrub("login as user:hunter22 failed")
    'login as <redacted>:<redacted> failed'
    """

    def __init__(self, urls: Iterable[str] = ()) -> None:
        super().__init__()
        self._fragments: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._installed: list[logging.Logger] = []
        self._depth = 0
        self.add(urls)

    def add(self, urls: Iterable[str]) -> None:
        """Also mask the secret fragments of `urls`."""
        for url in urls:
            self._fragments |= secret_fragments(url)
        ordered = sorted(self._fragments, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def scrub(self, text: str) -> str:
        """Return `text` with every known secret masked and any URL credential redacted."""
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return redact_text(text) if "://" in text else text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place (message, arguments, traceback); never drop it."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        if record.exc_info and record.exc_info[0] is not None:
            formatter = logging.Formatter()
            message = f"{message}\n{formatter.formatException(record.exc_info)}"
            record.exc_info = None
            record.exc_text = None
        record.msg = self.scrub(message)
        record.args = None
        return True

    def install(self, names: Iterable[str] = LIBRARY_LOGGERS) -> SecretScrubber:
        """Attach this filter to the loggers `names`; the matching `uninstall()` removes it.

        Installs nest: the filter stays until as many `uninstall()` calls as `install()` calls.
        """
        self._depth += 1
        for name in names:
            target = logging.getLogger(name)
            if self not in target.filters:
                target.addFilter(self)
                self._installed.append(target)
        return self

    def uninstall(self) -> None:
        """Undo one `install()`; the last one detaches the filter from every logger."""
        self._depth = max(self._depth - 1, 0)
        if self._depth:
            return
        for target in self._installed:
            target.removeFilter(self)
        self._installed.clear()

    def __enter__(self) -> SecretScrubber:
        return self.install()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.uninstall()
