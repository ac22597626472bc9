"""Azuro subgraph probe: indexing errors and indexing lag from graph-node's `_meta`.

Lag is `now - _meta.block.timestamp` (fails above `heartbeat.subgraph_lag_max_s`). Older
graph-node builds have no `timestamp` on `_Block_` and reject the query; the probe then asks
again without it, and also when the timestamp comes back null, it compares `_meta.block.number`
with the Polygon head read in the same probe (fails above `heartbeat.subgraph_lag_max_blocks`).
`hasIndexingErrors: true` always fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from arbqos.chain.bounded import DEFAULT_MAX_BYTES
from arbqos.chain.rpc import JsonRpcClient, RpcFailure
from arbqos.clock import Clock
from arbqos.probes.base import ProbeResult
from arbqos.probes.targets.http import request_bounded

META_QUERY = "{ _meta { block { number timestamp } hasIndexingErrors deployment } }"
META_QUERY_NO_TIMESTAMP = "{ _meta { block { number } hasIndexingErrors deployment } }"


@dataclass(frozen=True)
class SubgraphTarget:
    """A graph-node subgraph endpoint, and the Polygon RPC its block lag is measured against."""

    name: str
    url: str
    lag_max_s: float
    lag_max_blocks: int
    polygon: JsonRpcClient | None = None
    timeout_s: float = 10.0
    max_bytes: int = DEFAULT_MAX_BYTES
    kind: str = "azuro_subgraph"

    @property
    def chain(self) -> None:
        """A subgraph is not a chain."""
        return None


class _Answer:
    """The `_meta` of one subgraph answer, or why there is none."""

    def __init__(self, meta: dict[str, Any] | None, error: str, http_status: int | None) -> None:
        self.meta = meta
        self.error = error
        self.http_status = http_status


async def _query(target: SubgraphTarget, http: httpx.AsyncClient, query: str) -> _Answer:
    response = await request_bounded(
        http,
        "POST",
        target.url,
        max_bytes=target.max_bytes,
        timeout_s=target.timeout_s,
        json_body={"query": query},
    )
    if isinstance(response, str):
        return _Answer(None, response, None)
    status = response.status_code
    try:
        payload = response.json()
    except ValueError:
        return _Answer(None, f"HTTP {status}, answer is not JSON", status)
    if not isinstance(payload, dict):
        return _Answer(None, f"HTTP {status}, answer is not a JSON object", status)
    data = payload.get("data")
    meta = data.get("_meta") if isinstance(data, dict) else None
    if isinstance(meta, dict):
        return _Answer(meta, "", status)
    errors = payload.get("errors")
    if isinstance(errors, list) and errors:
        first = errors[0]
        message = first.get("message", first) if isinstance(first, dict) else first
        return _Answer(None, f"GraphQL error: {str(message)[:160]}", status)
    return _Answer(None, f"HTTP {status}, no data._meta in the answer", status)


async def probe_azuro_subgraph(
    target: SubgraphTarget, *, http: httpx.AsyncClient, clock: Clock
) -> ProbeResult:
    """Query `_meta`; fail on indexing errors or lag above the configured limits."""
    observed = clock.now_utc()
    answer = await _query(target, http, META_QUERY)
    if answer.meta is None and "timestamp" in answer.error:
        answer = await _query(target, http, META_QUERY_NO_TIMESTAMP)
    data: dict[str, Any] = {"http_status": answer.http_status}
    if answer.meta is None:
        return ProbeResult(False, answer.error, observed, data=data)
    block = answer.meta.get("block")
    number = block.get("number") if isinstance(block, dict) else None
    timestamp = block.get("timestamp") if isinstance(block, dict) else None
    if not isinstance(number, int) or isinstance(number, bool):
        return ProbeResult(
            False, "_meta.block.number missing or not an integer", observed, data=data
        )
    data.update(block=number, deployment=str(answer.meta.get("deployment", ""))[:64])
    if answer.meta.get("hasIndexingErrors") is not False:
        data["has_indexing_errors"] = answer.meta.get("hasIndexingErrors")
        return ProbeResult(
            False, f"subgraph reports indexing errors at block {number}", observed, data=data
        )
    data["has_indexing_errors"] = False
    if isinstance(timestamp, int) and not isinstance(timestamp, bool):
        lag_s = round(clock.now_utc().timestamp() - timestamp, 3)
        data["lag_s"] = lag_s
        ok = lag_s <= target.lag_max_s
        verdict = "ok" if ok else f"too far behind (limit {target.lag_max_s:g}s)"
        return ProbeResult(ok, f"block {number} lag {lag_s:.1f}s {verdict}", observed, data=data)
    return await _judge_block_lag(target, number, data, observed)


async def _judge_block_lag(
    target: SubgraphTarget, number: int, data: dict[str, Any], observed: Any
) -> ProbeResult:
    """Without a block timestamp, compare the indexed block with the Polygon head."""
    if target.polygon is None:
        return ProbeResult(
            False, "_meta has no block timestamp and no Polygon RPC is set", observed, data=data
        )
    try:
        head = await target.polygon.block_number()
    except RpcFailure as failure:
        detail = (
            f"lag unknown: no block timestamp and Polygon head unreadable ({str(failure)[:120]})"
        )
        return ProbeResult(False, detail, observed, data=data)
    lag_blocks = head - number
    data.update(lag_blocks=lag_blocks, polygon_head=head)
    ok = lag_blocks <= target.lag_max_blocks
    verdict = "ok" if ok else f"too far behind (limit {target.lag_max_blocks} blocks)"
    return ProbeResult(
        ok,
        f"block {number} is {lag_blocks} blocks behind Polygon head {head} {verdict}",
        observed,
        data=data,
    )
