"""EngineQos: arbqos on the engine's side, wired and running (built by `arbqos.engine.connect`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from prometheus_client import CollectorRegistry

from arbqos.config import ArbqosConfig
from arbqos.engine.bank import BankReading
from arbqos.engine.changes import ChangeCallback, ChangeDispatcher
from arbqos.engine.gate import GuardLatch, TradingGate
from arbqos.engine.watch import Watcher
from arbqos.guard import PauseNotifier, QosGuard
from arbqos.instrument import ExecutionTracker, Exporter
from arbqos.sdk import OrchestratorClient

logger = logging.getLogger(__name__)


@dataclass
class Parts:
    """What `connect()` built, in the order it is stopped (reversed)."""

    config: ArbqosConfig
    config_hash: str
    registry: CollectorRegistry
    tracker: ExecutionTracker
    gate: TradingGate
    dispatcher: ChangeDispatcher
    watcher: Watcher
    orchestrator: OrchestratorClient
    guard: QosGuard | None = None
    notifier: PauseNotifier | None = None
    latch: GuardLatch | None = None
    exporter: Exporter | None = None


class EngineQos:
    """The tracker, the guard, the orchestrator client and the exporter, started together.

    `trading_allowed()` is the one question to ask before every leg: it is False from the
    moment the in-process guard decides to pause (in the very call that recorded the breaching
    leg), for any pause the orchestrator reports (seen within one status poll,
    `orchestrator.client_cache_s`), and whenever the orchestrator cannot be read (fail
    closed). It never does I/O, so it is cheap on any hot path, sync or asyncio.

    >>> qos = connect(Path("config"), env=os.environ)
    >>> qos.on_pause(cancel_resting_orders)
    >>> if qos.trading_allowed():
    ...     leg = qos.tracker.submit("sx", "live", 50.0, quoted_prob=0.52)
    """

    def __init__(self, parts: Parts) -> None:
        self._parts = parts
        self.config = parts.config
        self.config_hash = parts.config_hash
        self.registry = parts.registry
        """The Prometheus registry the exporter serves."""
        self.tracker = parts.tracker
        """Record every leg, settlement and venue call here (`ExecutionTracker`)."""
        self.guard = parts.guard
        """The in-process QoS guard (None with `exec.guard_enabled: false`)."""
        self.orchestrator = parts.orchestrator
        """A client of the orchestrator with the pause token: `status()`, `pause()`, ..."""
        self.exporter = parts.exporter
        """The `/metrics` server on `alerting.engine_target` (None when not served)."""
        self._gate = parts.gate
        self._closed = False

    def trading_allowed(self) -> bool:
        """May the engine send a leg now (no I/O: the guard's latch, the last status answer)."""
        return self._gate.allowed()

    def why_not(self) -> str | None:
        """Why trading is not allowed now, in words (None when it is)."""
        return self._gate.why_not()

    def on_pause(
        self, callback: ChangeCallback, *, loop: asyncio.AbstractEventLoop | None = None
    ) -> Callable[[], None]:
        """Call `callback(change)` once each time trading goes from allowed to not allowed.

        From the guard at once, from the orchestrator (any source) within one status poll,
        when the orchestrator stops answering within `orchestrator.client_timeout_s`. A
        plain function runs on arbqos's callback thread; an `async def` runs on the event
        loop running where `on_pause` is called (or `loop`). Registration does not replay
        the current state: check `trading_allowed()`. Returns a function that unsubscribes.
        """
        return self._parts.dispatcher.subscribe(callback, allowed=False, loop=loop)

    def on_resume(
        self, callback: ChangeCallback, *, loop: asyncio.AbstractEventLoop | None = None
    ) -> Callable[[], None]:
        """Call `callback(change)` once each time trading becomes allowed again (as `on_pause`)."""
        return self._parts.dispatcher.subscribe(callback, allowed=True, loop=loop)

    @property
    def bank(self) -> float | None:
        """The bank (USD) stakes are checked against; None while unknown (stakes unchecked)."""
        return self.tracker.bank

    @property
    def bank_reading(self) -> BankReading:
        """The bank from the registry, with the wallets that keep it unknown (if any)."""
        keeper = self._parts.watcher.bank
        if keeper is None:
            return BankReading(self.tracker.bank)
        return keeper.reading

    def refresh_bank(self, timeout_s: float = 5.0) -> BankReading:
        """Read the registry's balances now instead of at the next refresh."""
        return self._parts.watcher.refresh_bank(timeout_s)

    @property
    def guard_requests(self) -> tuple[int, int]:
        """(pause requests the guard made, those the orchestrator acknowledged)."""
        latch = self._parts.latch
        return (latch.sent, latch.acknowledged) if latch is not None else (0, 0)

    def wait_callbacks(self, timeout_s: float = 5.0) -> bool:
        """Wait until every change so far was handed to its callbacks; False on timeout."""
        return self._parts.dispatcher.wait_idle(timeout_s)

    def close(self) -> None:
        """Stop trading, the watcher, the notifier (2 s to deliver), the exporter; idempotent."""
        if self._closed:
            return
        self._closed = True
        parts = self._parts
        parts.gate.close()
        parts.watcher.close()
        if parts.notifier is not None:
            parts.notifier.close()
        parts.dispatcher.close()
        if parts.exporter is not None:
            parts.exporter.close()
        parts.orchestrator.close()
        logger.info("engine disconnected from arbqos")

    def __enter__(self) -> EngineQos:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
