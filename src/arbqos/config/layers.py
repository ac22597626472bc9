"""Read the config layers (YAML files, environment, `--set`) into plain dicts with origins."""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from arbqos.config.schema import SECTIONS
from arbqos.errors import MISSING, ConfigIssue

ENV_PREFIX = "ARBQOS__"
_SECRET_KEY_NAME = re.compile(
    r"(private[_-]?key|priv[_-]?key|secret[_-]?key|signing[_-]?key|mnemonic|seed[_-]?phrase|"
    r"seed[_-]?words|keystore|wallet[_-]?key)",
    re.IGNORECASE,
)
_HEX_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_MNEMONIC = re.compile(r"^([a-z]{3,8}\s+){11,23}[a-z]{3,8}$")
NEVER_A_KEY = (
    "looks like a private key or mnemonic: arbqos never needs one (it only reads balances and "
    "never signs or sends a transaction); remove it from the configuration"
)


@dataclass
class Layer:
    """One configuration layer: nested data, and the origin of every leaf path in it."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    anchors: dict[str, str] = field(default_factory=dict)
    """Origin of every key path, mappings included (for locating errors)."""
    issues: list[ConfigIssue] = field(default_factory=list)


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys and remembers the line of each key."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def _key_lines(node: yaml.Node, prefix: str, out: dict[str, int]) -> None:
    """Record the 1-based line of every key path under `node`."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            path = f"{prefix}.{key_node.value}"
            out[path] = key_node.start_mark.line + 1
            _key_lines(value_node, path, out)


def read_yaml_layer(config_dir: Path) -> Layer:
    """Read `config_dir/<section>.yml` files; a file name that is no section is an error."""
    layer = Layer(kind="file")
    if not config_dir.is_dir():
        layer.issues.append(
            ConfigIssue(
                str(config_dir),
                "",
                MISSING,
                "config directory not found; pass --config-dir DIR (default: config)",
            )
        )
        return layer
    files = sorted([*config_dir.glob("*.yml"), *config_dir.glob("*.yaml")])
    for path in files:
        section = path.stem
        shown = str(path)
        if section not in SECTIONS:
            layer.issues.append(
                ConfigIssue(
                    shown,
                    "",
                    MISSING,
                    "unknown config file; expected one of "
                    + ", ".join(f"{s}.yml" for s in SECTIONS),
                )
            )
            continue
        text = path.read_text(encoding="utf-8")
        try:
            node = yaml.compose(text, Loader=_LineLoader)
            data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
            where = f"{shown}:{mark.line + 1}" if mark else shown
            problem = getattr(err, "problem", None) or str(err)
            layer.issues.append(ConfigIssue(where, "", MISSING, f"YAML syntax error: {problem}"))
            continue
        if data is None:
            continue
        if not isinstance(data, dict):
            layer.issues.append(
                ConfigIssue(
                    shown,
                    section,
                    data,
                    "not a mapping; the file must hold `key: value` lines at the top level",
                )
            )
            continue
        lines: dict[str, int] = {}
        if node is not None:
            _key_lines(node, section, lines)
        layer.data[section] = data
        for leaf in flatten(data, section):
            layer.origins[leaf] = f"file:{shown}:{lines.get(leaf, 1)}"
        layer.anchors[section] = f"file:{shown}:1"
        for key_path, line in lines.items():
            layer.anchors[key_path] = f"file:{shown}:{line}"
    return layer


def env_layer(env: Mapping[str, str]) -> Layer:
    """Turn `ARBQOS__SECTION__KEY[__SUB]` variables into a layer, converting by the schema."""
    layer = Layer(kind="env")
    for name in sorted(env):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__") if p]
        origin = f"env:{name}"
        _set_path(layer, parts, env[name], origin)
    return layer


def cli_layer(assignments: Sequence[str]) -> Layer:
    """Turn `--set section.key=value` assignments into a layer, converting by the schema."""
    layer = Layer(kind="cli")
    for assignment in assignments:
        key, sep, raw = assignment.partition("=")
        if not sep or not key.strip():
            layer.issues.append(
                ConfigIssue("cli", assignment, MISSING, "expected --set section.key=value")
            )
            continue
        _set_path(layer, key.strip().split("."), raw, "cli")
    return layer


def _set_path(layer: Layer, parts: list[str], raw: str, origin: str) -> None:
    path = ".".join(parts)
    if len(parts) < 2 or parts[0] not in SECTIONS:
        layer.issues.append(
            ConfigIssue(
                origin,
                path,
                raw,
                "unknown setting; expected <section>.<key> with section one of "
                + ", ".join(SECTIONS),
            )
        )
        return
    try:
        value = convert_by_schema(parts, raw)
    except ValueError as err:
        layer.issues.append(ConfigIssue(origin, path, raw, str(err)))
        return
    cursor = layer.data
    for part in parts[:-1]:
        nxt = cursor.setdefault(part, {})
        if not isinstance(nxt, dict):
            layer.issues.append(ConfigIssue(origin, path, raw, "conflicts with another setting"))
            return
        cursor = nxt
    cursor[parts[-1]] = value
    for leaf in flatten({parts[-1]: value}, ".".join(parts[:-1])):
        layer.origins[leaf] = origin


def annotation_at(parts: Sequence[str]) -> Any:
    """Return the type annotation of the schema field at `parts`, or None when unknown."""
    current: Any = SECTIONS.get(parts[0])
    for part in parts[1:]:
        current = unwrap_optional(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            fld = current.model_fields.get(part)
            if fld is None:
                return None
            current = fld.annotation
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return None
    return current


def unwrap_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    if origin is typing.Annotated:
        return typing.get_args(annotation)[0]
    return annotation


def convert_by_schema(parts: Sequence[str], raw: str) -> Any:
    """Convert a string from env or CLI by the schema type at `parts` (never by guessing).

    Lists take JSON (`["a","b"]`) or comma-separated items; mappings take JSON; `null` or an
    empty string clears an optional value; scalars stay strings and pydantic converts them.
    """
    annotation = annotation_at(parts)
    if annotation is None:
        return raw
    optional = type(None) in typing.get_args(annotation)
    if optional and raw.strip() in ("", "null", "~"):
        return None
    base = unwrap_optional(annotation)
    base = unwrap_optional(base)
    origin = typing.get_origin(base)
    if origin is list:
        text = raw.strip()
        if text.startswith("["):
            return _json(text)
        return [item.strip() for item in text.split(",") if item.strip()]
    if origin is dict or (isinstance(base, type) and issubclass(base, BaseModel)):
        return _json(raw)
    return raw


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"expected JSON here: {err.msg} at column {err.colno}") from err


def flatten(data: Any, prefix: str) -> dict[str, Any]:
    """Flatten nested dicts to dotted leaf paths; lists and scalars are leaves."""
    if isinstance(data, dict) and data:
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: data}


def find_secret_material(layer: Layer) -> list[ConfigIssue]:
    """Reject keys or values that look like a private key or a mnemonic (value never shown)."""
    issues = []
    for path, value in flatten(layer.data, "").items():
        origin = layer.origins.get(path, layer.kind)
        named = any(_SECRET_KEY_NAME.search(part) for part in path.split("."))
        looks = isinstance(value, str) and (
            _HEX_KEY.match(value.strip()) or _MNEMONIC.match(value.strip())
        )
        if named or looks:
            issues.append(
                ConfigIssue(origin.removeprefix("file:"), path, "<redacted>", NEVER_A_KEY)
            )
    return issues
