"""A JSON-RPC client that can only read: an allow-list of methods, failover across URLs."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Sequence
from typing import Any

import httpx

from arbqos.chain.bounded import (
    DEFAULT_MAX_BYTES,
    ResponseTooLarge,
    UnsupportedEncoding,
    fetch_bounded,
)
from arbqos.errors import ForbiddenRpcMethod, RpcError

logger = logging.getLogger(__name__)

READ_ONLY_METHODS: frozenset[str] = frozenset(
    {
        "eth_chainId",
        "net_version",
        "web3_clientVersion",
        "eth_blockNumber",
        "eth_getBlockByNumber",
        "eth_gasPrice",
        "eth_maxPriorityFeePerGas",
        "eth_feeHistory",
        "eth_call",
        "eth_getBalance",
        "eth_getCode",
        "eth_getTransactionCount",
        "eth_getBlockTransactionCountByNumber",
        "eth_syncing",
    }
)
"""Methods arbqos may send. Anything else (eth_sendTransaction, eth_sendRawTransaction,
eth_sign*, personal_*, ...) is refused before a byte leaves the process."""


class RpcFailure(RpcError):
    """A JSON-RPC call failed; `kind` is a bounded error class usable as a metric label."""

    def __init__(self, kind: str, message: str, *, endpoint: int | None = None) -> None:
        self.kind = kind
        self.endpoint = endpoint
        super().__init__(f"{kind}: {message}")


def check_allowed(method: str) -> None:
    """Raise ForbiddenRpcMethod unless `method` is on the read-only allow-list."""
    if method not in READ_ONLY_METHODS:
        raise ForbiddenRpcMethod(
            f"JSON-RPC method {method!r} is not on arbqos's read-only allow-list; arbqos never "
            "signs or sends transactions"
        )


class JsonRpcClient:
    """Call a chain's JSON-RPC endpoints in order until one answers (failover).

    Transport failures (connect, timeout, HTTP 5xx/429, garbage JSON, an answer larger than
    `max_response_bytes`) move on to the next URL; a JSON-RPC `error` object is an answer and
    raises at once. URLs never appear in errors or
    logs (they may embed a provider key): endpoints are named by their index.

    >>> rpc = JsonRpcClient(["http://127.0.0.1:8545"], chain="polygon", http=client)
    >>> await rpc.chain_id()
    137
    """

    def __init__(
        self,
        urls: Sequence[str],
        *,
        chain: str,
        http: httpx.AsyncClient,
        timeout_s: float = 10.0,
        max_response_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        if not urls:
            raise ValueError(f"chain {chain}: at least one RPC URL is needed")
        self._urls = list(urls)
        self.chain = chain
        self._http = http
        self._timeout_s = timeout_s
        self.max_response_bytes = max_response_bytes
        self._ids = itertools.count(1)
        self.last_endpoint: int | None = None

    async def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """Send one read-only call; return its `result` or raise RpcFailure."""
        check_allowed(method)
        failures: list[RpcFailure] = []
        for index, url in enumerate(self._urls):
            try:
                result = await self._call_one(index, url, method, params)
            except RpcFailure as failure:
                if failure.kind == "rpc_error":
                    raise
                failures.append(failure)
                logger.debug(
                    "rpc endpoint failed",
                    extra={"chain": self.chain, "endpoint": index, "error": str(failure)},
                )
                continue
            self.last_endpoint = index
            return result
        last = failures[-1]
        summary = "; ".join(f"endpoint {f.endpoint}: {f}" for f in failures)
        raise RpcFailure(last.kind, f"{self.chain} {method}: all endpoints failed ({summary})")

    async def _call_one(self, index: int, url: str, method: str, params: Sequence[Any]) -> Any:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        try:
            # httpx timeouts are per phase (connect, each read); the deadline bounds the whole call
            # so an endpoint dripping bytes cannot hold it open.
            async with asyncio.timeout(self._timeout_s):
                response = await fetch_bounded(
                    self._http,
                    "POST",
                    url,
                    max_bytes=self.max_response_bytes,
                    timeout_s=self._timeout_s,
                    json_body=body,
                )
        except (httpx.TimeoutException, TimeoutError) as err:
            raise RpcFailure("timeout", type(err).__name__, endpoint=index) from err
        except httpx.HTTPError as err:
            raise RpcFailure("connect", type(err).__name__, endpoint=index) from err
        except ResponseTooLarge as err:
            raise RpcFailure("too_large", str(err), endpoint=index) from err
        except UnsupportedEncoding as err:
            raise RpcFailure("bad_json", str(err), endpoint=index) from err
        if response.status_code == 429:
            raise RpcFailure("http_429", "rate limited", endpoint=index)
        if response.status_code >= 500:
            raise RpcFailure("http_5xx", f"HTTP {response.status_code}", endpoint=index)
        if response.status_code >= 400:
            raise RpcFailure("http_4xx", f"HTTP {response.status_code}", endpoint=index)
        try:
            payload = response.json()
        except ValueError as err:
            raise RpcFailure("bad_json", "answer is not JSON", endpoint=index) from err
        if not isinstance(payload, dict):
            raise RpcFailure("bad_json", "answer is not a JSON-RPC object", endpoint=index)
        if payload.get("error") is not None:
            error = payload["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            raise RpcFailure("rpc_error", str(message)[:200], endpoint=index)
        if "result" not in payload:
            raise RpcFailure("bad_json", "answer has no result", endpoint=index)
        return payload["result"]

    async def chain_id(self) -> int:
        """Return `eth_chainId` as an int."""
        return _hex_int(await self.call("eth_chainId"), "eth_chainId")

    async def block_number(self) -> int:
        """Return `eth_blockNumber` as an int."""
        return _hex_int(await self.call("eth_blockNumber"), "eth_blockNumber")

    async def latest_block(self) -> tuple[int, int]:
        """Return (number, unix timestamp) of the latest block."""
        block = await self.call("eth_getBlockByNumber", ["latest", False])
        if not isinstance(block, dict):
            raise RpcFailure("bad_json", "eth_getBlockByNumber returned no block")
        return _hex_int(block.get("number"), "number"), _hex_int(
            block.get("timestamp"), "timestamp"
        )

    async def gas_price_wei(self) -> int:
        """Return `eth_gasPrice` in wei."""
        return _hex_int(await self.call("eth_gasPrice"), "eth_gasPrice")

    async def eth_call(self, to: str, data: bytes) -> bytes:
        """Run a read-only contract call at the latest block and return the raw result."""
        result = await self.call("eth_call", [{"to": to, "data": "0x" + data.hex()}, "latest"])
        if not isinstance(result, str) or not result.startswith("0x"):
            raise RpcFailure("bad_json", "eth_call result is not hex")
        try:
            return bytes.fromhex(result[2:])
        except ValueError as err:
            raise RpcFailure("bad_json", "eth_call result is not hex") from err


def _hex_int(value: Any, what: str) -> int:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise RpcFailure("bad_json", f"{what} is not a hex quantity: {str(value)[:40]!r}")
    try:
        return int(value, 16)
    except ValueError as err:
        raise RpcFailure("bad_json", f"{what} is not a hex quantity") from err
