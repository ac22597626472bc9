"""Fixtures for tests that need real local chains (anvil with the real chain ids)."""

from __future__ import annotations

import pytest

from arbqos_harness.chain.localchain import LocalChains
from tests.harness.chain.shared import session_chains


@pytest.fixture(scope="session")
def local_chains(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> LocalChains:
    """The session's sx_rollup, arbitrum and polygon nodes (restore any node you stall/stop)."""
    return session_chains(request, tmp_path_factory)
