"""The balance watcher: poll both wallets on a fixed cadence, alert below the floor, never pause."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from prometheus_client import CollectorRegistry

from arbqos.bank.base import (
    BALANCE_MAX_USD,
    READ_ERROR_KINDS,
    error_kind,
    error_text,
    implausible,
)
from arbqos.clock import Clock
from arbqos.config.schema import RiskConfig
from arbqos.eventlog import EventLog
from arbqos.metrics.registry import counter, gauge
from arbqos.probes.schedule import TickSchedule
from arbqos.registry.model import RuntimeRegistryAPI, WalletBalance

logger = logging.getLogger(__name__)

READ_ERRORS = "arb_balance_read_errors_total"
BALANCE_AGE = "arb_wallet_balance_age_seconds"
BALANCE_LOW = "arb_wallet_balance_low"


class BalanceSink(Protocol):
    """Where each poll's balances go besides the local registry (the orchestrator)."""

    def submit(self, balances: Mapping[str, WalletBalance]) -> None:
        """Hand over the newest balances; must return at once."""
        ...


def next_low_state(
    low: bool, balance_usd: float, *, floor_usd: float, margin_usd: float
) -> tuple[bool, str | None]:
    """Apply the hysteresis: return the new low state and the event (`low`, `recovered`, None).

    A wallet turns low when its balance drops below the floor, and recovers only once it is
    back at or above floor + margin, so a balance hovering at the floor raises one alert.
    """
    if not low and balance_usd < floor_usd:
        return True, "low"
    if low and balance_usd >= floor_usd + margin_usd:
        return False, "recovered"
    return low, None


@dataclass(frozen=True)
class PollOutcome:
    """What one poll saw: its log record, the events it raised, whether every read worked."""

    poll: int
    record: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every wallet was read in this poll."""
        return all(w["ok"] for w in self.record["wallets"].values())


class _Metrics:
    """The watcher's series: contract metrics plus read errors, balance age and low state."""

    def __init__(self, registry: CollectorRegistry, wallets: list[str]) -> None:
        self.low_events = counter(registry, "arb_balance_low_events_total")
        self.last_poll = gauge(registry, "arb_balance_watcher_last_poll_timestamp_seconds")
        self.read_errors = counter(registry, READ_ERRORS)
        self.age = gauge(registry, BALANCE_AGE)
        self.low = gauge(registry, BALANCE_LOW)
        for wallet in wallets:
            self.low_events.labels(wallet)
            self.low.labels(wallet).set(0)
            for kind in READ_ERROR_KINDS:
                self.read_errors.labels(wallet, kind)


