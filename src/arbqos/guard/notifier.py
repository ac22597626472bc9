"""PauseNotifier: delivers pause requests to the orchestrator from a background thread."""

from __future__ import annotations

import logging
import queue
import threading
from types import TracebackType

import httpx

from arbqos.config.redact import redact_url

logger = logging.getLogger(__name__)


class PauseNotifier:
    """Queue pause requests without blocking and POST them to `/v1/pause` until acknowledged.

    `request_pause()` only puts an item on a queue, so it is safe on a trading hot path, in sync
    or asyncio code. A daemon thread with its own `httpx.Client` sends
    `{"reason", "source", "detail"}` with the `pause` bearer token and retries with exponential
    backoff (`backoff_initial_s` doubling up to `backoff_max_s`) until the orchestrator answers
    2xx. Requests are delivered in order, one at a time.

    >>> notifier = PauseNotifier("http://127.0.0.1:8700", token=pause_token)
    >>> notifier.request_pause("ArbFillRatioLow", "venue=sx fill_ratio=0.41 < 0.85 over 300s")
    >>> notifier.close()
    """

    def __init__(
        self,
        orchestrator_url: str,
        *,
        token: str | None,
        source: str = "guard",
        timeout_s: float = 2.0,
        backoff_initial_s: float = 0.05,
        backoff_max_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._url = orchestrator_url.rstrip("/") + "/v1/pause"
        self._shown_url = redact_url(self._url)
        self._source = source
        self._backoff = (backoff_initial_s, backoff_max_s)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(timeout=timeout_s, headers=headers, transport=transport)
        self._queue: queue.SimpleQueue[tuple[str, str] | None] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._pending = 0
        self.attempts = 0
        self.acknowledged = 0
        if not token:
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
        body = {"reason": reason, "source": self._source, "detail": detail}
        delay, delay_max = self._backoff
        while not self._stop.is_set():
            self.attempts += 1
            try:
                response = self._client.post(self._url, json=body)
            except httpx.HTTPError as err:
                problem = f"{type(err).__name__}: {err}"
            else:
                if response.is_success:
                    self.acknowledged += 1
                    logger.info(
                        "pause request %s acknowledged by %s: %s",
                        reason,
                        self._shown_url,
                        response.text[:200],
                        extra={"reason": reason, "detail": detail},
                    )
                    return
                problem = f"HTTP {response.status_code}: {response.text[:200]}"
                if response.status_code in (401, 403):
                    problem += (
                        " (check ARBQOS_PAUSE_TOKEN: it must be the orchestrator's pause token)"
                    )
            logger.warning(
                "pause request %s to %s failed (%s); retrying in %.2f s",
                reason,
                self._shown_url,
                problem,
                delay,
                extra={"reason": reason, "retry_in_s": delay},
            )
            self._stop.wait(delay)
            delay = min(delay * 2, delay_max)
