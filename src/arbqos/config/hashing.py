"""The canonical configuration hash: SHA-256 of sorted, compact JSON of the redacted config."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from arbqos.config.redact import redact

if TYPE_CHECKING:
    from arbqos.config.schema import ArbqosConfig


def canonical_json(data: Any) -> str:
    """Serialise with sorted keys and no whitespace, so formatting never changes the result."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def config_hash(config: ArbqosConfig) -> str:
    """Return the 64-hex hash of the validated effective config, credentials excluded."""
    payload = canonical_json(redact(config.model_dump(mode="json")))
    return hashlib.sha256(payload.encode("ascii")).hexdigest()
