"""PauseNotifier: delivers pause requests to the orchestrator from a background thread."""

from __future__ import annotations

import logging
import queue
import threading
from types import TracebackType

from arbqos.config.redact import redact_url
from arbqos.errors import OrchestratorError
from arbqos.sdk import OrchestratorClient
from arbqos.vocab import PauseSource
from arbqos.wire import clip_detail

logger = logging.getLogger(__name__)


class PauseNotifier:
    """Queue pause requests without blocking and send them through the SDK until acknowledged.

    `request_pause()` only puts an item on a queue, so it is safe on a trading hot path, in sync
    or asyncio code. A daemon thread with its own `OrchestratorClient` calls `pause()` with the
    `pause` token and retries with exponential backoff (`backoff_initial_s` doubling up to
    `backoff_max_s`) until the orchestrator answers 2xx. Requests are delivered in order, one
    at a time.

    >>> notifier = PauseNotifier("http://127.0.0.1:8700", token=pause_token)
    >>> notifier.request_pause("ArbFillRatioLow", "venue=sx fill_ratio=0.41 < 0.85 over 300s")
    >>> notifier.close()
    """

    def __init__(
        self,
        orchestrator_url: str,
        *,
        token: str | None,
        source: PauseSource | str = PauseSource.GUARD,
        timeout_s: float = 2.0,
        backoff_initial_s: float = 0.05,
        backoff_max_s: float = 5.0,
        client: OrchestratorClient | None = None,
    ) -> None:
        self._client = client or OrchestratorClient(orchestrator_url, token, timeout_s=timeout_s)
        self._shown_url = redact_url(self._client.base_url)
        self._source = source
        self._backoff = (backoff_initial_s, backoff_max_s)
        self._queue: queue.SimpleQueue[tuple[str, str] | None] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._pending = 0
        self.attempts = 0
        self.acknowledged = 0
        if not self._client.has_token:
            logger.warning(
                "pause requests go without a token; the orchestrator will refuse them: set "
                "ARBQOS_PAUSE_TOKEN (or ARBQOS_PAUSE_TOKEN_FILE)"
            )
        self._thread = threading.Thread(target=self._run, name="arbqos-pause-notifier", daemon=True)
        self._thread.start()

    def request_pause(self, reason: str, detail: str) -> None:
        """Queue one pause request and return at once."""
        with self._idle:
            self._pending += 1
        self._queue.put((reason, detail))

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until every queued request was acknowledged; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout_s)

    def close(self, drain_timeout_s: float = 2.0) -> None:
        """Give queued requests `drain_timeout_s` to be delivered, then stop the thread."""
        if self._thread.is_alive():
            self.wait_idle(drain_timeout_s)
            self._stop.set()
            self._queue.put(None)
            self._thread.join(timeout=5.0)
        self._client.close()

    def __enter__(self) -> PauseNotifier:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            reason, detail = item
            try:
                self._deliver(reason, detail)
            except Exception:  # the thread must survive anything a request can raise
                logger.exception("pause request %s could not be handled", reason)
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def _deliver(self, reason: str, detail: str) -> None:
        detail = str(clip_detail(detail))  # a long detail must not cost the pause
        delay, delay_max = self._backoff
        while not self._stop.is_set():
            self.attempts += 1
            try:
                changed = self._client.pause(reason, detail, source=self._source)
            except OrchestratorError as err:
                logger.warning(
                    "pause request %s failed (%s); retrying in %.2f s",
                    reason,
                    err,
                    delay,
                    extra={"reason": reason, "retry_in_s": delay},
                )
            else:
                self.acknowledged += 1
                logger.info(
                    "pause request %s acknowledged by %s (changed=%s)",
                    reason,
                    self._shown_url,
                    changed,
                    extra={"reason": reason, "detail": detail},
                )
                return
            self._stop.wait(delay)
            delay = min(delay * 2, delay_max)
