"""The canonical configuration hash: SHA-256 of sorted, compact JSON of the redacted config.

Keys marked `json_schema_extra={"hash": False}` (where a secrets file lives, for instance
`alerting.notify_urls_file`) are left out: they say where a secret is read on this host, not
how arbqos behaves, so moving the file never shows up as config drift.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from arbqos.config.redact import redact

if TYPE_CHECKING:
    from arbqos.config.schema import ArbqosConfig


def canonical_json(data: Any) -> str:
    """Serialise with sorted keys and no whitespace, so formatting never changes the result."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def unhashed_keys(model: type[BaseModel]) -> dict[str, Any]:
    """The `exclude` argument of `model_dump` that drops every key marked `hash: False`."""
    exclude: dict[str, Any] = {}
    for name, fld in model.model_fields.items():
        extra = fld.json_schema_extra
        if isinstance(extra, dict) and extra.get("hash") is False:
            exclude[name] = True
        elif isinstance(fld.annotation, type) and issubclass(fld.annotation, BaseModel):
            nested = unhashed_keys(fld.annotation)
            if nested:
                exclude[name] = nested
    return exclude


def config_hash(config: ArbqosConfig) -> str:
    """Return the 64-hex hash of the validated effective config, credentials excluded."""
    dumped = config.model_dump(mode="json", exclude=unhashed_keys(type(config)))
    payload = canonical_json(redact(dumped))
    return hashlib.sha256(payload.encode("ascii")).hexdigest()
