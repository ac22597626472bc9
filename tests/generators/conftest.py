"""Fixtures for the generator tests: the repo config, a rendered tree, a tool runner."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from arbqos.config import ArbqosConfig, load_config
from arbqos.generators import render_all
from tests.conftest import REPO_ROOT

ToolRunner = Callable[..., subprocess.CompletedProcess[str]]


def run_tool(argv: Sequence[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run promtool/amtool with a hard timeout; output captured as text."""
    return subprocess.run(
        list(argv), cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture(scope="session")
def repo_config() -> ArbqosConfig:
    """The committed configuration, without environment or CLI layers."""
    return load_config(REPO_ROOT / "config", {}, ()).config


def write_tree(files: dict[str, str], root: Path) -> Path:
    """Write rendered files under `root`."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def rendered_root(tmp_path_factory: pytest.TempPathFactory, repo_config: ArbqosConfig) -> Path:
    """The repo config rendered into a fresh tree whose pause token file exists."""
    root = tmp_path_factory.mktemp("rendered")
    token = root / "secrets" / "pause_token"
    token.parent.mkdir()
    token.write_text("pause-token-for-tests\n")
    alerting = repo_config.alerting.model_copy(update={"pause_token_file": str(token)})
    cfg = repo_config.model_copy(update={"alerting": alerting})
    return write_tree(render_all(cfg), root)
