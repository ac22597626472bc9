"""Read the config layers (YAML files, environment, `--set`) into plain dicts with origins."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from arbqos.config.introspect import annotation_at, scalar_kind, unwrap
from arbqos.config.schema import SECTIONS
from arbqos.errors import MISSING, ConfigIssue

ENV_PREFIX = "ARBQOS__"
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_NULL_WORDS = ("", "null", "~")


@dataclass
class Layer:
    """One configuration layer: nested data, the origin of each key path in it, its problems.

    `origins` maps every key path the layer sets (mappings and list items included) to
    `file:<path>:<line>`, `env:<VAR>` or `cli`.
    """

    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    issues: list[ConfigIssue] = field(default_factory=list)


def read_yaml_layer(config_dir: Path) -> Layer:
    """Read `config_dir/<section>.yml` files; a file name that is no section is an error."""
    layer = Layer(kind="file")
    if not config_dir.is_dir():
        message = "config directory not found; pass --config-dir DIR (default: config)"
        layer.issues.append(ConfigIssue(str(config_dir), "", MISSING, message))
        return layer
    seen: dict[str, Path] = {}
    for path in sorted([*config_dir.glob("*.yml"), *config_dir.glob("*.yaml")]):
        issue = _file_name_issue(path, seen)
        if issue is not None:
            layer.issues.append(issue)
            continue
        seen[path.stem] = path
        _read_section_file(layer, path, path.stem)
    return layer


def _file_name_issue(path: Path, seen: Mapping[str, Path]) -> ConfigIssue | None:
    if path.stem not in SECTIONS:
        expected = ", ".join(f"{s}.yml" for s in SECTIONS)
        message = f"unknown config file name (a typo?); expected one of {expected}"
        return ConfigIssue(str(path), "", MISSING, message)
    if path.stem in seen:
        message = f"second file for section {path.stem} (also {seen[path.stem]}); keep one"
        return ConfigIssue(str(path), "", MISSING, message)
    return None


def _read_section_file(layer: Layer, path: Path, section: str) -> None:
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        message = f"cannot read the file ({err.__class__.__name__}: {err}); it must be UTF-8 text"
        layer.issues.append(ConfigIssue(shown, section, MISSING, message))
        return
    data, origins, issues = parse_yaml(text, shown, section)
    layer.issues += issues
    if issues or data is None:
        return
    if not isinstance(data, dict):
        message = (
            f"the file holds a {type(data).__name__}, not a mapping; "
            "write `key: value` lines at the top level"
        )
        layer.issues.append(
            ConfigIssue(origins[section].removeprefix("file:"), section, data, message)
        )
        return
    layer.data[section] = data
    layer.origins.update(origins)


def parse_yaml(
    text: str, shown: str, section: str
) -> tuple[Any, dict[str, str], list[ConfigIssue]]:
    """Parse one YAML document safely; return data, origin of every key path, and problems.

    Duplicate keys and keys that YAML does not read as plain text (`yes:`, `1:`) are
    problems, reported with their line.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}, []
        origins: dict[str, str] = {section: f"file:{shown}:{node.start_mark.line + 1}"}
        issues: list[ConfigIssue] = []
        _walk_node(node, section, shown, origins, issues, set())
        if issues:
            return None, origins, issues
        return loader.construct_document(node), origins, []
    except yaml.YAMLError as err:
        return None, {}, [_yaml_issue(err, shown, section)]
    finally:
        loader.dispose()


def _yaml_issue(err: yaml.YAMLError, shown: str, section: str) -> ConfigIssue:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    where = f"{shown}:{mark.line + 1}" if mark is not None else shown
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    context = getattr(err, "context", None)
    started = getattr(err, "context_mark", None)
    column = f" (column {mark.column + 1})" if mark is not None else ""
    detail = f"{problem}{column}"
    if context:
        detail += f", {context}"
        if started is not None and started is not mark:
            detail += f" that starts at line {started.line + 1}"
    message = f"YAML syntax error: {detail}; check indentation, colons and quoting"
    return ConfigIssue(where, section, MISSING, message)


