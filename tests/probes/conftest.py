"""Fixtures for heartbeat tests: loopback fakes started per test, a config pointing at them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from arbqos.config.schema import (
    ArbqosConfig,
    ChainEndpoint,
    EndpointsConfig,
    HeartbeatConfig,
    OrchestratorConfig,
)
from tests.probes.fakes import FakeChain, FakeOrchestrator, FakeVenues, FeedState, LoopbackServer


def fitting_retry_s(heartbeat: dict[str, Any]) -> float:
    """The largest retry interval (at most 5 s) that fits the test's short heartbeat interval."""
    retries = max(heartbeat.get("failure_threshold", 3) - 1, 1)
    return min(5.0, (heartbeat["interval_s"] - heartbeat["probe_timeout_s"]) / retries)


class FakeWorld:
    """Three fake chains, the venue APIs and an orchestrator, each on its own loopback server."""

    def __init__(self, start: Callable[[Callable[..., Any]], LoopbackServer]) -> None:
        self.feed = FeedState(started_at=1_700_000_000)
        self.sx = FakeChain(4162, gas_price_wei=10_000_000)
        self.arbitrum = FakeChain(42161, feed=self.feed)
        self.polygon = FakeChain(137, head=81_234_600)
        self.venues = FakeVenues()
        self.orchestrator = FakeOrchestrator()
        self.sx_server = start(self.sx.handle)
        self.arbitrum_server = start(self.arbitrum.handle)
        self.polygon_server = start(self.polygon.handle)
        self.venue_server = start(self.venues.handle)
        self.orchestrator_server = start(self.orchestrator.handle)

    def config(self, log_path: Path, **heartbeat: Any) -> ArbqosConfig:
        """A config whose every endpoint is one of these fakes.

        Timeouts leave a healthy fake ample time on a loaded machine; tests about timeouts
        pass their own.
        """
        hb: dict[str, Any] = {"interval_s": 1.0, "probe_timeout_s": 0.9, "log_path": str(log_path)}
        hb.update(heartbeat)
        hb.setdefault("retry_interval_s", fitting_retry_s(hb))
        venues = self.venue_server.url
        endpoints = EndpointsConfig(
            chains={
                "sx_rollup": ChainEndpoint(chain_id=4162, rpc_urls=[self.sx_server.url]),
                "arbitrum": ChainEndpoint(
                    chain_id=42161, rpc_urls=[self.arbitrum_server.url], head_age_max_s=60
                ),
                "polygon": ChainEndpoint(
                    chain_id=137, rpc_urls=[self.polygon_server.url], head_age_max_s=60
                ),
            },
            sx_api_url=f"{venues}/sx",
            azuro_api_url=f"{venues}/azuro",
            azuro_subgraph_url=f"{venues}/subgraph",
            sequencer_uptime_feed=self.feed.address,
            orchestrator_url=self.orchestrator_server.url,
        )
        return ArbqosConfig(
            endpoints=endpoints,
            heartbeat=HeartbeatConfig(**hb),
            orchestrator=OrchestratorConfig(client_timeout_s=2.0),
        )


@pytest.fixture
def serve() -> Iterator[Callable[..., LoopbackServer]]:
    """Start loopback servers for a test; all are stopped at its end."""
    servers: list[LoopbackServer] = []

    def start(handler: Callable[..., Any], port: int = 0) -> LoopbackServer:
        server = LoopbackServer(handler, port).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def world(serve: Callable[..., LoopbackServer]) -> FakeWorld:
    """Healthy fakes for every heartbeat target."""
    return FakeWorld(serve)
