"""Merge the configuration layers, validate them all at once and record each value's source."""

from __future__ import annotations

import copy
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from arbqos.config.hashing import config_hash
from arbqos.config.introspect import annotation_at, unwrap
from arbqos.config.issues import cross_section_issues, finalize, issues_from_validation
from arbqos.config.layers import Layer, cli_layer, env_layer, flatten, read_yaml_layer, walk_values
from arbqos.config.schema import ArbqosConfig
from arbqos.config.secrets import KEY_BY_NAME, KEY_BY_VALUE, is_secret_name, looks_like_secret
from arbqos.errors import REDACTED_VALUE, ConfigError, ConfigIssue

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
    issues = [issue for layer in layers for issue in layer.issues]
    secrets = [issue for layer in layers for issue in secret_issues(layer)]
    merged, origins = merge_layers(layers)
    config: ArbqosConfig | None = None
    try:
        config = ArbqosConfig.model_validate(merged)
    except ValidationError as err:
        secret_paths = [issue.path for issue in secrets]
        issues += [
            issue
            for issue in issues_from_validation(err, origins)
            if not any(_is_within(issue.path, p) for p in secret_paths)
        ]
    issues += secrets
    if config is not None and not issues:
        issues += cross_section_issues(config, origins)
    if issues or config is None:
        raise ConfigError(finalize(issues, origins))
    return LoadedConfig(config=config, hash=config_hash(config), sources=_sources(config, origins))


def secret_issues(layer: Layer) -> list[ConfigIssue]:
    """Refuse keys named like a private key and values that look like one; never echo them."""
    found: list[ConfigIssue] = []
    for path, value in walk_values(layer.data, ""):
        named = next((p for p in _prefixes(path) if is_secret_name(p.rpartition(".")[2])), None)
        if named is not None and not any(i.path == named for i in found):
            found.append(_secret_issue(layer, named, KEY_BY_NAME))
        elif named is None and looks_like_secret(value):
            found.append(_secret_issue(layer, path, KEY_BY_VALUE))
    return found


def _secret_issue(layer: Layer, path: str, message: str) -> ConfigIssue:
    origin = layer.origins.get(path, layer.kind)
    return ConfigIssue(_short(origin), path, REDACTED_VALUE, message)


def _prefixes(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _is_within(path: str, ancestor: str) -> bool:
    return path == ancestor or path.startswith(ancestor + ".")


def merge_layers(layers: Sequence[Layer]) -> tuple[dict[str, Any], dict[str, str]]:
    """Deep-merge the built-in defaults and the layers (later wins); return data and origins.

    Lists replace. A YAML file that writes a whole entry mapping (`risk.wallets`,
    `endpoints.chains`) replaces the default mapping; env and `--set` change single entries.
    """
    merged: dict[str, Any] = ArbqosConfig().model_dump()
    origins: dict[str, str] = {}
    for layer in layers:
        _deep_merge(merged, layer.data, "", replace_mappings=layer.kind == "file")
        for path in sorted(layer.origins, key=lambda p: p.count(".")):
            if not isinstance(_value_at(layer.data, path), dict):
                for known in [p for p in origins if p.startswith(path + ".")]:
                    del origins[known]
            origins[path] = layer.origins[path]
    return merged, origins


def _deep_merge(
    into: dict[str, Any], new: Mapping[str, Any], prefix: str, *, replace_mappings: bool
) -> None:
    for key, value in new.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        target = into.get(key)
        replace = replace_mappings and _is_entry_mapping(path)
        if isinstance(value, dict) and isinstance(target, dict) and not replace:
            _deep_merge(target, value, path, replace_mappings=replace_mappings)
        else:
            into[key] = copy.deepcopy(value)


def _is_entry_mapping(path: str) -> bool:
    annotation = annotation_at(path.split("."))
    return annotation is not None and typing.get_origin(unwrap(annotation)[0]) is dict


def _value_at(data: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _short(origin: str) -> str:
    """`file:config/exec.yml:3` -> `config/exec.yml:3`; env and cli stay as they are."""
    return origin.removeprefix("file:")


def _sources(config: ArbqosConfig, origins: Mapping[str, str]) -> dict[str, str]:
    sources = {}
    for path in flatten(config.model_dump(mode="json"), ""):
        origin = origins.get(path, "default")
        sources[path] = origin.rsplit(":", 1)[0] if origin.startswith("file:") else origin
    return sources
