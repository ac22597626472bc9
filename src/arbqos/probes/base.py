"""The probe contract: `ProbeResult`, the `Target` protocol and the runner that times probes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

import httpx
from prometheus_client import CollectorRegistry, Gauge, Histogram

from arbqos.clock import Clock
from arbqos.metrics.definitions import PROBE_DURATION_BUCKETS_S
from arbqos.metrics.registry import gauge, histogram
from arbqos.registry.model import ChainHealth

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProbeResult:
    """What one probe of one target found.

    `latency_seconds` is measured by `ProbeRunner`, not by the probe. `chain` is set by chain
    targets (sx_rollup, arbitrum, polygon); `data` holds target-specific facts for the log line.

    >>> ProbeResult(ok=True, detail="chain 137 head 81234567", observed_at=clock.now_utc())
    """

    ok: bool
    detail: str
    observed_at: datetime
    latency_seconds: float = 0.0
    chain: ChainHealth | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def log_fields(self) -> dict[str, Any]:
        """Return the per-target object of a heartbeat log line."""
        fields: dict[str, Any] = {
            "ok": self.ok,
            "latency_ms": round(self.latency_seconds * 1000, 3),
            "detail": self.detail,
        }
        if self.chain is not None:
            fields.update(
                rpc_up=self.chain.rpc_up,
                sequencer_up=self.chain.sequencer_up,
                sequencer_status=self.chain.sequencer_status,
                head_block=self.chain.head_block,
                head_age_s=self.chain.head_age_s,
                gas_price_gwei=self.chain.gas_price_gwei,
                rpc_endpoint=self.chain.rpc_endpoint,
            )
        fields.update(self.data)
        return fields

    def summary(self) -> dict[str, Any]:
        """Return `{"ok", "latency_ms", "detail"}`: the per-target part of the report."""
        return {
            "ok": self.ok,
            "latency_ms": round(self.latency_seconds * 1000, 3),
            "detail": self.detail,
        }


class Target(Protocol):
    """Something the heartbeat probes: `kind` picks the probe function; `chain` marks RPCs."""

    @property
    def name(self) -> str:
        """Target name used as the `target` label and log key (`sx_rollup`, `sx_api`, ...)."""
        ...

    @property
    def kind(self) -> str:
        """Key of the probe function in the probers mapping."""
        ...

    @property
    def chain(self) -> str | None:
        """Chain name for chain targets, whose failures mark the chain's RPC down."""
        ...


class ProbeFn(Protocol):
    """The one probe contract: look at `target` once, return what was found; never time out alone.

    A probe may raise: the runner turns any exception into a failed result.
    """

    async def __call__(
        self, target: Any, *, http: httpx.AsyncClient, clock: Clock
    ) -> ProbeResult: ...


def tick_margin(timeout_s: float) -> float:
    """Slack after the probe timeout before an attempt that ignores cancellation is abandoned."""
    return min(max(0.2 * timeout_s, 0.01), 1.0)


def failed_result(target: Target, detail: str, observed_at: datetime) -> ProbeResult:
    """Return a failed result; a chain target's RPC and sequencer are then reported down."""
    health = None
    if target.chain is not None:
        health = ChainHealth(
            chain=target.chain,
            rpc_up=False,
            sequencer_up=False,
            sequencer_status="down",
            detail=detail,
            observed_at=observed_at,
        )
    return ProbeResult(ok=False, detail=detail, observed_at=observed_at, chain=health)


