"""Heartbeat targets: one probe function per kind, and the targets built from config."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from arbqos.chain.rpc import JsonRpcClient
from arbqos.config.schema import ArbqosConfig, ChainEndpoint
from arbqos.probes.base import ProbeFn, Target
from arbqos.probes.targets.chains import (
    SEQUENCER_ERRORS,
    ArbitrumTarget,
    ChainTarget,
    SxRollupTarget,
    probe_arbitrum,
    probe_chain,
    probe_sx_rollup,
)
from arbqos.probes.targets.sequencer import BlockProgress, judge_feed, judge_progress
from arbqos.probes.targets.subgraph import META_QUERY, SubgraphTarget, probe_azuro_subgraph
from arbqos.probes.targets.venues import HttpTarget, probe_azuro_api, probe_sx_api
from arbqos.vocab import Chain, ProbeTarget

PROBERS: Mapping[str, ProbeFn] = {
    "evm_chain": probe_chain,
    "sx_rollup": probe_sx_rollup,
    "arbitrum": probe_arbitrum,
    "sx_api": probe_sx_api,
    "azuro_api": probe_azuro_api,
    "azuro_subgraph": probe_azuro_subgraph,
}
"""Probe function of each target kind (compare blackbox_exporter's `Probers`)."""


def request_timeout(cfg: ArbqosConfig, calls_in_sequence: int = 1, urls: int = 1) -> float:
    """Per-request timeout that leaves room to fail over within the hard probe timeout.

    A probe makes `calls_in_sequence` rounds of calls, each of which may try `urls` endpoints,
    so each request gets at most 90 % of the probe timeout divided by their product (and never
    more than `endpoints.request_timeout_s`).
    """
    share = 0.9 * cfg.heartbeat.probe_timeout_s / max(calls_in_sequence * urls, 1)
    return min(cfg.endpoints.request_timeout_s, share)


def _rpc(
    cfg: ArbqosConfig, chain: str, endpoint: ChainEndpoint, http: httpx.AsyncClient
) -> JsonRpcClient:
    timeout = request_timeout(cfg, calls_in_sequence=2, urls=len(endpoint.rpc_urls))
    return JsonRpcClient(
        endpoint.rpc_urls,
        chain=chain,
        http=http,
        timeout_s=timeout,
        max_response_bytes=cfg.endpoints.response_max_bytes,
    )


def build_targets(cfg: ArbqosConfig, http: httpx.AsyncClient) -> list[Target]:
    """Build the targets named in `heartbeat.targets`, skipping chains marked `enabled: false`."""
    chains = cfg.endpoints.chains
    wanted = set(cfg.heartbeat.targets)
    targets: list[Target] = []
    for name in Chain:
        endpoint = chains[name]
        if ProbeTarget(name) not in wanted or not endpoint.enabled:
            continue
        common: dict[str, Any] = {
            "name": name,
            "chain_id": endpoint.chain_id,
            "rpc": _rpc(cfg, name, endpoint, http),
            "head_age_max_s": endpoint.head_age_max_s,
        }
        if name is Chain.SX_ROLLUP:
            hb = cfg.heartbeat
            targets.append(
                SxRollupTarget(
                    **common, stall_probes=hb.sx_stall_probes, grace_s=hb.sx_stall_grace_s
                )
            )
        elif name is Chain.ARBITRUM:
            feed = cfg.endpoints.sequencer_uptime_feed
            grace = cfg.endpoints.sequencer_grace_s
            targets.append(ArbitrumTarget(**common, feed_address=feed, grace_s=grace))
        else:
            targets.append(ChainTarget(**common))
    single = request_timeout(cfg)
    cap = cfg.endpoints.response_max_bytes
    if ProbeTarget.SX_API in wanted:
        sx_api = ProbeTarget.SX_API
        targets.append(HttpTarget(sx_api, sx_api, cfg.endpoints.sx_api_url, single, cap))
    if ProbeTarget.AZURO_API in wanted:
        azuro = ProbeTarget.AZURO_API
        targets.append(HttpTarget(azuro, azuro, cfg.endpoints.azuro_api_url, single, cap))
    if ProbeTarget.AZURO_SUBGRAPH in wanted:
        polygon = chains[Chain.POLYGON]
        targets.append(
            SubgraphTarget(
                name=ProbeTarget.AZURO_SUBGRAPH,
                url=cfg.endpoints.azuro_subgraph_url,
                lag_max_s=cfg.heartbeat.subgraph_lag_max_s,
                lag_max_blocks=cfg.heartbeat.subgraph_lag_max_blocks,
                polygon=_rpc(cfg, Chain.POLYGON, polygon, http) if polygon.enabled else None,
                timeout_s=request_timeout(cfg, calls_in_sequence=3),
                max_bytes=cap,
            )
        )
    return targets


__all__ = [
    "META_QUERY",
    "PROBERS",
    "SEQUENCER_ERRORS",
    "ArbitrumTarget",
    "BlockProgress",
    "ChainTarget",
    "HttpTarget",
    "SubgraphTarget",
    "SxRollupTarget",
    "build_targets",
    "judge_feed",
    "judge_progress",
    "probe_arbitrum",
    "probe_azuro_api",
    "probe_azuro_subgraph",
    "probe_chain",
    "probe_sx_api",
    "probe_sx_rollup",
    "request_timeout",
]
