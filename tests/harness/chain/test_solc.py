"""solc-js compilation: bundled contracts compile, results are cached, errors are named."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from arbqos_harness.chain import solc
from arbqos_harness.chain.solc import CompileError, compile_bundled, compile_sources

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def test_bundled_contracts_compile_and_second_call_uses_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warm = compile_bundled()  # default cache: compiles at most once per machine
    shutil.copytree(solc.default_cache_dir(), tmp_path / "cache")
    assert {"TestStablecoin", "TestSequencerFeed"} <= set(warm)
    names = {item.get("name") for item in warm["TestStablecoin"].abi}
    assert {"mint", "transfer", "balanceOf", "decimals", "transferFrom"} <= names
    assert "latestRoundData" in {item.get("name") for item in warm["TestSequencerFeed"].abi}

    def no_compiler(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("solcjs must not run on a cache hit")

    monkeypatch.setattr(subprocess, "run", no_compiler)
    cached = compile_bundled(tmp_path / "cache")
    assert cached == warm


def test_compile_errors_name_the_problem(tmp_path: Path) -> None:
    broken = {"Broken.sol": "pragma solidity ^0.8.20;\ncontract Broken { uint x = ; }\n"}
    with pytest.raises(CompileError, match=r"Broken\.sol:2"):
        compile_sources(broken, cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_missing_compiler_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(CompileError, match="make setup-node"):
        compile_sources(
            {"A.sol": "contract A {}"}, cache_dir=tmp_path, solcjs="/nonexistent/solcjs"
        )
