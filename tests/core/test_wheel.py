"""A wheel of the repository installs without extras and runs the operator's commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.wheel import check_wheel

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def test_wheel_without_extras_validates_renders_and_names_the_demo_extra(tmp_path: Path) -> None:
    steps: list[str] = []
    timings = check_wheel(tmp_path, say=steps.append)
    assert list(timings) == ["build", "install", "commands", "no-extra"], steps