class ProbeRunner:
    """Run probes under a hard timeout, time them, export their metrics and log failures.

    Probes hold no Prometheus code; this class owns `arb_probe_success{target}` and
    `arb_probe_duration_seconds{target}`. `clock` must tell the event loop's time (`SystemClock`
    on a normal loop, the virtual clock of `VirtualTimeLoop` in simulations), as the timeout
    itself runs on the loop.

    >>> runner = ProbeRunner(registry, probers=PROBERS, http=client, clock=clock, timeout_s=10)
    >>> result = await runner.run(target)
    """

    def __init__(
        self,
        registry: CollectorRegistry | None,
        *,
        probers: Mapping[str, ProbeFn],
        http: httpx.AsyncClient,
        clock: Clock,
        timeout_s: float,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(
                f"probe timeout {timeout_s} s: it must be a positive number of seconds"
            )
        self._probers = dict(probers)
        self._http = http
        self._clock = clock
        self.timeout_s = timeout_s
        self._last_ok: dict[str, bool] = {}
        self._prepared: set[str] = set()
        self._orphans: set[asyncio.Task[ProbeResult]] = set()
        self._success: Gauge | None = None
        self._duration: Histogram | None = None
        if registry is not None:
            self._success = gauge(registry, "arb_probe_success")
            self._duration = histogram(
                registry, "arb_probe_duration_seconds", PROBE_DURATION_BUCKETS_S
            )

    def prepare(self, targets: list[Target]) -> None:
        """Check every target has a probe function; create new series, drop removed ones."""
        for target in targets:
            if target.kind not in self._probers:
                known = ", ".join(sorted(self._probers))
                raise ValueError(
                    f"target {target.name}: no probe for kind {target.kind!r}; known: {known}"
                )
        names = {t.name for t in targets}
        if self._success is not None and self._duration is not None:
            for gone in self._prepared - names:
                self._success.remove(gone)
                self._duration.remove(gone)
                self._last_ok.pop(gone, None)
            for name in sorted(names - self._prepared):
                self._success.labels(name).set(0)
                self._duration.labels(name)
        self._prepared = names

    async def run(self, target: Target) -> ProbeResult:
        """Probe `target` once; never raises except on cancellation."""
        probe = self._probers[target.kind]
        start = self._clock.monotonic()
        try:
            async with asyncio.timeout(self.timeout_s):
                result = await probe(target, http=self._http, clock=self._clock)
            if not isinstance(result, ProbeResult):
                raise TypeError(f"probe returned {type(result).__name__}, not a ProbeResult")
        except TimeoutError:
            result = failed_result(
                target, f"timeout after {self.timeout_s:g} s", self._clock.now_utc()
            )
        except Exception as err:  # the loop boundary: a probe bug must not stop the heartbeat
            logger.exception(
                "probe %s raised", target.name, extra={"target": target.name, "kind": target.kind}
            )
            detail = f"probe error {type(err).__name__}: {str(err)[:160]}"
            result = failed_result(target, detail, self._clock.now_utc())
        elapsed = max(self._clock.monotonic() - start, 0.0)
        result = replace(result, latency_seconds=elapsed)
        self._export(target.name, result)
        return result

    async def run_attempt(self, target: Target) -> ProbeResult:
        """Probe `target` once; a probe still running `tick_margin` past the timeout is abandoned.

        `run()` cuts a probe at the timeout; one that ignores its cancellation is left to finish
        in the background, and this attempt fails instead of waiting for it.
        """
        task = asyncio.ensure_future(self.run(target))
        margin = tick_margin(self.timeout_s)
        try:
            done, _ = await asyncio.wait({task}, timeout=self.timeout_s + margin / 2)
            if not done:
                # On a starved loop the probe's own timeout may have fired in the same loop
                # pass as this wait; give its cancellation a few passes to become a result.
                await asyncio.wait({task}, timeout=margin / 2)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if task.done() and not task.cancelled():
            return task.result()
        task.cancel()
        self._orphans.add(task)
        task.add_done_callback(self._orphans.discard)
        detail = f"abandoned: still running {self.timeout_s + margin:g} s after it started"
        return failed_result(target, detail, self._clock.now_utc())

    def _export(self, name: str, result: ProbeResult) -> None:
        if self._success is not None and self._duration is not None:
            self._success.labels(name).set(1 if result.ok else 0)
            self._duration.labels(name).observe(result.latency_seconds)
        previous = self._last_ok.get(name)
        self._last_ok[name] = result.ok
        extra = {
            "target": name,
            "detail": result.detail,
            "duration_seconds": round(result.latency_seconds, 6),
        }
        # One attempt decides nothing (the heartbeat confirms and logs confirmed changes as
        # warnings); log raw changes at info and repeats quietly.
        if not result.ok and previous is not False:
            logger.info("probe %s attempt failed: %s", name, result.detail, extra=extra)
        elif result.ok and previous is False:
            logger.info("probe %s attempt ok again", name, extra=extra)
        elif not result.ok:
            logger.debug("probe %s still failing: %s", name, result.detail, extra=extra)
