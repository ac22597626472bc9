"""The production install: a wheel of this repository, no extras, in a fresh virtualenv.

Builds the wheel from the tracked files (`pip wheel --no-deps`), installs it with the pinned
constraints.txt and no extra, then checks that `arbqos config validate` and `arbqos render
--check` pass, that matplotlib is absent, and that `arbqos demo` exits 2 naming the extra.
Run by `make wheel-check` (`python -m tests.support.wheel`) and by tests/core/test_wheel.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.support.env import child_environ

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_EXTRA_HINT = "pip install 'arbqos[demo]'"


class WheelCheckFailed(AssertionError):
    """One step of the wheel check failed; the message names it and shows the output."""


def _run(
    argv: Sequence[str], cwd: Path, timeout_s: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv),
        cwd=cwd,
        env=child_environ({"PIP_DISABLE_PIP_VERSION_CHECK": "1"}),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def _expect(step: str, done: subprocess.CompletedProcess[str], code: int = 0) -> str:
    output = done.stdout + done.stderr
    if done.returncode != code:
        raise WheelCheckFailed(
            f"{step}: exit {done.returncode}, expected {code}\n$ {' '.join(done.args)}\n"
            f"{output[-3000:]}"
        )
    return output


def _copy_tracked(work: Path) -> Path:
    """Copy the files git knows (committed or not, minus ignored ones) into `work/src`."""
    listed = _run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], REPO_ROOT
    )
    _expect("git ls-files", listed)
    tree = work / "src"
    for name in filter(None, listed.stdout.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            target = tree / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return tree


def check_wheel(work: Path, say: Callable[[str], None] = print) -> dict[str, float]:
    """Run every step in `work`; return seconds per step. Raises WheelCheckFailed."""
    timings: dict[str, float] = {}

    def step(key: str, what: str) -> Callable[[], None]:
        started = time.monotonic()
        say(f"wheel-check: {what}")
        return lambda: timings.__setitem__(key, time.monotonic() - started)

    python = sys.executable
    done = step("build", "build the wheel from the tracked files (pip wheel --no-deps)")
    tree = _copy_tracked(work)
    wheels = work / "wheels"
    _expect(
        "pip wheel",
        _run([python, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(tree)], work),
    )
    (wheel,) = wheels.glob("arbqos-*.whl")
    done()

    done = step("install", f"fresh virtualenv, install {wheel.name} with constraints.txt, no extra")
    venv = work / "venv"
    _expect("venv", _run([python, "-m", "venv", str(venv)], work))
    vpy = str(venv / "bin" / "python")
    constraints = str(REPO_ROOT / "constraints.txt")
    _expect(
        "pip install",
        _run([vpy, "-m", "pip", "install", "-q", "-c", constraints, str(wheel)], work),
    )
    done()

    arbqos = str(venv / "bin" / "arbqos")
    config = str(REPO_ROOT / "config")
    done = step("commands", "arbqos config validate, arbqos render --check (repository config)")
    out = _expect(
        "config validate", _run([arbqos, "config", "validate", "--config-dir", config], work)
    )
    if not out.startswith("ok "):
        raise WheelCheckFailed(f"config validate printed {out!r}, expected `ok <hash>`")
    _expect(
        "render --check",
        _run([arbqos, "render", "--check", "--root", str(REPO_ROOT), "--config-dir", config], work),
    )
    done()

    done = step("no-extra", "no matplotlib; `arbqos demo` exits 2 naming the extra")
    probe = _run([vpy, "-c", "import matplotlib"], work)
    if probe.returncode == 0 or "No module named 'matplotlib'" not in probe.stderr:
        raise WheelCheckFailed(f"matplotlib is importable without the extra: {probe.stderr!r}")
    demo = _expect("arbqos demo", _run([arbqos, "demo"], work), code=2)
    if DEMO_EXTRA_HINT not in demo:
        raise WheelCheckFailed(f"`arbqos demo` does not name {DEMO_EXTRA_HINT!r}: {demo!r}")
    done()
    return timings


def main() -> int:
    """`make wheel-check`: run the check in a temporary directory; exit 0 or 1."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="arbqos-wheel-") as tmp:
        try:
            timings = check_wheel(Path(tmp))
        except WheelCheckFailed as err:
            print(f"wheel-check: FAILED: {err}", file=sys.stderr)
            return 1
    steps = ", ".join(f"{key} {seconds:.1f} s" for key, seconds in timings.items())
    print(f"wheel-check: passed in {time.monotonic() - started:.1f} s ({steps})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
