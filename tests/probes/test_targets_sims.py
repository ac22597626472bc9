"""Venue probes against the project's SX Bet and Azuro simulators (as `arbqos demo` runs them)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from arbqos.clock import SystemClock
from arbqos.config.schema import ArbqosConfig, EndpointsConfig, HeartbeatConfig
from arbqos.probes.base import ProbeResult, ProbeRunner
from arbqos.probes.targets import PROBERS, build_targets
from arbqos_harness.sim.azuro import SUBGRAPH_PATH, AzuroSimulator
from arbqos_harness.sim.server import SimServer, serve
from arbqos_harness.sim.sx import SxSimulator

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def azuro() -> Iterator[tuple[AzuroSimulator, SimServer]]:
    simulator = AzuroSimulator(seed=1)
    server = serve(simulator.app)
    yield simulator, server
    server.stop()


@pytest.fixture
def sx() -> Iterator[SimServer]:
    server = serve(SxSimulator(seed=1).app)
    yield server
    server.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def _probe_all(
    sx_url: str, azuro_url: str, http: httpx.AsyncClient
) -> dict[str, ProbeResult]:
    cfg = ArbqosConfig(
        endpoints=EndpointsConfig(
            sx_api_url=sx_url,
            azuro_api_url=azuro_url,
            azuro_subgraph_url=azuro_url + SUBGRAPH_PATH,
        ),
        heartbeat=HeartbeatConfig(targets=["sx_api", "azuro_api", "azuro_subgraph"]),
    )
    runner = ProbeRunner(None, probers=PROBERS, http=http, clock=SystemClock(), timeout_s=5)
    return {t.name: await runner.run(t) for t in build_targets(cfg, http)}


async def test_probes_accept_the_simulators(
    sx: SimServer, azuro: tuple[AzuroSimulator, SimServer], http
) -> None:
    results = await _probe_all(sx.url, azuro[1].url, http)
    assert {name: r.ok for name, r in results.items()} == {
        "sx_api": True,
        "azuro_api": True,
        "azuro_subgraph": True,
    }, {name: r.detail for name, r in results.items()}
    assert results["azuro_api"].data["http_status"] == 404
    assert results["azuro_subgraph"].data["lag_s"] < 60


async def test_subgraph_faults_of_the_simulator_fail_the_probe(
    sx: SimServer, azuro: tuple[AzuroSimulator, SimServer], http
) -> None:
    simulator, server = azuro
    simulator.core.knobs.update({"subgraph_lag_blocks": 1000})  # about 2000 s behind
    results = await _probe_all(sx.url, server.url, http)
    assert not results["azuro_subgraph"].ok
    assert "too far behind (limit 300s)" in results["azuro_subgraph"].detail
    simulator.core.knobs.update({"subgraph_lag_blocks": 0, "subgraph_indexing_errors": True})
    results = await _probe_all(sx.url, server.url, http)
    assert not results["azuro_subgraph"].ok
    assert "indexing errors" in results["azuro_subgraph"].detail
