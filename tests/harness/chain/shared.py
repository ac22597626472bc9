"""One set of local chains for the whole test session, whichever test directory asks first."""

from __future__ import annotations

import pytest

from arbqos_harness.chain.localchain import LocalChains

_SESSION: dict[str, LocalChains] = {}


def session_chains(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> LocalChains:
    """Return the session's LocalChains (sx_rollup, arbitrum, polygon), starting it once.

    Call it from a session-scoped fixture in any conftest or test module:

    >>> @pytest.fixture(scope="session")
    ... def local_chains(request, tmp_path_factory):
    ...     return session_chains(request, tmp_path_factory)

    Tests that stall or stop a node must restore it before they return.
    """
    chains = _SESSION.get("chains")
    if chains is None:
        chains = LocalChains.start(tmp_path_factory.mktemp("chains"))
        _SESSION["chains"] = chains

        def stop() -> None:
            _SESSION.pop("chains", None)
            chains.stop()

        request.addfinalizer(stop)
    return chains
