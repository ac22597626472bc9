"""Fixtures for tests that need real local chains (anvil with the real chain ids)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from arbqos.chain.localchain import LocalChains


@pytest.fixture(scope="session")
def local_chains(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalChains]:
    """One set of sx_rollup, arbitrum and polygon nodes shared by the session.

    Tests that stall or stop a node must restore it before they return.
    """
    with LocalChains.start(tmp_path_factory.mktemp("chains")) as chains:
        yield chains
