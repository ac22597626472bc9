"""One delivery channel at work: its apprise object, bounded queue, counters and retry policy."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import apprise
from apprise.common import NotifyFormat, NotifyType

from arbqos.clock import format_ts
from arbqos.errors import MISSING, ConfigIssue
from arbqos.notify.channels import Channel, NotifyUrlsError, make_asset
from arbqos.notify.notice import Notice
from arbqos.notify.render import Rendered
from arbqos.notify.scrub import SecretScrubber


@dataclass(frozen=True)
class RetryPolicy:
    """How often a failed send is retried: `attempts` in all, waits doubling up to a cap.

    The defaults try for about 3 minutes (2, 4, 8, 16, 32, 60, 60 s between 8 attempts).
    """

    attempts: int = 8
    first_delay_s: float = 2.0
    max_delay_s: float = 60.0

    def delay(self, failed_attempt: int) -> float:
        """Seconds to wait after the `failed_attempt`-th attempt (1-based) failed."""
        return float(min(self.first_delay_s * 2 ** (failed_attempt - 1), self.max_delay_s))


@dataclass(frozen=True)
class ChannelStatus:
    """What one channel has done since start (for status pages and logs)."""

    channel: str
    tags: tuple[str, ...]
    queued: int
    sent: int
    failed: int
    dropped: int
    last_sent_at: datetime | None
    last_error: str
    """Why the last failed attempt failed (secrets masked); empty after a success."""

    def to_json(self) -> dict[str, Any]:
        """The JSON form, timestamps as UTC ISO with `Z`."""
        sent_at = format_ts(self.last_sent_at) if self.last_sent_at else None
        return {**self.__dict__, "tags": list(self.tags), "last_sent_at": sent_at}


class Lane:
    """One channel: its apprise object, its bounded queue and its counters."""

    def __init__(self, channel: Channel, limit: int, queue_size: int) -> None:
        asset = make_asset()
        plugin = apprise.Apprise.instantiate(channel.url, asset=asset)
        if plugin is None:
            where = f"channel {channel.label}" + (f" (line {channel.line})" if channel.line else "")
            raise NotifyUrlsError([ConfigIssue(where, "", MISSING, "apprise cannot use this URL")])
        self.channel = channel
        self.apprise = apprise.Apprise(asset=asset)
        self.apprise.add(plugin)
        self.limit = min(limit, int(plugin.body_maxlen) or limit)
        self.queue: deque[Notice] = deque(maxlen=queue_size)
        self.cond = threading.Condition()
        self.busy = False
        self.unreported_drops = 0
        self.sent = self.failed = self.dropped = 0
        self.last_sent_at: datetime | None = None
        self.last_error = ""
        self.thread: threading.Thread | None = None

    def send(
        self, rendered: Rendered, timeout_s: float, scrubber: SecretScrubber
    ) -> tuple[bool, str]:
        """One attempt through apprise; return (ok, why not) with secrets masked."""
        try:
            result = self.apprise.notify(
                body=rendered.body,
                title=rendered.title,
                notify_type=NotifyType(rendered.notify_type),
                body_format=NotifyFormat.TEXT,
                timeout=timeout_s,
            )
        except Exception as err:  # a plugin error is one failed attempt
            return False, scrubber.scrub(f"{type(err).__name__}: {err}")
        if result:
            return True, ""
        said = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
        reason = "; ".join(dict.fromkeys(said)) or f"apprise reported {result.status.name}"
        return False, scrubber.scrub(reason)

    def status(self) -> ChannelStatus:
        """A snapshot of this channel's counters."""
        with self.cond:
            return ChannelStatus(
                self.channel.label,
                tuple(sorted(self.channel.tags)),
                len(self.queue) + (1 if self.busy else 0),
                self.sent,
                self.failed,
                self.dropped,
                self.last_sent_at,
                self.last_error,
            )
