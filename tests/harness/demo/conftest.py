"""The end-to-end demo modules: one whole stack per module."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator

import pytest

from arbqos.config import load_config
from arbqos_harness.demo.runconfig import DemoTuning
from arbqos_harness.demo.stack import DemoStack, StackOptions
from tests.conftest import REPO_ROOT
from tests.harness.demo.scenario_runs import WINDOW_S


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoStack]:
    """The whole stack, started once per module from the committed config."""
    base = load_config(REPO_ROOT / "config", {}, ()).config
    options = StackOptions(
        tuning=DemoTuning(qos_window_s=WINDOW_S),
        runs_dir=tmp_path_factory.mktemp("runs"),
        prefix="e2e",
    )
    running = DemoStack(base, options, out=io.StringIO(), env=os.environ).start()
    yield running
    running.stop()
