"""The `arbqos` command line: the only module that reads argv and the environment.

Each command imports what it runs inside its own body, so `arbqos config hash` never loads
FastAPI and `arbqos orchestrator` never loads the generators. Commands that live outside the
product (the harness's `demo`, `evidence`, `soak`) are registered under the `arbqos.commands`
entry-point group and loaded only when invoked.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from arbqos.config import LoadedConfig, load_config, redact
from arbqos.errors import ConfigError, ExitCode
from arbqos.vocab import Service

if TYPE_CHECKING:
    from arbqos.daemon import ServiceMain

F = TypeVar("F", bound=Callable[..., Any])

PLUGIN_GROUP = "arbqos.commands"
HARNESS_COMMANDS: tuple[str, ...] = ("demo", "evidence", "soak")
"""Commands of the harness; named here only to say how to install it when it is missing."""
HARNESS_HINT = (
    "`arbqos {name}` is part of the arbqos harness, which needs the demo extra: "
    "pip install 'arbqos[demo]' (or `make setup` in a checkout)"
)


def config_options(func: F) -> F:
    """Add `--config-dir` and `--set` to a command."""
    func = click.option(
        "--set",
        "overrides",
        multiple=True,
        metavar="SECTION.KEY=VALUE",
        help="Override one setting (highest layer); repeatable.",
    )(func)
    func = click.option(
        "--config-dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=Path("config"),
        show_default=True,
        help="Directory holding exec.yml, risk.yml and the other config files.",
    )(func)
    return func


def load_or_exit(config_dir: Path, overrides: tuple[str, ...]) -> LoadedConfig:
    """Load the config or exit 2 with every error."""
    try:
        return load_config(config_dir, os.environ, overrides)
    except ConfigError as err:
        click.echo(str(err), err=True)
        sys.exit(ExitCode.BAD_INPUT)


def _run_service(
    service: Service,
    run: ServiceMain,
    config_dir: Path,
    overrides: tuple[str, ...],
    **flags: Any,
) -> NoReturn:
    """Run a long-running command in the service scaffold (`arbqos.daemon`); exit with its code."""
    from arbqos.daemon import launch

    code = launch(service, run, config_dir=config_dir, overrides=overrides, env=os.environ, **flags)
    sys.exit(code)


@cache
def _plugins() -> dict[str, EntryPoint]:
    """Commands registered by other installed packages, by name."""
    return {ep.name: ep for ep in entry_points(group=PLUGIN_GROUP)}


def _missing(name: str, why: str) -> click.Command:
    """A stand-in for a command whose package is not installed: says how to install it."""

    def explain() -> None:
        click.echo(f"{HARNESS_HINT.format(name=name)} ({why})", err=True)
        sys.exit(ExitCode.BAD_INPUT)

    return click.Command(
        name,
        callback=explain,
        help=f"Not installed: {HARNESS_HINT.format(name=name)}.",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )


class ArbqosGroup(click.Group):
    """The top-level group: built-in commands plus entry-point commands, loaded when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Built-in and registered command names, sorted."""
        return sorted({*super().list_commands(ctx), *_plugins()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Return a built-in command, else load a registered one (or explain its absence)."""
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        entry = _plugins().get(cmd_name)
        if entry is None:
            return _missing(cmd_name, "not installed") if cmd_name in HARNESS_COMMANDS else None
        try:
            loaded = entry.load()
        except ImportError as err:
            return _missing(cmd_name, f"cannot import {err.name or err}")
        if not isinstance(loaded, click.Command):
            raise click.ClickException(f"{entry.value} is not a click command")
        return loaded


@click.group(cls=ArbqosGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="arbqos")
def main() -> None:
    """arbqos: execution quality, alerts and automatic pause for an SX Bet / Azuro arb bot."""


@main.group("config")
def config_group() -> None:
    """Validate, hash and show the configuration."""


@config_group.command("validate")
@config_options
def config_validate(config_dir: Path, overrides: tuple[str, ...]) -> None:
    """Validate every config file; print `ok <hash>` or every error (exit 2).

    Also warns (stderr, exit 0) about alerts and notices that no channel delivers.
    """
    from arbqos.config.delivery import delivery_warnings

    loaded = load_or_exit(config_dir, overrides)
    for warning in delivery_warnings(loaded.config, os.environ):
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"ok {loaded.hash}")


