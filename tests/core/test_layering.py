"""The product stays apart from the harness: importing it loads no harness module."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # each test starts a fresh interpreter

PRODUCT_MODULES = (
    "arbqos.cli",
    "arbqos.services",
    "arbqos.probes",
    "arbqos.generators",
    "arbqos.engine",
    "arbqos.instrument",
    "arbqos.guard",
    "arbqos.sdk",
    "arbqos.registry",
    "arbqos.bank",
)


def test_product_imports_load_no_harness_and_no_matplotlib() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {PRODUCT_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    loaded = json.loads(out)
    offending = [m for m in loaded if m.split(".")[0] in ("arbqos_harness", "matplotlib")]
    assert offending == []


def test_cli_help_loads_no_service_code() -> None:
    code = (
        "import json, sys\n"
        "from click.testing import CliRunner\n"
        "from arbqos.cli import main\n"
        "CliRunner().invoke(main, ['config', '--help'])\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    loaded = set(json.loads(out))
    assert not loaded & {"fastapi", "uvicorn", "arbqos.services.server", "arbqos_harness"}
