"""The systemd units start commands and flags that exist, with tokens from files only."""

from __future__ import annotations

import configparser
import shlex

import pytest
from click.testing import CliRunner

from arbqos.cli import main
from tests.conftest import REPO_ROOT

UNITS = sorted((REPO_ROOT / "deploy" / "systemd").glob("arbqos-*.service"))


def _service(unit_text: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(unit_text)
    return parser["Service"]


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_unit_runs_an_existing_arbqos_command(unit: object) -> None:
    service = _service(unit.read_text())  # type: ignore[attr-defined]
    argv = shlex.split(service["ExecStart"])
    assert argv[0] == "/opt/arbqos/.venv/bin/arbqos"
    flags = [a for a in argv[1:] if a.startswith("--")]
    result = CliRunner().invoke(main, [argv[1], "--help"])
    assert result.exit_code == 0, result.output
    for flag in flags:
        assert flag in result.output, f"{unit}: {flag} is not a flag of `arbqos {argv[1]}`"
    env = service.get("Environment", "")
    assert "TOKEN=" not in env.replace("TOKEN_FILE=", ""), "tokens come from files, never inline"


def test_every_service_has_a_unit() -> None:
    names = {u.name for u in UNITS}
    assert names == {
        "arbqos-orchestrator.service",
        "arbqos-heartbeat.service",
        "arbqos-balance-watcher.service",
    }
