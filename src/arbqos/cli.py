"""The `arbqos` command line: the only module that reads argv and the environment."""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from arbqos.config import ConfigManager, LoadedConfig, load_config, redact
from arbqos.errors import ConfigError
from arbqos.log import configure_logging

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


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


def _load(config_dir: Path, overrides: tuple[str, ...]) -> LoadedConfig:
    """Load the config or exit 2 with every error."""
    try:
        return load_config(config_dir, os.environ, overrides)
    except ConfigError as err:
        click.echo(str(err), err=True)
        sys.exit(EXIT_BAD_INPUT)


def _run_service(
    service: str,
    target: str,
    config_dir: Path,
    overrides: tuple[str, ...],
    **kwargs: Any,
) -> NoReturn:
    """Configure logging, load the config (exit 2 on errors), run `target`, exit with its code."""
    from prometheus_client import CollectorRegistry

    configure_logging()
    registry = CollectorRegistry()
    try:
        manager = ConfigManager.load(
            config_dir, env=os.environ, overrides=overrides, service=service, registry=registry
        )
    except ConfigError as err:
        click.echo(str(err), err=True)
        sys.exit(EXIT_BAD_INPUT)
    sys.exit(_entry(target)(manager, registry=registry, env=os.environ, **kwargs))


def _entry(target: str) -> Callable[..., int]:
    """Import `module:function` lazily, so each command only loads what it needs."""
    module_name, _, func_name = target.partition(":")
    module = importlib.import_module(module_name)
    func: Callable[..., int] = getattr(module, func_name)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="arbqos")
def main() -> None:
    """arbqos: execution quality, alerts and automatic pause for an SX Bet / Azuro arb bot."""


@main.group("config")
def config_group() -> None:
    """Validate, hash and show the configuration."""


@config_group.command("validate")
@config_options
def config_validate(config_dir: Path, overrides: tuple[str, ...]) -> None:
    """Validate every config file; print `ok <hash>` or every error (exit 2)."""
    loaded = _load(config_dir, overrides)
    click.echo(f"ok {loaded.hash}")


@config_group.command("hash")
@config_options
def config_hash_cmd(config_dir: Path, overrides: tuple[str, ...]) -> None:
    """Print the canonical config hash (64 hex characters)."""
    click.echo(_load(config_dir, overrides).hash)


@config_group.command("show")
@config_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON: config, sources, hash.")
def config_show(config_dir: Path, overrides: tuple[str, ...], as_json: bool) -> None:
    """Print the effective config, credentials redacted, with the source of every key."""
    from arbqos.config.layers import flatten

    loaded = _load(config_dir, overrides)
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
    loaded = _load(config_dir, overrides)
    sys.exit(_entry("arbqos.generators.render:run_render")(loaded, root=root, check=check))


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
    _run_service(
        "orchestrator",
        "arbqos.services.server:run_orchestrator",
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
    _run_service(
        "heartbeat", "arbqos.probes.heartbeat_main:run_heartbeat", config_dir, overrides, once=once
    )


@main.command("balance-watcher")
@config_options
@click.option("--once", is_flag=True, help="Run one poll and exit.")
def balance_watcher_cmd(config_dir: Path, overrides: tuple[str, ...], once: bool) -> None:
    """Run the wallet balance watcher (read-only, never moves funds)."""
    _run_service(
        "balance_watcher",
        "arbqos.probes.balance_main:run_balance_watcher",
        config_dir,
        overrides,
        once=once,
    )


@main.command("heartbeat-audit")
@config_options
@click.argument("logs", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--max-gap-s", type=float, default=None, help="Gap limit (default 1.5 x interval).")
def heartbeat_audit_cmd(
    config_dir: Path, overrides: tuple[str, ...], logs: tuple[Path, ...], max_gap_s: float | None
) -> None:
    """Audit heartbeat logs (rotated files together) for gaps and duplicates."""
    loaded = _load(config_dir, overrides)
    run = _entry("arbqos.probes.audit:run_audit")
    sys.exit(run(list(logs), max_gap_s=max_gap_s, interval_s=loaded.config.heartbeat.interval_s))


@main.command("demo")
@config_options
@click.option("--scenario", default=None, help="Inject a fault: slow-accept, fill-collapse, ...")
@click.option("--duration-s", type=float, default=None, help="Stop after this many seconds.")
def demo_cmd(
    config_dir: Path, overrides: tuple[str, ...], scenario: str | None, duration_s: float | None
) -> None:
    """Run the whole stack locally: chains, venue simulators, services, Prometheus, Alertmanager."""
    configure_logging()
    loaded = _load(config_dir, overrides)
    run = _entry("arbqos.demo.stack:run_demo")
    sys.exit(run(loaded, config_dir=config_dir, scenario=scenario, duration_s=duration_s))


@main.command("evidence")
@config_options
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("evidence"))
def evidence_cmd(config_dir: Path, overrides: tuple[str, ...], out: Path) -> None:
    """Produce the evidence bundle: rules, alerts, dashboard PNGs, audit, pause latencies."""
    configure_logging()
    loaded = _load(config_dir, overrides)
    run = _entry("arbqos.demo.evidence:run_evidence")
    sys.exit(run(loaded, config_dir=config_dir, out=out))
