"""Generate the key reference of docs/configuration.md from the schema, so it cannot drift."""

from __future__ import annotations

import json
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from arbqos.config.introspect import choices, constraints_at, describe_bounds, scalar_kind, unwrap
from arbqos.config.schema import SECTIONS, ArbqosConfig

BEGIN = "<!-- BEGIN GENERATED: arbqos.config.reference -->"
END = "<!-- END GENERATED: arbqos.config.reference -->"
_ENTRY_NAMES = {"wallets": "<venue>", "chains": "<chain>"}
_UNITS = (
    ("_ms", "ms"),
    ("_s", "s"),
    ("_usd", "USD"),
    ("_bytes", "bytes"),
    ("_days", "days"),
    ("_intervals", "intervals"),
)


@dataclass(frozen=True)
class KeyDoc:
    """One documented key: dotted path (`risk.wallets.<venue>.address`), type, unit, default."""

    path: str
    kind: str
    unit: str
    default: str
    meaning: str


def schema_keys() -> list[KeyDoc]:
    """Every key of every section, entry mappings shown with a `<venue>` / `<chain>` name."""
    keys: list[KeyDoc] = []
    for section, model in SECTIONS.items():
        keys += _model_keys(model, section, [section])
    return keys


def _model_keys(model: type[BaseModel], prefix: str, parts: list[str]) -> list[KeyDoc]:
    keys = []
    for name, fld in model.model_fields.items():
        path, sub = f"{prefix}.{name}", [*parts, name]
        base = unwrap(fld.annotation)[0]
        entry = _entry_model(base)
        default = _default_text(fld.default, fld.default_factory, entry is not None)
        meaning = (fld.description or "").replace("\n", " ").replace("|", "\\|")
        keys.append(KeyDoc(path, _kind(base, sub), _unit(name), default, meaning))
        if entry is not None:
            placeholder = _ENTRY_NAMES.get(name, "<name>")
            keys += _model_keys(entry, f"{path}.{placeholder}", [*sub, "x"])
    return keys


def _entry_model(base: Any) -> type[BaseModel] | None:
    if typing.get_origin(base) is not dict:
        return None
    value = typing.get_args(base)[1]
    return value if isinstance(value, type) and issubclass(value, BaseModel) else None


_VALIDATED_TEXT = {
    "_checksum_address": "address (quoted 0x + 40 hex)",
    "_http_url": "http(s) URL",
    "_host_port": "host:port",
}


def _kind(base: Any, parts: list[str]) -> str:
    for item in constraints_at(parts):
        name = getattr(getattr(item, "func", None), "__name__", "")
        if name in _VALIDATED_TEXT:
            return _VALIDATED_TEXT[name]
    if typing.get_args(base) == (False,):
        return "false (or absent)"
    bounds = describe_bounds(parts)
    if bounds is not None:
        return bounds.removeprefix("a ")
    if typing.get_origin(base) is dict:
        names = ", ".join(choices(typing.get_args(base)[0]) or ("a name of your choice",))
        return f"mapping keyed {names}"
    if typing.get_origin(base) is list:
        item = typing.get_args(base)[0]
        return f"list of {_kind(unwrap(item)[0], [*parts, '0'])}"
    return scalar_kind(base)


def _unit(name: str) -> str:
    return next((unit for suffix, unit in _UNITS if name.endswith(suffix)), "")


def _default_text(default: Any, factory: Any, entries: bool) -> str:
    if entries:
        return "see defaults below"
    if default is PydanticUndefined and factory is None:
        return "required"
    value = factory() if default is PydanticUndefined else default
    if value is None:
        return "empty"
    if isinstance(value, BaseModel):
        return "see below"
    return f"`{json.dumps(value)}`"


def render_reference() -> str:
    """The generated part of the doc: one table per section, then the built-in defaults."""
    lines = [BEGIN, ""]
    current = ""
    for key in schema_keys():
        section = key.path.split(".", 1)[0]
        if key.path == section:
            continue
        if section != current:
            current = section
            lines += ["", f"### `{section}` (`config/{section}.yml`)", ""]
            lines += ["| key | type | unit | default | meaning |", "|---|---|---|---|---|"]
        lines.append(f"| `{key.path}` | {key.kind} | {key.unit} | {key.default} | {key.meaning} |")
    defaults = yaml.safe_dump(ArbqosConfig().model_dump(mode="json"), sort_keys=False)
    lines += ["", "### Built-in defaults", "", "```yaml", defaults.rstrip(), "```", "", END]
    return "\n".join(lines)


def update_reference(doc: Path) -> bool:
    """Rewrite the generated block of `doc` in place; return True when it changed."""
    text = doc.read_text(encoding="utf-8")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    fresh = head + render_reference() + tail
    if fresh == text:
        return False
    doc.write_text(fresh, encoding="utf-8")
    return True
