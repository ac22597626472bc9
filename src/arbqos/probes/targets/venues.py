"""Venue API probes: SX Bet `GET /metadata` and the Azuro REST API.

* **sx_api**: `GET {sx_api_url}/metadata` needs no key and is SX Bet's cheapest documented
  call; it must answer `status == "success"` with a non-empty `data.executorAddress`.
* **azuro_api**: `GET {azuro_api_url}/bet/orders/{id}` for an order id that cannot exist
  (the zero address with nonce 0, in the documented `bettor_nonce` form). The toolkit's
  `getBet` documents 404 as "no such order", so a 404 proves the bet-order service routes and
  answers; 200 with a JSON object is accepted too. It is a read, costs one key lookup and
  sends no body, unlike `POST /market-manager/condition-batch`, whose answer to an empty id
  list is not documented.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from arbqos.chain.bounded import DEFAULT_MAX_BYTES, BoundedResponse
from arbqos.clock import Clock
from arbqos.probes.base import ProbeResult
from arbqos.probes.targets.http import request_bounded

AZURO_PROBE_ORDER_ID = "0x0000000000000000000000000000000000000000_0"
"""An order id in the documented `bettorAddressLowerCase_nonce` form that no bettor can own."""


@dataclass(frozen=True)
class HttpTarget:
    """A venue HTTP API reached at `base_url` with a per-request timeout."""

    name: str
    kind: str
    base_url: str
    timeout_s: float = 10.0
    max_bytes: int = DEFAULT_MAX_BYTES

    @property
    def chain(self) -> None:
        """Venue APIs are not chains."""
        return None


def _json_object(response: BoundedResponse) -> dict[str, Any] | None:
    try:
        payload = response.json()
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


async def probe_sx_api(target: HttpTarget, *, http: httpx.AsyncClient, clock: Clock) -> ProbeResult:
    """`GET /metadata`: success envelope with a non-empty `data.executorAddress`."""
    observed = clock.now_utc()
    response = await request_bounded(
        http,
        "GET",
        f"{target.base_url}/metadata",
        max_bytes=target.max_bytes,
        timeout_s=target.timeout_s,
    )
    if isinstance(response, str):
        return ProbeResult(False, response, observed)
    data = {"http_status": response.status_code}
    if response.status_code != 200:
        return ProbeResult(
            False, f"HTTP {response.status_code} from /metadata", observed, data=data
        )
    payload = _json_object(response)
    if payload is None:
        return ProbeResult(False, "/metadata answer is not a JSON object", observed, data=data)
    if payload.get("status") != "success":
        status = str(payload.get("status"))[:40]
        return ProbeResult(
            False, f"/metadata status {status!r}, expected 'success'", observed, data=data
        )
    body = payload.get("data")
    executor = body.get("executorAddress") if isinstance(body, dict) else None
    if not isinstance(executor, str) or not executor:
        return ProbeResult(False, "/metadata has no data.executorAddress", observed, data=data)
    return ProbeResult(True, f"metadata ok, executor {executor[:12]}...", observed, data=data)


async def probe_azuro_api(
    target: HttpTarget, *, http: httpx.AsyncClient, clock: Clock
) -> ProbeResult:
    """`GET /bet/orders/{id}` of an impossible order: 404 (or a 200 JSON object) is healthy."""
    observed = clock.now_utc()
    url = f"{target.base_url}/bet/orders/{AZURO_PROBE_ORDER_ID}"
    response = await request_bounded(
        http, "GET", url, max_bytes=target.max_bytes, timeout_s=target.timeout_s
    )
    if isinstance(response, str):
        return ProbeResult(False, response, observed)
    data = {"http_status": response.status_code}
    if response.status_code == 404:
        return ProbeResult(
            True, "bet order API answers (404 for an unknown order)", observed, data=data
        )
    if response.status_code == 200:
        if _json_object(response) is None:
            return ProbeResult(False, "bet order answer is not a JSON object", observed, data=data)
        return ProbeResult(True, "bet order API answers (200)", observed, data=data)
    return ProbeResult(
        False, f"HTTP {response.status_code} from bet/orders (expected 404)", observed, data=data
    )
