"""Chain probes: SX Rollup (block progress), Arbitrum (head lag + uptime feed), Polygon (head lag).

Every chain probe first checks `eth_chainId` against the configured id (a wrong id is a
failure with `rpc_up` 0), then reads the latest block and the gas price concurrently.

Sequencer rules (each threshold is a project choice, set in config):

* **sx_rollup** makes no empty blocks (about 0.2 TPS), so head age alone proves nothing and is
  only exported. The sequencer is *down* when the RPC fails, when an answer carries a known
  sequencer error (`sequencer temporarily not available`, `context deadline exceeded`), or when
  the head has not advanced for `heartbeat.sx_stall_probes` consecutive successful probes
  (default 10 x 30 s = 5 min). The first new block after such a stall starts a grace of
  `heartbeat.sx_stall_grace_s` (default 120 s), counted from that block's own timestamp (or
  from the last probe that still saw the stall, when the block claims to be older: an RPC node
  catching up), during which it is *recovering*: `sequencer_up` 0, trading should still wait.
  Otherwise it is *up*.
* **arbitrum** is *down* when the RPC fails, when the head is older than
  `endpoints.chains.arbitrum.head_age_max_s`, or when the Chainlink uptime feed answers 1. The
  feed flips only after an outage ends, so head age and RPC errors are the live signals. Feed
  answer 0 with `now - startedAt <= endpoints.sequencer_grace_s` (default 300 s) is
  *recovering*: reported with `sequencer_up` 0 because trading should still wait. `startedAt`
  is when the feed's status last flipped; `updatedAt` moves with every refresh of the same
  status, so counting the grace from it would call the sequencer recovering after each
  refresh. `startedAt` 0 (an invalid round), any answer other than 0 or 1, or an unreadable
  feed is *unknown*, also with `sequencer_up` 0.
* **polygon** has no sequencer: block production is *up* while the head is younger than
  `endpoints.chains.polygon.head_age_max_s`, else *down*.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from eth_abi.exceptions import DecodingError

from arbqos.chain.abi import LATEST_ROUND_DATA, RoundData, decode_latest_round_data
from arbqos.chain.rpc import JsonRpcClient, RpcFailure
from arbqos.clock import Clock, format_ts
from arbqos.probes.base import ProbeResult
from arbqos.probes.targets.sequencer import BlockProgress, judge_feed, judge_progress
from arbqos.registry.model import ChainHealth, SequencerStatus

SEQUENCER_ERRORS: tuple[str, ...] = (
    "sequencer temporarily not available",
    "context deadline exceeded",
)
"""Substrings of JSON-RPC error messages that mean the rollup's sequencer is unavailable."""


@dataclass(frozen=True)
class ChainTarget:
    """An EVM chain reached over JSON-RPC (failover in URL order); used as is for Polygon."""

    name: str
    chain_id: int
    rpc: JsonRpcClient
    head_age_max_s: float | None = None
    kind: str = "evm_chain"

    @property
    def chain(self) -> str:
        """The chain this target reports on."""
        return self.name


@dataclass(frozen=True)
class SxRollupTarget(ChainTarget):
    """SX Rollup: down on RPC failure, sequencer errors, or no new block for `stall_probes`."""

    stall_probes: int = 10
    grace_s: float = 120.0
    progress: BlockProgress = field(default_factory=BlockProgress, compare=False)
    kind: str = "sx_rollup"


@dataclass(frozen=True)
class ArbitrumTarget(ChainTarget):
    """Arbitrum One: head lag plus the Chainlink L2 sequencer uptime feed."""

    feed_address: str = ""
    grace_s: float = 300.0
    kind: str = "arbitrum"


@dataclass(frozen=True)
class _Head:
    number: int
    timestamp: int
    age_s: float
    gas_price_gwei: float
    endpoint: int | None


class _ProbeFailed(Exception):
    """A chain read failed in a way that ends the probe with this result."""

    def __init__(self, result: ProbeResult) -> None:
        super().__init__(result.detail)
        self.result = result


async def _both(first: Coroutine[Any, Any, Any], second: Coroutine[Any, Any, Any]) -> list[Any]:
    """Await two calls concurrently; on the first failure cancel the other and raise it."""
    tasks = [asyncio.ensure_future(first), asyncio.ensure_future(second)]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()


def _chain_failure(
    target: ChainTarget,
    detail: str,
    observed_at: datetime,
    *,
    rpc_up: bool,
    status: SequencerStatus,
) -> ProbeResult:
    health = ChainHealth(
        chain=target.chain,
        rpc_up=rpc_up,
        sequencer_up=False,
        sequencer_status=status,
        rpc_endpoint=target.rpc.last_endpoint,
        detail=detail,
        observed_at=observed_at,
    )
    return ProbeResult(ok=False, detail=detail, observed_at=observed_at, chain=health)


