"""Fixtures of the instrumentation tests: a default config, a tracker on a fake clock, samples."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from arbqos.clock import FakeClock
from arbqos.config.schema import ArbqosConfig, ExecConfig, RiskConfig
from arbqos.instrument import ExecutionTracker
from tests.conftest import SAMPLES


@pytest.fixture
def config() -> ArbqosConfig:
    """Production defaults with a non-boundary accept threshold and stake cap."""
    return ArbqosConfig(
        exec=ExecConfig(p95_accept_time_ms_max=2500, min_orders_in_window=3),
        risk=RiskConfig(stake_pct_cap=0.04),
    )


@pytest.fixture
def tracker(
    registry: CollectorRegistry, config: ArbqosConfig, fake_clock: FakeClock
) -> ExecutionTracker:
    """A tracker on a fresh registry and a fake clock, with a bank of 1,000 USD."""
    return ExecutionTracker(registry, config, clock=fake_clock, bank=1000.0)


@pytest.fixture
def sample() -> Callable[[str], Any]:
    """Load a documented payload from tests/testdata/samples."""

    def load(name: str) -> Any:
        return json.loads((SAMPLES / name).read_text())

    return load
