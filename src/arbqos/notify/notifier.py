"""Deliver notices in the background: one queue and one thread per channel, with retries.

`Notifier.submit()` only routes, de-duplicates and enqueues, so it returns in microseconds
from asyncio code or any thread. Each channel's thread sends its notices in order through
apprise, retrying a failure with bounded exponential backoff; one slow or dead channel never
delays another. A channel's queue is bounded: when it is full (the channel has been failing
for long) the oldest notice is dropped, counted, and the next message sent says how many.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from types import TracebackType

from arbqos.clock import Clock
from arbqos.notify.channels import Channel, Routes
from arbqos.notify.lane import ChannelStatus, Lane, RetryPolicy
from arbqos.notify.metrics import NotifyMetrics
from arbqos.notify.notice import Notice
from arbqos.notify.render import TELEGRAM_LIMIT, render_notice
from arbqos.notify.scrub import SecretScrubber

logger = logging.getLogger(__name__)


class Notifier:
    """Route notices by severity to channels and deliver them in the background.

    >>> notifier = Notifier(channels, Routes(warning=("ops",)), metrics=metrics, clock=clock)
    >>> notifier.start()
    >>> notifier.submit(notice)        # returns at once: ('tgram#1',)
    >>> notifier.close(timeout_s=5)    # delivers what is queued, for at most 5 s

    Args:
        channels: from `load_channels()`; an empty list makes every submit a no-op.
        routes: which tags each severity goes to.
        metrics: counts every notice per channel as sent, failed or dropped.
        clock: monotonic time for the de-duplication window, UTC for status.
        instance: a name for this installation, shown in every title (`[vps-1] ...`).
        dedup_window_s: a notice with the same `dedup_key()` within this window is sent once.
        queue_size: notices kept per channel; when full the oldest is dropped.
        retry: retries of a failed send.
        max_chars: message limit for every channel (a channel's own smaller limit wins).
        send_timeout_s: upper bound of one send, on top of apprise's socket timeouts.
    """

    def __init__(
        self,
        channels: Sequence[Channel],
        routes: Routes,
        *,
        metrics: NotifyMetrics,
        clock: Clock,
        instance: str = "",
        dedup_window_s: float = 120.0,
        queue_size: int = 50,
        retry: RetryPolicy | None = None,
        max_chars: int = TELEGRAM_LIMIT,
        send_timeout_s: float = 30.0,
    ) -> None:
        self._routes = routes
        self._metrics = metrics
        self._clock = clock
        self._instance = instance
        self._window = dedup_window_s
        self._retry = retry or RetryPolicy()
        self._send_timeout = send_timeout_s
        self._scrubber = SecretScrubber(c.url for c in channels)
        with self._scrubber:  # apprise logs each URL it loads
            self._lanes = [Lane(c, max_chars, queue_size) for c in channels]
        self._channels = [lane.channel for lane in self._lanes]
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._abort = threading.Event()
        self._started = False
        for channel in self._channels:
            metrics.prepare(channel.label)

    @property
    def channels(self) -> tuple[Channel, ...]:
        """The channels, in file order."""
        return tuple(self._channels)

    def start(self) -> Notifier:
        """Start one delivery thread per channel and mask channel secrets in library logs."""
        if self._started:
            return self
        self._started = True
        self._scrubber.install()
        for lane in self._lanes:
            lane.thread = threading.Thread(
                target=self._run, args=(lane,), name=f"notify-{lane.channel.label}", daemon=True
            )
            lane.thread.start()
        return self

    def submit(self, notice: Notice) -> tuple[str, ...]:
        """Queue `notice` for every channel its severity routes to; never blocks, never raises.

        Returns:
            The labels of the channels it was queued for; empty when it is a repeat within the
            de-duplication window, no channel matches its route, or the notifier is closed.
        """
        try:
            return self._submit(notice)
        except Exception:  # a notification must never break the caller's request
            logger.exception("notice not queued", extra={"kind": str(notice.kind)})
            return ()

    def _submit(self, notice: Notice) -> tuple[str, ...]:
        if self._closing.is_set():
            logger.warning("notice after close not sent", extra={"kind": str(notice.kind)})
            return ()
        key = notice.dedup_key()
        now = self._clock.monotonic()
        with self._lock:
            while self._seen and now - next(iter(self._seen.values())) >= self._window:
                self._seen.popitem(last=False)
            if key in self._seen:
                logger.info(
                    "notice repeated within %.0f s: sent once",
                    self._window,
                    extra={"kind": str(notice.kind), "subject": notice.subject},
                )
                return ()
            self._seen[key] = now
        targets = self._routes.targets(self._channels, notice.route_severity)
        labels = {channel.label for channel in targets}
        queued = []
        for lane in self._lanes:
            if lane.channel.label in labels:
                self._enqueue(lane, notice)
                queued.append(lane.channel.label)
        if not queued:
            logger.info(
                "notice matches no channel",
                extra={"kind": str(notice.kind), "severity": str(notice.route_severity)},
            )
        return tuple(queued)

    def _enqueue(self, lane: Lane, notice: Notice) -> None:
        with lane.cond:
            if lane.queue.maxlen is not None and len(lane.queue) == lane.queue.maxlen:
                oldest = lane.queue[0]
                lane.dropped += 1
                lane.unreported_drops += 1
                self._metrics.count(lane.channel.label, "dropped")
                logger.warning(
                    "notification queue of %s full: dropped the oldest notice",
                    lane.channel.label,
                    extra={"channel": lane.channel.label, "dropped_kind": str(oldest.kind)},
                )
            lane.queue.append(notice)
            lane.cond.notify_all()

    def _run(self, lane: Lane) -> None:
        """Deliver `lane`'s notices in order until close."""
        while True:
            with lane.cond:
                while not lane.queue and not self._closing.is_set():
                    lane.cond.wait()
                if not lane.queue or self._abort.is_set():
                    return
                notice = lane.queue.popleft()
                lane.busy = True
                drops = lane.unreported_drops
            try:
                self._deliver(lane, notice, drops)
            except Exception as err:  # the lane must survive anything a plugin does
                logger.error(  # no traceback: it could quote a channel URL
                    "notification delivery to %s crashed: %s",
                    lane.channel.label,
                    self._scrubber.scrub(f"{type(err).__name__}: {err}"),
                    extra={"channel": lane.channel.label},
                )
            finally:
                with lane.cond:
                    lane.busy = False
                    lane.cond.notify_all()

    def _deliver(self, lane: Lane, notice: Notice, drops: int) -> None:
        label = lane.channel.label
        note = (
            f"({drops} earlier notice{'s' if drops != 1 else ''} to this channel dropped "
            "while it was failing)"
            if drops
            else ""
        )
        rendered = render_notice(notice, limit=lane.limit, instance=self._instance, note=note)
        started = time.monotonic()
        for attempt in range(1, self._retry.attempts + 1):
            ok, reason = lane.send(rendered, self._send_timeout, self._scrubber)
            extra = {"channel": label, "kind": str(notice.kind), "attempt": attempt}
            if ok:
                with lane.cond:
                    lane.sent += 1
                    lane.unreported_drops -= min(drops, lane.unreported_drops)
                    lane.last_sent_at = self._clock.now_utc()
                    lane.last_error = ""
                self._metrics.count(label, "sent")
                extra["duration_seconds"] = round(time.monotonic() - started, 3)
                logger.info("notification sent to %s", label, extra=extra)
                return
            with lane.cond:
                lane.last_error = reason
            if attempt == self._retry.attempts or self._abort.is_set():
                break
            delay = self._retry.delay(attempt)
            logger.warning(
                "notification to %s failed (attempt %d of %d), retry in %.1f s: %s",
                label,
                attempt,
                self._retry.attempts,
                delay,
                reason,
                extra=extra,
            )
            if self._abort.wait(delay):
                break
        with lane.cond:
            lane.failed += 1
        self._metrics.count(label, "failed")
        logger.error(
            "notification to %s given up after %d attempt(s): %s",
            label,
            attempt,
            lane.last_error,
            extra={"channel": label, "kind": str(notice.kind), "subject": notice.subject},
        )

    def flush(self, timeout_s: float) -> bool:
        """Wait until every queue is empty and no send is in flight; False on timeout."""
        deadline = time.monotonic() + timeout_s
        for lane in self._lanes:
            with lane.cond:
                while lane.queue or lane.busy:
                    left = deadline - time.monotonic()
                    if left <= 0 or not self._started:
                        return False
                    lane.cond.wait(left)
        return True

    def close(self, timeout_s: float = 5.0) -> None:
        """Deliver what is queued for at most `timeout_s`, then stop; count the rest dropped."""
        self._closing.set()
        for lane in self._lanes:
            with lane.cond:
                lane.cond.notify_all()
        deadline = time.monotonic() + timeout_s
        for lane in self._lanes:
            if lane.thread is not None:
                lane.thread.join(max(deadline - time.monotonic(), 0))
        self._abort.set()
        for lane in self._lanes:
            with lane.cond:
                left, lane.dropped = len(lane.queue), lane.dropped + len(lane.queue)
                lane.queue.clear()
                lane.cond.notify_all()
            if left:
                self._metrics.notifications.labels(
                    channel=lane.channel.label, result="dropped"
                ).inc(left)
                logger.warning(
                    "%d notice(s) to %s not delivered before shutdown",
                    left,
                    lane.channel.label,
                    extra={"channel": lane.channel.label},
                )
        self._scrubber.uninstall()

    def status(self) -> list[ChannelStatus]:
        """Per channel: queued, sent, failed, dropped, last success, last error."""
        return [lane.status() for lane in self._lanes]

    def __enter__(self) -> Notifier:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