class BalanceWatcher:
    """Read every wallet through `RuntimeRegistry.get_bank()` each poll and alert on low ones.

    Poll k starts at `origin + k * interval_s` (monotonic, no drift). A read that fails keeps
    the last good balance with its age; so does a reading above `balance_max_usd`, which is a
    read error (`implausible`), never a balance. A low balance is logged, counted and
    reported, but never pauses trading and never moves funds.

    >>> watcher = BalanceWatcher(runtime, risk=cfg.risk, clock=clock, event_log=log,
    ...                          registry=registry, interval_s=60, read_timeout_s=10)
    >>> await watcher.run(stop)
    """

    def __init__(
        self,
        runtime: RuntimeRegistryAPI,
        *,
        risk: RiskConfig,
        clock: Clock,
        event_log: EventLog,
        registry: CollectorRegistry | None,
        interval_s: float,
        read_timeout_s: float,
        sink: BalanceSink | None = None,
        first_poll: int = 1,
        balance_max_usd: float = BALANCE_MAX_USD,
    ) -> None:
        self._runtime = runtime
        self._wallets = {str(name): w for name, w in risk.wallets.items()}
        self._floor_usd = risk.balance_alert_usd
        self._margin_usd = risk.balance_recover_margin_usd
        self._clock = clock
        self._log = event_log
        self.interval_s = interval_s
        self._read_timeout_s = read_timeout_s
        self._sink = sink
        self.first_poll = first_poll
        self._max_usd = balance_max_usd
        self._low: dict[str, bool] = dict.fromkeys(self._wallets, False)
        self._last_good: dict[str, WalletBalance] = {}
        self._metrics = _Metrics(registry, list(self._wallets)) if registry is not None else None
        self.last_poll: int | None = None

    async def poll(self, number: int) -> PollOutcome:
        """Read every wallet once, update state, metrics and log; never raises but on cancel."""
        balances = await self._read()
        now = self._clock.now_utc()
        wallets: dict[str, Any] = {}
        events: list[dict[str, Any]] = []
        for name in self._wallets:
            balance = balances[name] = self._believable(balances[name])
            ok = balance.balance_usd is not None and balance.error is None
            if ok:
                self._last_good[name] = balance
                event = self._apply_hysteresis(name, balance, number)
                if event is not None:
                    events.append(event)
            else:
                self._count_error(name, balance.error)
            good = self._last_good.get(name)
            age = (now - good.observed_at).total_seconds() if good and good.observed_at else None
            entry: dict[str, Any] = {
                "chain": balance.chain,
                "token": balance.token,
                "balance_usd": good.balance_usd if good else None,
                "balance_units": good.balance_units if good else None,
                "low": self._low[name],
                "ok": ok,
                "age_s": round(age, 3) if age is not None else None,
            }
            if not ok:
                entry["error"] = balance.error
            wallets[name] = entry
            if self._metrics is not None and age is not None:
                self._metrics.age.labels(name).set(age)
        await self._publish(balances)
        record = self._log.write("poll", {"poll": number, "wallets": wallets})
        if self._metrics is not None:
            self._metrics.last_poll.set(self._clock.now_utc().timestamp())
        self.last_poll = number
        return PollOutcome(poll=number, record=record, events=events)

    async def run(self, stop: asyncio.Event, *, origin: float | None = None) -> None:
        """Poll on the drift-free schedule until `stop` is set."""
        start = self._clock.monotonic() if origin is None else origin
        schedule = TickSchedule(origin=start, interval_s=self.interval_s)
        next_index = 0
        while not stop.is_set():
            slot = schedule.slot_at(now=self._clock.monotonic(), next_index=next_index)
            wait = slot.due - self._clock.monotonic()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)
                if stop.is_set():
                    break
            if slot.skipped:
                logger.warning("skipped %d balance polls (process stalled?)", slot.skipped)
            try:
                await self.poll(self.first_poll + slot.index)
            except Exception:  # the loop boundary: one broken poll must not stop the watcher
                logger.exception("balance poll %d failed", self.first_poll + slot.index)
            next_index = slot.index + 1

    async def _read(self) -> dict[str, WalletBalance]:
        """Read the bank under a hard limit; any wallet missing from the answer has failed."""
        error = "error: no answer from the bank source"
        balances: dict[str, WalletBalance] = {}
        try:
            # Sources cut each read at read_timeout_s; this guard covers any other source.
            async with asyncio.timeout(self._read_timeout_s * 1.5 + 0.5):
                balances = await self._runtime.get_bank()
        except TimeoutError:
            error = error_text("timeout", f"bank source gave no answer in {self._read_timeout_s} s")
        except Exception as err:
            logger.exception("bank source failed")
            error = error_text("error", f"{type(err).__name__}: {str(err)[:160]}")
        for name, wallet in self._wallets.items():
            if name not in balances:
                balances[name] = WalletBalance(
                    wallet=name,
                    chain=wallet.chain,
                    token=wallet.token,
                    balance_usd=None,
                    error=error,
                )
        return balances

    def _believable(self, balance: WalletBalance) -> WalletBalance:
        """Turn a balance above `balance_max_usd` into a failed read carrying the last good one.

        `OnchainBank` refuses such readings itself; this covers any other bank source.
        """
        if balance.balance_usd is None or balance.error is not None:
            return balance
        problem = implausible(balance.balance_usd, self._max_usd)
        if problem is None:
            return balance
        good = self._last_good.get(balance.wallet)
        return replace(
            balance,
            balance_usd=good.balance_usd if good else None,
            balance_units=good.balance_units if good else None,
            observed_at=good.observed_at if good else None,
            error=problem,
        )

    def _apply_hysteresis(
        self, name: str, balance: WalletBalance, number: int
    ) -> dict[str, Any] | None:
        assert balance.balance_usd is not None
        low, event = next_low_state(
            self._low[name],
            balance.balance_usd,
            floor_usd=self._floor_usd,
            margin_usd=self._margin_usd,
        )
        self._low[name] = low
        if self._metrics is not None:
            self._metrics.low.labels(name).set(1 if low else 0)
        if event is None:
            return None
        fields = {
            "poll": number,
            "wallet": name,
            "chain": balance.chain,
            "token": balance.token,
            "balance_usd": balance.balance_usd,
            "floor_usd": self._floor_usd,
        }
        if event == "low":
            if self._metrics is not None:
                self._metrics.low_events.labels(name).inc()
            logger.warning(
                "wallet %s balance %.2f USD is below the %.2f USD floor; top it up by hand "
                "(arbqos never moves funds)",
                name,
                balance.balance_usd,
                self._floor_usd,
                extra={"wallet": name, "balance_usd": balance.balance_usd},
            )
        else:
            fields["recover_at_usd"] = self._floor_usd + self._margin_usd
            logger.info(
                "wallet %s balance recovered: %.2f USD",
                name,
                balance.balance_usd,
                extra={"wallet": name, "balance_usd": balance.balance_usd},
            )
        return self._log.write(event, fields)

    def _count_error(self, name: str, error: str | None) -> None:
        kind = error_kind(error)
        if self._metrics is not None:
            self._metrics.read_errors.labels(name, kind).inc()
        logger.warning(
            "balance of wallet %s not read: %s", name, error, extra={"wallet": name, "error": kind}
        )

    async def _publish(self, balances: Mapping[str, WalletBalance]) -> None:
        """Store balances with their low state in the registry and hand them to the sink."""
        flagged = {name: replace(b, low=self._low[name]) for name, b in balances.items()}
        await self._runtime.set_balances(flagged)
        if self._sink is not None:
            self._sink.submit((await self._runtime.snapshot()).balances)
