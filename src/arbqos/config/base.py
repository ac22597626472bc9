"""Building blocks of the config models: the strict `Section` base and validated value types."""

from __future__ import annotations

import re
import types
import typing
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator


def _http_url(value: str) -> str:
    """Accept an http(s) URL with a host and no whitespace; drop a trailing slash."""
    expected = "expected an http:// or https:// URL with a host, e.g. https://rpc.example.org"
    try:
        parts = urlsplit(value)
        _ = parts.port
    except ValueError as err:
        raise ValueError(f"{expected} ({err})") from err
    if parts.scheme not in ("http", "https") or not parts.hostname or re.search(r"\s", value):
        raise ValueError(expected)
    return value.rstrip("/")


def _host_port(value: str) -> str:
    """Accept `host:port`."""
    if not re.match(r"^[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$", value):
        raise ValueError("expected host:port, e.g. 127.0.0.1:8700")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
HostPort = Annotated[str, AfterValidator(_host_port)]
Port = Annotated[int, Field(ge=1, le=65535)]
Fraction = Annotated[float, Field(gt=0, le=1)]
PositiveSeconds = Annotated[float, Field(gt=0)]


def _is_number(annotation: Any) -> bool:
    """Tell whether a field annotation is int or float (through Annotated and `| None`)."""
    if annotation in (int, float):
        return True
    if typing.get_origin(annotation) in (Annotated, typing.Union, types.UnionType):
        return any(_is_number(arg) for arg in typing.get_args(annotation))
    return False


class Section(BaseModel):
    """Base of every config model: frozen, unknown keys rejected, no inf/nan, no bool numbers."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_default=True,
        allow_inf_nan=False,
        use_attribute_docstrings=True,
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_as_number(cls, value: object, info: ValidationInfo) -> object:
        name = info.field_name
        if (
            isinstance(value, bool)
            and name is not None
            and _is_number(cls.model_fields[name].annotation)
        ):
            raise ValueError(f"expected a number, got the boolean {str(value).lower()}")
        return value
