"""Fixtures shared by every test: a clean environment, fresh metric registry, fake clock, config
writer, free ports, the session's local chains and a server that never answers.

Helpers without fixtures live in tests/support (eventually(), the `arbqos` command, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from arbqos.clock import FakeClock
from arbqos_harness.chain.localchain import LocalChains
from arbqos_harness.process import free_port
from tests.support.env import arbqos_names
from tests.support.servers import HangingServer

pytest_plugins = ["pytester", "tests.support.fastlane"]

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLES = REPO_ROOT / "tests" / "testdata" / "samples"
"""Documented SX Bet, Azuro and Chainlink payloads (provenance in its README.md)."""


@pytest.fixture(scope="session", autouse=True)
def _no_caller_arbqos_env_in_session() -> Iterator[None]:
    """No ARBQOS* variable of the calling shell reaches session or module fixtures either."""
    with pytest.MonkeyPatch.context() as patch:
        for name in arbqos_names():
            patch.delenv(name)
        yield


@pytest.fixture(autouse=True)
def _no_caller_arbqos_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts without ARBQOS* variables; a test that needs one sets it explicitly."""
    for name in arbqos_names():
        monkeypatch.delenv(name)


@pytest.fixture
def registry() -> CollectorRegistry:
    """A fresh Prometheus registry (never the global one)."""
    return CollectorRegistry()


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock that only moves when told to."""
    return FakeClock()


@pytest.fixture
def port() -> int:
    """A free loopback port."""
    return free_port()


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write `{section: {key: value}}` dicts as `<section>.yml` files into a fresh config dir."""

    def write(sections: dict[str, Any] | None = None, **raw: str) -> Path:
        config_dir = tmp_path / "config"
        config_dir.mkdir(exist_ok=True)
        for section, data in (sections or {}).items():
            (config_dir / f"{section}.yml").write_text(yaml.safe_dump(data, sort_keys=False))
        for section, text in raw.items():
            (config_dir / f"{section}.yml").write_text(text)
        return config_dir

    return write


@pytest.fixture(scope="session")
def local_chains(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalChains]:
    """Real sx_rollup, arbitrum and polygon nodes (anvil), started once for the session.

    Only `slow` tests may use it. A test that stalls or stops a node restores it before it ends.
    """
    chains = LocalChains.start(tmp_path_factory.mktemp("chains"))
    yield chains
    chains.stop()


@pytest.fixture
def hanging_server() -> Iterator[HangingServer]:
    """A loopback HTTP server that holds every request unanswered until `release()`."""
    with HangingServer() as server:
        yield server
