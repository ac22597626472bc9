"""Read the schema's types and bounds at a dotted key path (for conversion and messages)."""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel

from arbqos.config.schema import SECTIONS

_BOUNDS = (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="))


def annotation_at(parts: Sequence[str]) -> Any:
    """Return the type annotation of the schema field at `parts`, or None when unknown.

    `parts` starts with a section; mapping entries (`wallets.sx`) and list items (`.0`) are
    followed too.
    """
    found = _field_at(parts)
    return None if found is None else found[0]


def constraints_at(parts: Sequence[str]) -> list[Any]:
    """Return the bound objects (`Gt`, `Le`, ...) attached to the field at `parts`."""
    found = _field_at(parts)
    if found is None:
        return []
    annotation, metadata = found
    return [*metadata, *_unwrap(annotation)[2]]


def _field_at(parts: Sequence[str]) -> tuple[Any, list[Any]] | None:
    current: Any = SECTIONS.get(parts[0]) if parts else None
    metadata: list[Any] = []
    if current is None:
        return None
    for part in parts[1:]:
        base = _unwrap(current)[0]
        origin = typing.get_origin(base)
        if isinstance(base, type) and issubclass(base, BaseModel):
            fld = base.model_fields.get(part)
            if fld is None:
                return None
            current, metadata = fld.annotation, list(fld.metadata)
        elif origin is dict:
            current, metadata = typing.get_args(base)[1], []
        elif origin is list and part.isdigit():
            current, metadata = typing.get_args(base)[0], []
        else:
            return None
    return current, metadata


def unwrap(annotation: Any) -> tuple[Any, bool]:
    """Strip `Annotated[...]` and `X | None`; return the bare type and whether None is allowed."""
    base, optional, _ = _unwrap(annotation)
    return base, optional


def _unwrap(annotation: Any) -> tuple[Any, bool, list[Any]]:
    optional = False
    metadata: list[Any] = []
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation, *extra = typing.get_args(annotation)
            for item in extra:
                metadata += getattr(item, "metadata", None) or [item]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            if len(args) != 1:
                return annotation, optional, metadata
            annotation = args[0]
        else:
            return annotation, optional, metadata


def choices(base: Any) -> tuple[str, ...] | None:
    """The allowed values of a `Literal[...]` or an enum type, as text; None for other types."""
    if typing.get_origin(base) is Literal:
        return tuple(str(a) for a in typing.get_args(base))
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return tuple(str(member.value) for member in base)
    return None


def scalar_kind(base: Any) -> str:
    """Name the kind of value a bare type takes: `list`, `mapping`, `number`, `text`, ..."""
    origin = typing.get_origin(base)
    if origin is list:
        return "list"
    if origin is dict or (isinstance(base, type) and issubclass(base, BaseModel)):
        return "mapping"
    allowed = choices(base)
    if allowed is not None:
        return "one of " + ", ".join(allowed)
    names = {bool: "true or false", int: "whole number", float: "number", str: "text"}
    return names.get(base, getattr(base, "__name__", str(base)))


def describe_bounds(parts: Sequence[str]) -> str | None:
    """Describe the allowed range at `parts`, e.g. `a number > 0 and <= 1`; None if unbounded."""
    limits = []
    for item in constraints_at(parts):
        for attr, sign in _BOUNDS:
            bound = getattr(item, attr, None)
            if bound is not None:
                limits.append(f"{sign} {_number(bound)}")
    if not limits:
        return None
    annotation = annotation_at(parts)
    kind = scalar_kind(unwrap(annotation)[0]) if annotation is not None else "number"
    return f"a {kind} {' and '.join(limits)}"


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
