"""`arbqos render [--check]`: write every generated ops file, or report which ones are stale."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

import yaml

from arbqos.config import ArbqosConfig, LoadedConfig
from arbqos.generators import alertmanager, k8s, prometheus
from arbqos.generators.dashboard import build_dashboard
from arbqos.generators.routecheck import swallowed_routes
from arbqos.generators.rules import build_rule_file, build_rule_groups
from arbqos.generators.serialize import GENERATED, to_json, to_yaml

RULES_PATH = "ops/alerts/qos.yaml"
ALERTMANAGER_PATH = "ops/alertmanager/alertmanager.yml"
PROMETHEUS_PATH = "ops/prometheus/prometheus.yml"
PROMETHEUS_RULE_PATH = "ops/k8s/prometheusrule.yaml"
DASHBOARD_CONFIGMAP_PATH = "ops/k8s/dashboard-configmap.yaml"
DASHBOARD_PATH = "dashboards/arb_qos.json"

RULES_HEADER = f"""{GENERATED}
Recording rules (level:metric:operation) over exec.qos_window_s, then the alerts of the
contract. Alerts with action="pause" are routed to the orchestrator, which pauses trading."""


def render_all(config: ArbqosConfig) -> dict[str, str]:
    """Return every generated file: path relative to the repository root -> file text."""
    dashboard_json = to_json(build_dashboard(config))
    return {
        RULES_PATH: to_yaml(build_rule_file(config), RULES_HEADER),
        ALERTMANAGER_PATH: to_yaml(
            alertmanager.build_alertmanager_config(config), alertmanager.header(config)
        ),
        PROMETHEUS_PATH: to_yaml(prometheus.build_prometheus_config(config), prometheus.HEADER),
        PROMETHEUS_RULE_PATH: to_yaml(k8s.build_prometheus_rule(config), k8s.HEADER),
        DASHBOARD_CONFIGMAP_PATH: to_yaml(
            k8s.build_dashboard_configmap(dashboard_json), k8s.HEADER
        ),
        DASHBOARD_PATH: dashboard_json,
    }


def routing_problems(config: ArbqosConfig) -> list[str]:
    """Alerts of the rendered rules that can reach an Alertmanager receiver with no integration."""
    rules = [rule for group in build_rule_groups(config) for rule in group["rules"]]
    return swallowed_routes(rules, alertmanager.build_alertmanager_config(config))


def stale_files(files: dict[str, str], root: Path) -> list[str]:
    """Paths under `root` whose content differs from `files` (or that are missing)."""
    stale = []
    for relative, text in files.items():
        path = root / relative
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(relative)
    return stale


def write_files(files: dict[str, str], root: Path) -> list[str]:
    """Write the files that changed under `root`; return their paths."""
    changed = stale_files(files, root)
    for relative in changed:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[relative], encoding="utf-8")
    return changed


def committed_routing_problems(config: ArbqosConfig, root: Path) -> list[str]:
    """The routing check on the alertmanager.yml under `root` (what Alertmanager would run)."""
    path = root / ALERTMANAGER_PATH
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return []
    if not isinstance(document, dict) or not isinstance(document.get("route"), dict):
        return []
    rules = [rule for group in build_rule_groups(config) for rule in group["rules"]]
    return swallowed_routes(rules, document)


def run_render(loaded: LoadedConfig, *, root: Path, check: bool, out: TextIO | None = None) -> int:
    """Render from `loaded.config` under `root`; with `check`, write nothing and exit 1 on drift.

    Both modes exit 1 when an alert can reach an Alertmanager receiver with no integration
    (`--check` also checks the alertmanager.yml under `root`), naming the alert and receiver.
    """
    stream = out or sys.stdout
    files = render_all(loaded.config)
    problems = routing_problems(loaded.config)
    for problem in problems:
        stream.write(f"error: {problem}\n")
    if problems:
        stream.write(
            f"{len(problems)} routing problem(s) in the rendered {ALERTMANAGER_PATH}: nothing "
            "written; give the receiver an integration or route those alerts elsewhere\n"
        )
        return 1
    if check:
        return _check(files, loaded, root, stream)
    changed = write_files(files, root)
    for relative in changed:
        stream.write(f"wrote {relative}\n")
    stream.write(
        f"{len(changed)} written, {len(files) - len(changed)} unchanged "
        f"(config {loaded.hash[:12]})\n"
    )
    return 0


def _check(files: dict[str, str], loaded: LoadedConfig, root: Path, stream: TextIO) -> int:
    stale = stale_files(files, root)
    for relative in stale:
        state = "differs" if (root / relative).is_file() else "missing"
        stream.write(f"{state}: {relative}\n")
    swallowed = committed_routing_problems(loaded.config, root)
    for problem in swallowed:
        stream.write(f"error: {ALERTMANAGER_PATH}: {problem}\n")
    if stale or swallowed:
        stream.write(
            f"{len(stale)} generated file(s) out of date with config {loaded.hash[:12]}"
            + (f", {len(swallowed)} routing problem(s)" if swallowed else "")
            + ": run `arbqos render` and commit them\n"
        )
        return 1
    stream.write(f"ok: {len(files)} generated files match config {loaded.hash[:12]}\n")
    return 0
