"""The harness's `arbqos` commands (`demo`, `evidence`, `soak`), registered as `arbqos.commands`."""

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


@click.command("soak")
@config_options
@click.option("--duration-s", type=float, required=True, help="How long to run (86400 is a day).")
@click.option(
    "--rate",
    type=float,
    default=None,
    help="Arb opportunities per second (default: the demo's, 2).",
)
@click.option(
    "--heartbeat-interval-s",
    type=float,
    default=None,
    help="Heartbeat interval (default: heartbeat.interval_s of the config, 30 in production).",
)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("soak"))
def soak_cmd(
    config_dir: Path,
    overrides: tuple[str, ...],
    duration_s: float,
    rate: float | None,
    heartbeat_interval_s: float | None,
    out: Path,
) -> None:
    """Run the stack under healthy traffic for a long time; judge memory, latency, heartbeat."""
    require_extra("soak")
    configure_logging()
    loaded = load_or_exit(config_dir, overrides)
    from arbqos_harness.demo.stack import StackOptions
    from arbqos_harness.soak.plan import PlanError, plan_for
    from arbqos_harness.soak.run import run_soak

    try:
        plan = plan_for(
            duration_s,
            StackOptions().engine_rate if rate is None else rate,
            loaded.config.heartbeat.interval_s
            if heartbeat_interval_s is None
            else heartbeat_interval_s,
        )
    except PlanError as err:
        click.echo(f"arbqos soak: {err}", err=True)
        sys.exit(ExitCode.BAD_INPUT)
    sys.exit(run_soak(loaded, plan, out))
