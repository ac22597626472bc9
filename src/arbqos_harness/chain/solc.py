"""Compile the bundled Solidity test contracts with solc-js, cached by source hash (offline)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arbqos.errors import ArbqosError
from arbqos_harness.process import find_tool

logger = logging.getLogger(__name__)

CONTRACTS_DIR = Path(__file__).resolve().parent / "contracts"
SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 200},
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
}


class CompileError(ArbqosError):
    """solc-js refused the sources or could not run."""


@dataclass(frozen=True)
class Artifact:
    """A compiled contract: its ABI and creation bytecode."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes


def default_cache_dir() -> Path:
    """Return `~/.cache/arbqos/solc`, where compiled artifacts are kept between runs."""
    return Path.home() / ".cache" / "arbqos" / "solc"


def bundled_sources() -> dict[str, str]:
    """Return the `.sol` files shipped in `arbqos_harness/chain/contracts`, keyed by file name."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(CONTRACTS_DIR.glob("*.sol"))}


def compile_bundled(cache_dir: Path | None = None) -> dict[str, Artifact]:
    """Compile (or load from cache) every bundled contract; keyed by contract name."""
    return compile_sources(bundled_sources(), cache_dir=cache_dir or default_cache_dir())


def compile_sources(
    sources: Mapping[str, str],
    *,
    cache_dir: Path,
    solcjs: str | None = None,
    timeout_s: float = 180.0,
) -> dict[str, Artifact]:
    """Compile Solidity `sources` ({file name: text}) with solc-js standard JSON.

    The result is cached in `cache_dir` under the SHA-256 of the sources, the settings and
    the compiler package, so a repeated call with the same inputs never starts the compiler.

    Raises:
        CompileError: naming the compiler messages, or why solc-js could not run.
    """
    tool = solcjs or find_tool("solcjs")
    key = _cache_key(sources, tool)
    cached = cache_dir / f"{key}.json"
    if cached.exists():
        try:
            return _artifacts(json.loads(cached.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError) as err:
            logger.warning("ignoring unreadable compile cache %s: %s", cached, err)
    output = _run_solcjs(tool, sources, timeout_s)
    artifacts = _artifacts(output)
    _write_atomic(cached, json.dumps(output, sort_keys=True))
    logger.info("compiled %d contracts", len(artifacts), extra={"cache_file": str(cached)})
    return artifacts


def _cache_key(sources: Mapping[str, str], tool: str) -> str:
    payload: dict[str, Any] = {
        "sources": dict(sorted(sources.items())),
        "settings": SETTINGS,
        "compiler": _compiler_identity(tool),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _compiler_identity(tool: str) -> str:
    """Return the solc npm package version next to the solcjs script, or its resolved path."""
    script = Path(tool).resolve()
    package = script.parent / "package.json"
    try:
        return f"solc-js {json.loads(package.read_text(encoding='utf-8'))['version']}"
    except (OSError, ValueError, KeyError):
        return str(script)


def _run_solcjs(tool: str, sources: Mapping[str, str], timeout_s: float) -> dict[str, Any]:
    request = {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": SETTINGS,
    }
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, sources go through stdin
            [tool, "--standard-json"],
            input=json.dumps(request).encode(),
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise CompileError(f"solcjs could not run ({err}); run `make setup-node`") from err
    text = done.stdout.decode(errors="replace")
    start = text.find("{")
    try:
        output: dict[str, Any] = json.loads(text[start:]) if start >= 0 else {}
    except ValueError as err:
        raise CompileError(
            f"solcjs exit {done.returncode} printed no JSON: {done.stderr.decode()[-400:]}"
        ) from err
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors or "contracts" not in output:
        shown = "\n".join(str(e.get("formattedMessage", e.get("message"))) for e in errors)
        raise CompileError(f"solc-js rejected the contracts:\n{shown or text[-400:]}")
    return output


def _artifacts(output: Mapping[str, Any]) -> dict[str, Artifact]:
    found: dict[str, Artifact] = {}
    for contracts in output["contracts"].values():
        for name, data in contracts.items():
            code = data["evm"]["bytecode"]["object"]
            found[name] = Artifact(name=name, abi=data["abi"], bytecode=bytes.fromhex(code))
    return found


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
