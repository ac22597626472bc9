"""The harness's `arbqos` commands (`demo`, `evidence`), registered as `arbqos.commands`."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import click

from arbqos.cli import HARNESS_HINT, config_options, load_or_exit
from arbqos.errors import ExitCode
from arbqos.log import configure_logging

EXTRA_MODULES: tuple[str, ...] = ("matplotlib",)
"""What `pip install 'arbqos[demo]'` adds and the harness needs."""


def require_extra(command: str) -> None:
    """Exit 2 naming the extra to install when a harness dependency is missing."""
    missing = [name for name in EXTRA_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        hint = HARNESS_HINT.format(name=command)
        click.echo(f"{hint} (missing: {', '.join(missing)})", err=True)
        sys.exit(ExitCode.BAD_INPUT)


@click.command("demo")
@config_options
@click.option("--scenario", default=None, help="Inject a fault: slow-accept, fill-collapse, ...")
@click.option("--duration-s", type=float, default=None, help="Stop after this many seconds.")
def demo_cmd(
    config_dir: Path, overrides: tuple[str, ...], scenario: str | None, duration_s: float | None
) -> None:
    """Run the whole stack locally: chains, venue simulators, services, Prometheus, Alertmanager."""
    require_extra("demo")
    configure_logging()
    loaded = load_or_exit(config_dir, overrides)
    from arbqos_harness.demo.session import run_session

    sys.exit(run_session(loaded, config_dir=config_dir, scenario=scenario, duration_s=duration_s))


@click.command("evidence")
@config_options
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("evidence"))
def evidence_cmd(config_dir: Path, overrides: tuple[str, ...], out: Path) -> None:
    """Produce the evidence bundle: rules, alerts, dashboard PNGs, audit, pause latencies."""
    require_extra("evidence")
    configure_logging()
    loaded = load_or_exit(config_dir, overrides)
    from arbqos_harness.demo.evidence import run_evidence

    sys.exit(run_evidence(loaded, config_dir=config_dir, out=out))
