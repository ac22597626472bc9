"""The real orchestrator app, served on a loopback port, for SDK tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sdk.served import Served, serve_orchestrator


@pytest.fixture
def served_app(tmp_path: Path) -> Iterator[Served]:
    """An orchestrator served by uvicorn on a loopback port, in a thread."""
    with serve_orchestrator(tmp_path / "state") as served:
        yield served


@pytest.fixture
def served(served_app: Served) -> str:
    """The URL of a served orchestrator."""
    return served_app.url
