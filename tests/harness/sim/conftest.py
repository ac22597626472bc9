"""Fixtures for the venue simulator tests: simulators on a fake clock, in-process clients."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from arbqos.clock import FakeClock
from arbqos.eventlog import EventLog
from arbqos_harness.sim.azuro import AzuroSimulator
from arbqos_harness.sim.knobs import KnobBox, SimKnobs
from arbqos_harness.sim.sx import SxSimulator
from tests.conftest import SAMPLES


def sample(name: str) -> Any:
    """A documented payload from tests/testdata/samples."""
    return json.loads((SAMPLES / name).read_text())


def shape_diff(got: Any, want: Any, path: str = "$") -> list[str]:
    """Differences in key structure between two JSON values (dict keys, list items, nesting)."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{path}: expected an object, got {type(got).__name__}"]
        problems = []
        if set(got) != set(want):
            missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
            problems.append(f"{path}: missing {missing}, extra {extra}")
        for key in set(got) & set(want):
            if want[key] is not None and got[key] is not None:
                problems += shape_diff(got[key], want[key], f"{path}.{key}")
        return problems
    if isinstance(want, list) and want:
        if not isinstance(got, list) or not got:
            return [f"{path}: expected a non-empty list"]
        return shape_diff(got[0], want[0], f"{path}[0]")
    return []


def read_log(path: Path) -> list[dict[str, Any]]:
    """Every record of a JSON-lines event log."""
    return [json.loads(line) for line in path.read_text().splitlines()]


def quiet_knobs(**changes: Any) -> KnobBox:
    """Knobs without random rejections, partials, voids or jitter, plus `changes`."""
    base = {"reject_prob": 0.0, "partial_prob": 0.0, "void_prob": 0.0, "jitter_s": 0.0}
    return KnobBox(SimKnobs().with_changes({**base, **changes}))


@pytest.fixture
def sx_sim(tmp_path: Path, fake_clock: FakeClock) -> SxSimulator:
    """An SX simulator on the fake clock, logging to tmp_path/sx.log."""
    log = EventLog(tmp_path / "sx.log", fake_clock, config_hash="test")
    return SxSimulator(seed=7, knobs=quiet_knobs(), clock=fake_clock, event_log=log)


@pytest.fixture
def azuro_sim(tmp_path: Path, fake_clock: FakeClock) -> AzuroSimulator:
    """An Azuro simulator on the fake clock, logging to tmp_path/azuro.log."""
    log = EventLog(tmp_path / "azuro.log", fake_clock, config_hash="test")
    return AzuroSimulator(seed=7, knobs=quiet_knobs(), clock=fake_clock, event_log=log)


@pytest.fixture
async def sx(sx_sim: SxSimulator) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of the SX simulator."""
    transport = httpx.ASGITransport(app=sx_sim.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sx") as client:
        yield client


@pytest.fixture
async def azuro(azuro_sim: AzuroSimulator) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of the Azuro simulator."""
    transport = httpx.ASGITransport(app=azuro_sim.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://azuro") as client:
        yield client
