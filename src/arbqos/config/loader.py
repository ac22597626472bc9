"""Merge the configuration layers, validate them all at once and record each value's source."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from arbqos.config.hashing import config_hash
from arbqos.config.layers import (
    Layer,
    annotation_at,
    cli_layer,
    env_layer,
    find_secret_material,
    flatten,
    read_yaml_layer,
    unwrap_optional,
)
from arbqos.config.schema import SECTIONS, ArbqosConfig
from arbqos.errors import MISSING, ConfigError, ConfigIssue

SOURCE_KINDS = ("default", "file", "env", "cli")


@dataclass(frozen=True)
class LoadedConfig:
    """A validated configuration, its canonical hash and the source of every effective value."""

    config: ArbqosConfig
    hash: str
    sources: Mapping[str, str]
    """Leaf path -> `default`, `file:<path>`, `env:<VAR>` or `cli`."""

    @property
    def source_kinds(self) -> str:
        """The layers that set at least one value, in layering order, e.g. `default,file,env`."""
        used = {source.split(":", 1)[0] for source in self.sources.values()}
        return ",".join(kind for kind in SOURCE_KINDS if kind in used)


def load_config(
    config_dir: Path,
    env: Mapping[str, str] | None = None,
    overrides: Sequence[str] = (),
) -> LoadedConfig:
    """Load defaults, `config_dir/*.yml`, `ARBQOS__*` env and `--set` overrides, in that order.

    Raises:
        ConfigError: listing every problem found, each with origin, key path, value and fix.
    """
    layers = [read_yaml_layer(config_dir), env_layer(env or {}), cli_layer(overrides)]
    issues: list[ConfigIssue] = []
    secret_paths: set[str] = set()
    for layer in layers:
        issues += layer.issues
        found = find_secret_material(layer)
        secret_paths.update(issue.path for issue in found)
        issues += found
    merged, origins = merge_layers(layers)
    anchors = {k: v for layer in layers for k, v in layer.anchors.items()}
    sections: dict[str, Any] = {}
    for name, model in SECTIONS.items():
        try:
            sections[name] = model.model_validate(merged.get(name, {}))
        except ValidationError as err:
            issues += [
                issue
                for issue in _issues_from(err, name, origins, anchors)
                if not any(issue.path.startswith(p) for p in secret_paths)
            ]
    if not issues:
        config = ArbqosConfig.model_validate(sections)
        issues += cross_section_issues(config, origins, anchors)
        if not issues:
            return LoadedConfig(
                config=config, hash=config_hash(config), sources=_sources(config, origins)
            )
    raise ConfigError(_unique(issues))


def merge_layers(layers: Sequence[Layer]) -> tuple[dict[str, Any], dict[str, str]]:
    """Deep-merge layer data (later wins, lists replace) and their leaf origins."""
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for layer in layers:
        _deep_merge(merged, layer.data)
        for path, origin in layer.origins.items():
            for known in [p for p in origins if p == path or p.startswith(path + ".")]:
                del origins[known]
            origins[path] = origin
    return merged, origins


def _deep_merge(into: dict[str, Any], new: Mapping[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def _origin_of(path: str, origins: Mapping[str, str], anchors: Mapping[str, str]) -> str:
    """Find where `path` (or its nearest ancestor) was set; `default` when no layer set it."""
    for table in (origins, anchors):
        probe = path
        while probe:
            if probe in table:
                return _short(table[probe])
            probe = probe.rpartition(".")[0]
    return "default"


def _short(origin: str) -> str:
    """`file:config/exec.yml:3` -> `config/exec.yml:3`; env and cli stay as they are."""
    return origin.removeprefix("file:")


def _issues_from(
    err: ValidationError,
    section: str,
    origins: Mapping[str, str],
    anchors: Mapping[str, str],
) -> list[ConfigIssue]:
    issues = []
    for item in err.errors():
        loc = [str(part) for part in item["loc"]]
        path = ".".join([section, *loc])
        value: object = item.get("input", MISSING)
        message = _explain(item)
        if item["type"] == "missing":
            value = MISSING
        elif item["type"] == "extra_forbidden":
            message = "unknown key (a typo?); " + _known_keys(section, loc[:-1])
        elif isinstance(value, dict):
            value = "{...}"
        issues.append(ConfigIssue(_origin_of(path, origins, anchors), path, value, message))
    return issues


def _explain(item: Any) -> str:
    msg = str(item["msg"])
    msg = msg.removeprefix("Value error, ")
    ctx = item.get("ctx") or {}
    kind = item["type"]
    bounds = {
        "greater_than": f"expected a number > {ctx.get('gt')}",
        "greater_than_equal": f"expected a number >= {ctx.get('ge')}",
        "less_than": f"expected a number < {ctx.get('lt')}",
        "less_than_equal": f"expected a number <= {ctx.get('le')}",
        "literal_error": f"expected one of {ctx.get('expected')}",
        "missing": "required key is missing",
    }
    return bounds.get(kind, msg[0].lower() + msg[1:] if msg else kind)


def _known_keys(section: str, parent: list[str]) -> str:
    annotation = unwrap_optional(annotation_at([section, *parent]))
    fields = getattr(annotation, "model_fields", None)
    if not fields:
        return "remove it"
    return "known keys: " + ", ".join(sorted(fields))


def cross_section_issues(
    config: ArbqosConfig, origins: Mapping[str, str], anchors: Mapping[str, str]
) -> list[ConfigIssue]:
    """Rules that span several files."""
    issues = []
    if config.alerting.repeat_interval_s <= config.exec.qos_window_s:
        path = "alerting.repeat_interval_s"
        issues.append(
            ConfigIssue(
                _origin_of(path, origins, anchors),
                path,
                config.alerting.repeat_interval_s,
                f"must be longer than exec.qos_window_s ({config.exec.qos_window_s}) so a "
                "persisting breach is not re-sent inside one window",
            )
        )
    for venue, wallet in sorted(config.risk.wallets.items()):
        endpoint = config.endpoints.chains.get(wallet.chain)
        if endpoint is not None and not endpoint.enabled:
            path = f"risk.wallets.{venue}.chain"
            issues.append(
                ConfigIssue(
                    _origin_of(path, origins, anchors),
                    path,
                    wallet.chain,
                    f"chain {wallet.chain} is disabled in endpoints.chains; "
                    "enable it to read this wallet",
                )
            )
    return issues


def _sources(config: ArbqosConfig, origins: Mapping[str, str]) -> dict[str, str]:
    sources = {}
    for path in flatten(config.model_dump(mode="json"), ""):
        origin = origins.get(path, "default")
        sources[path] = origin.rsplit(":", 1)[0] if origin.startswith("file:") else origin
    return sources


def _unique(issues: list[ConfigIssue]) -> list[ConfigIssue]:
    seen: set[str] = set()
    out = []
    for issue in issues:
        key = issue.render()
        if key not in seen:
            seen.add(key)
            out.append(issue)
    return out
