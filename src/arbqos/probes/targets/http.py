"""One bounded HTTP request for a probe: the answer, or a failure detail for the probe's result."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from arbqos.chain.bounded import (
    BoundedResponse,
    ResponseTooLarge,
    UnsupportedEncoding,
    fetch_bounded,
)


async def request_bounded(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    max_bytes: int,
    timeout_s: float,
    json_body: Any = None,
) -> BoundedResponse | str:
    """Send one request under a whole-call deadline; return the answer or why there is none.

    >>> answer = await request_bounded(http, "GET", url, max_bytes=1 << 20, timeout_s=2)
    >>> answer if isinstance(answer, str) else answer.status_code
    'answer too large: announced 52428800 bytes, limit 1048576 bytes (endpoints.response_max_bytes)'
    """
    try:
        async with asyncio.timeout(timeout_s):
            return await fetch_bounded(
                http, method, url, max_bytes=max_bytes, timeout_s=timeout_s, json_body=json_body
            )
    except TimeoutError:
        return f"request failed: timeout, no complete answer within {timeout_s:g} s"
    except httpx.HTTPError as err:
        return f"request failed: {type(err).__name__}"
    except (ResponseTooLarge, UnsupportedEncoding) as err:
        return str(err)