def _walk_node(
    node: yaml.Node,
    prefix: str,
    shown: str,
    origins: dict[str, str],
    issues: list[ConfigIssue],
    stack: set[int],
) -> None:
    """Record the line of every key path under `node`; flag duplicate and non-text keys."""
    if id(node) in stack:
        return
    stack = stack | {id(node)}
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            origins[f"{prefix}.{index}"] = f"file:{shown}:{item.start_mark.line + 1}"
            _walk_node(item, f"{prefix}.{index}", shown, origins, issues, stack)
        return
    if not isinstance(node, yaml.MappingNode):
        return
    seen: set[str] = set()
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if key_node.tag == _MERGE_TAG:
            merged = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for base in merged:
                _walk_node(base, prefix, shown, origins, issues, stack)
            continue
        key = str(key_node.value)
        path = f"{prefix}.{key}"
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR_TAG:
            message = "YAML does not read this key as plain text; quote it or fix the typo"
            issues.append(ConfigIssue(f"{shown}:{line}", path, MISSING, message))
            continue
        if key in seen:
            message = f"duplicate key (first at line {_line(origins[path])}); keep only one"
            issues.append(ConfigIssue(f"{shown}:{line}", path, MISSING, message))
            continue
        seen.add(key)
        origins[path] = f"file:{shown}:{line}"
        _walk_node(value_node, path, shown, origins, issues, stack)


def _line(origin: str) -> str:
    return origin.rsplit(":", 1)[-1]


def env_layer(env: Mapping[str, str]) -> Layer:
    """Turn `ARBQOS__SECTION__KEY[__SUB]` variables into a layer, converting by the schema."""
    layer = Layer(kind="env")
    for name in sorted(env):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__")]
        set_path(layer, parts, env[name], f"env:{name}")
    return layer


def cli_layer(assignments: Sequence[str]) -> Layer:
    """Turn `--set section.key=value` assignments into a layer, converting by the schema."""
    layer = Layer(kind="cli")
    for assignment in assignments:
        key, sep, raw = assignment.partition("=")
        if not sep or not key.strip():
            message = f"expected --set section.key=value, got {assignment!r} (no '=')"
            layer.issues.append(ConfigIssue("cli", key.strip(), MISSING, message))
            continue
        set_path(layer, key.strip().split("."), raw, "cli")
    return layer


def set_path(layer: Layer, parts: list[str], raw: str, origin: str) -> None:
    """Convert `raw` by the schema type at `parts` and set it in `layer`, recording its origin."""
    path = ".".join(parts)
    if len(parts) < 2 or parts[0] not in SECTIONS or not all(parts):
        layer.issues.append(ConfigIssue(origin, path, raw, _unknown_setting(parts)))
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
            message = f"conflicts with another setting of {'.'.join(parts[:-1])}"
            layer.issues.append(ConfigIssue(origin, path, raw, message))
            return
        cursor = nxt
    cursor[parts[-1]] = value
    for sub in walk_paths(value, path):
        layer.origins[sub] = origin


def _unknown_setting(parts: Sequence[str]) -> str:
    sections = ", ".join(SECTIONS)
    if parts and parts[0] not in SECTIONS:
        return (
            f"unknown section {parts[0]!r}; expected <section>.<key> with section one of {sections}"
        )
    return f"expected <section>.<key> with section one of {sections}"


def convert_by_schema(parts: Sequence[str], raw: str) -> Any:
    """Convert a string from env or CLI by the schema type at `parts` (never by guessing).

    Lists take JSON (`["a","b"]`) or comma-separated items; mappings take JSON; `null`, `~`
    or an empty string clears an optional value; other scalars stay strings for the schema
    to convert, so a text field given `0001` keeps `0001` (text is kept exactly; numbers,
    booleans and choices lose surrounding blanks).

    Raises:
        ValueError: bad JSON, or a list or mapping given to a single-value key.
    """
    annotation = annotation_at(parts)
    if annotation is None:
        return raw
    base, optional = unwrap(annotation)
    text = raw.strip()
    if optional and text in _NULL_WORDS:
        return None
    kind = scalar_kind(base)
    if kind == "list":
        return (
            _json(text)
            if text.startswith("[")
            else [i.strip() for i in text.split(",") if i.strip()]
        )
    if kind == "mapping":
        return _json(text)
    if kind in ("whole number", "number", "true or false") and text[:1] in ("[", "{"):
        shape = "list" if text.startswith("[") else "mapping"
        raise ValueError(f"expected a single value ({kind}), got a JSON {shape}")
    return raw if kind == "text" else text


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


def walk_paths(data: Any, prefix: str) -> Iterator[str]:
    """Yield `prefix` and every key path below it, list items as `.0`, `.1`, ..."""
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from walk_paths(value, f"{prefix}.{key}")
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from walk_paths(item, f"{prefix}.{index}")


def walk_values(data: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    """Yield `(path, value)` for every scalar under `data`, descending lists and mappings."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from walk_values(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from walk_values(item, f"{prefix}.{index}")
    else:
        yield prefix, data
