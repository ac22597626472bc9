"""Fixtures shared by every test: fresh metric registry, fake clock, config writer, free ports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from arbqos.clock import FakeClock
from arbqos_harness.process import free_port

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLES = REPO_ROOT / "tests" / "testdata" / "samples"
"""Documented SX Bet, Azuro and Chainlink payloads (provenance in its README.md)."""


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