async def _read_head(target: ChainTarget, clock: Clock) -> _Head:
    """Check the chain id, then read the latest block and gas price; raise `_ProbeFailed`."""
    observed = clock.now_utc()
    try:
        chain_id = await target.rpc.chain_id()
    except RpcFailure as failure:
        raise _ProbeFailed(_rpc_failure(target, failure, observed)) from failure
    if chain_id != target.chain_id:
        detail = (
            f"wrong chain id {chain_id} (expected {target.chain_id}): check "
            f"endpoints.chains.{target.name}.rpc_urls"
        )
        raise _ProbeFailed(_chain_failure(target, detail, observed, rpc_up=False, status="unknown"))
    endpoint = target.rpc.last_endpoint
    try:
        (number, block_ts), gas_wei = await _both(
            target.rpc.latest_block(), target.rpc.gas_price_wei()
        )
    except RpcFailure as failure:
        raise _ProbeFailed(_rpc_failure(target, failure, observed)) from failure
    age = max(clock.now_utc().timestamp() - block_ts, 0.0)
    return _Head(
        number=number,
        timestamp=block_ts,
        age_s=round(age, 3),
        gas_price_gwei=gas_wei / 1e9,
        endpoint=endpoint,
    )


def _rpc_failure(target: ChainTarget, failure: RpcFailure, observed: datetime) -> ProbeResult:
    message = str(failure)
    lowered = message.lower()
    if failure.kind == "rpc_error" and any(err in lowered for err in SEQUENCER_ERRORS):
        detail = f"sequencer error from RPC: {message[:200]}"
    else:
        detail = f"rpc failed: {message[:200]}"
    return _chain_failure(target, detail, observed, rpc_up=False, status="down")


def _health(
    target: ChainTarget,
    head: _Head,
    status: SequencerStatus,
    detail: str,
    observed: datetime,
) -> ChainHealth:
    return ChainHealth(
        chain=target.chain,
        rpc_up=True,
        sequencer_up=status == "up",
        sequencer_status=status,
        head_block=head.number,
        head_age_s=head.age_s,
        gas_price_gwei=round(head.gas_price_gwei, 9),
        rpc_endpoint=head.endpoint,
        detail=detail,
        observed_at=observed,
    )


def _describe(target: ChainTarget, head: _Head) -> str:
    return (
        f"chain {target.chain_id} head {head.number} age {head.age_s:.1f}s "
        f"gas {head.gas_price_gwei:.4g} gwei"
    )


async def probe_chain(target: ChainTarget, *, http: httpx.AsyncClient, clock: Clock) -> ProbeResult:
    """Probe a chain without a sequencer (Polygon): right chain id and a fresh head."""
    observed = clock.now_utc()
    try:
        head = await _read_head(target, clock)
    except _ProbeFailed as failed:
        return failed.result
    detail = _describe(target, head)
    status: SequencerStatus = "up"
    if target.head_age_max_s is not None and head.age_s > target.head_age_max_s:
        status = "down"
        detail = f"stalled: head age {head.age_s:.1f}s > {target.head_age_max_s:g}s; {detail}"
    health = _health(target, head, status, detail, observed)
    return ProbeResult(ok=status == "up", detail=detail, observed_at=observed, chain=health)


async def probe_sx_rollup(
    target: SxRollupTarget, *, http: httpx.AsyncClient, clock: Clock
) -> ProbeResult:
    """Probe SX Rollup: chain id 4162, head, gas; sequencer judged on block progress."""
    observed = clock.now_utc()
    try:
        head = await _read_head(target, clock)
    except _ProbeFailed as failed:
        return failed.result
    now_s = clock.now_utc().timestamp()
    progress = target.progress
    still = progress.observe(
        head.number, block_ts=head.timestamp, now_s=now_s, stall_probes=target.stall_probes
    )
    status, reason = judge_progress(
        still, target.stall_probes, progress.recovered_at, now_s, target.grace_s
    )
    detail = f"{reason}; {_describe(target, head)}"
    health = _health(target, head, status, detail, observed)
    data: dict[str, Any] = {"probes_without_new_block": still}
    if progress.recovered_at is not None:
        data["recovered_at"] = format_ts(datetime.fromtimestamp(progress.recovered_at, UTC))
    return ProbeResult(
        ok=status == "up", detail=detail, observed_at=observed, chain=health, data=data
    )


async def _read_feed(target: ArbitrumTarget) -> RoundData | str:
    """Read the uptime feed; return the round or the reason it could not be read."""
    try:
        raw = await target.rpc.eth_call(target.feed_address, LATEST_ROUND_DATA)
    except RpcFailure as failure:
        return f"uptime feed unreadable: {str(failure)[:160]}"
    try:
        return decode_latest_round_data(raw)
    except (DecodingError, ValueError) as err:
        return f"uptime feed answer undecodable ({len(raw)} bytes): {type(err).__name__}"


async def probe_arbitrum(
    target: ArbitrumTarget, *, http: httpx.AsyncClient, clock: Clock
) -> ProbeResult:
    """Probe Arbitrum One: chain id 42161, head lag, gas, and the sequencer uptime feed."""
    observed = clock.now_utc()
    try:
        head, feed = await _both(_read_head(target, clock), _read_feed(target))
    except _ProbeFailed as failed:
        return failed.result
    described = _describe(target, head)
    data: dict[str, Any] = {}
    if isinstance(feed, RoundData):
        status, reason = judge_feed(feed, clock.now_utc().timestamp(), target.grace_s)
        data = {"feed_answer": feed.answer, "feed_started_at": feed.started_at}
    else:
        status, reason = "unknown", feed
    if target.head_age_max_s is not None and head.age_s > target.head_age_max_s:
        status = "down"
        reason = f"stalled: head age {head.age_s:.1f}s > {target.head_age_max_s:g}s; {reason}"
    detail = f"{reason}; {described}"
    health = _health(target, head, status, detail, observed)
    return ProbeResult(
        ok=status == "up", detail=detail, observed_at=observed, chain=health, data=data
    )
