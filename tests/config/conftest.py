"""Fixtures for the configuration tests: an in-process CLI runner, config test data."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from arbqos.cli import main

TESTDATA = Path(__file__).parent / "testdata"
RISK_YML = """\
bank_source: onchain
wallets:
  sx:
    address: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    chain: sx_rollup
    token: USDC
    token_address: "0x6629Ce1Cf35Cc1329ebB4F63202F3f197b3F050B"
    decimals: 6
  azuro:
    address: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
    chain: polygon
    token: USDT
    token_address: "0xc2132D05D31c914a87C6611C10748AEb04B58e8F"
    decimals: 6
"""

Invoke = Callable[..., Result]


@pytest.fixture
def invoke() -> Invoke:
    """Run `arbqos ARGS...` in-process with exactly the given ARBQOS* variables.

    The caller's own ARBQOS* variables are already gone (tests/conftest.py).
    """

    def run(args: Sequence[str], env: Mapping[str, str] | None = None) -> Result:
        return CliRunner().invoke(main, list(args), env=dict(env or {}), catch_exceptions=False)

    return run


def copy_testdata(name: str, config_dir: Path) -> Path:
    """Copy `testdata/<rule>__<section>.yml` into `config_dir` as `<section>.yml`."""
    config_dir.mkdir(parents=True, exist_ok=True)
    section = name.split("__", 1)[1]
    shutil.copy(TESTDATA / name, config_dir / section)
    return config_dir