@config_group.command("hash")
@config_options
def config_hash_cmd(config_dir: Path, overrides: tuple[str, ...]) -> None:
    """Print the canonical config hash (64 hex characters)."""
    click.echo(load_or_exit(config_dir, overrides).hash)


@config_group.command("show")
@config_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON: config, sources, hash.")
def config_show(config_dir: Path, overrides: tuple[str, ...], as_json: bool) -> None:
    """Print the effective config, credentials redacted, with the source of every key."""
    from arbqos.config.layers import flatten

    loaded = load_or_exit(config_dir, overrides)
    data = redact(loaded.config.model_dump(mode="json"))
    if as_json:
        payload = {"config_hash": loaded.hash, "sources": dict(loaded.sources), "config": data}
        click.echo(json.dumps(payload, indent=2, sort_keys=True))
        return
    click.echo(f"# config_hash {loaded.hash}  sources {loaded.source_kinds}")
    for path, value in flatten(data, "").items():
        click.echo(f"{path} = {json.dumps(value)}  # {loaded.sources.get(path, 'default')}")


@main.command("render")
@config_options
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when a committed file differs.")
@click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Repository root the files are written under.",
)
def render_cmd(config_dir: Path, overrides: tuple[str, ...], check: bool, root: Path) -> None:
    """Write the rule file, Alertmanager/Prometheus configs, k8s manifests and dashboard."""
    loaded = load_or_exit(config_dir, overrides)
    from arbqos.generators.render import run_render

    sys.exit(run_render(loaded, root=root, check=check))


@main.command("orchestrator")
@config_options
@click.option("--host", default=None, help="Bind address (default from config: 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default from config: 8700).")
@click.option("--state-dir", type=click.Path(path_type=Path), default=None, help="Pause state dir.")
def orchestrator_cmd(
    config_dir: Path,
    overrides: tuple[str, ...],
    host: str | None,
    port: int | None,
    state_dir: Path | None,
) -> None:
    """Run the control service: pause state, control API, webhook, registry host."""
    from arbqos.services.server import run_orchestrator

    _run_service(
        Service.ORCHESTRATOR,
        run_orchestrator,
        config_dir,
        overrides,
        host=host,
        port=port,
        state_dir=state_dir,
    )


@main.command("heartbeat")
@config_options
@click.option("--once", is_flag=True, help="Run one tick and exit (exit 1 when a target failed).")
def heartbeat_cmd(config_dir: Path, overrides: tuple[str, ...], once: bool) -> None:
    """Run the heartbeat prober (every 30 s by default)."""
    from arbqos.probes.heartbeat_main import run_heartbeat

    _run_service(Service.HEARTBEAT, run_heartbeat, config_dir, overrides, once=once)


@main.command("balance-watcher")
@config_options
@click.option("--once", is_flag=True, help="Run one poll and exit.")
def balance_watcher_cmd(config_dir: Path, overrides: tuple[str, ...], once: bool) -> None:
    """Run the wallet balance watcher (read-only, never moves funds)."""
    from arbqos.probes.balance_main import run_balance_watcher

    _run_service(Service.BALANCE_WATCHER, run_balance_watcher, config_dir, overrides, once=once)


@main.command("heartbeat-audit")
@config_options
@click.argument("logs", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--max-gap-s", type=float, default=None, help="Gap limit (default 1.5 x interval).")
def heartbeat_audit_cmd(
    config_dir: Path, overrides: tuple[str, ...], logs: tuple[Path, ...], max_gap_s: float | None
) -> None:
    """Audit heartbeat logs (rotated files together) for gaps and duplicates."""
    loaded = load_or_exit(config_dir, overrides)
    from arbqos.probes.audit import run_audit

    interval_s = loaded.config.heartbeat.interval_s
    sys.exit(run_audit(list(logs), max_gap_s=max_gap_s, interval_s=interval_s))
