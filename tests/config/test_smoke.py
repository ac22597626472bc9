"""The committed configuration validates and hashes the same way every time."""

from __future__ import annotations

import re

from click.testing import CliRunner

from arbqos.cli import main
from tests.conftest import REPO_ROOT


def test_committed_config_validates_and_hash_matches() -> None:
    runner = CliRunner()
    config_dir = str(REPO_ROOT / "config")
    validate = runner.invoke(main, ["config", "validate", "--config-dir", config_dir])
    assert validate.exit_code == 0, validate.output
    match = re.fullmatch(r"ok ([0-9a-f]{64})\n", validate.stdout)
    assert match
    hashed = runner.invoke(main, ["config", "hash", "--config-dir", config_dir])
    assert hashed.output.strip() == match.group(1)
