"""A loopback ERC-20 JSON-RPC fake whose answers and failures the test controls."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_abi.abi import decode, encode

from arbqos.chain.abi import BALANCE_OF, DECIMALS
from arbqos.config.schema import WalletConfig
from tests.probes.fakes import HUGE_BYTES, LoopbackServer, Reply, Request


class FakeTokenChain:
    """Answers eth_chainId and eth_call (decimals, balanceOf) of one token.

    `mode`: `ok`, `down` (HTTP 503), `hang` (never answers), `no_code` (eth_call "0x") or
    `huge` (a 50 MB answer without a Content-Length).
    """

    def __init__(self, chain_id: int, *, decimals: int = 6) -> None:
        self.chain_id = chain_id
        self.decimals = decimals
        self.balances: dict[str, int] = {}
        self.mode = "ok"
        self.calls: list[tuple[str, str]] = []
        """(method, 4-byte selector hex for eth_call) of every request received."""
        self.server = LoopbackServer(self.handle).start()
        self.url = self.server.url

    def set_balance(self, owner: str, raw: int) -> None:
        """Give `owner` a raw token balance."""
        self.balances[owner.lower()] = raw

    def count(self, method: str, selector: bytes | None = None) -> int:
        """How many requests of `method` (and eth_call selector) arrived."""
        wanted = selector.hex() if selector else None
        return sum(1 for m, s in self.calls if m == method and (wanted is None or s == wanted))

    def handle(self, request: Request) -> Reply:
        body = request.json()
        method = body["method"]
        data = body["params"][0]["data"][2:] if method == "eth_call" else ""
        self.calls.append((method, data[:8]))
        if self.mode == "hang":
            return Reply(mode="hang")
        if self.mode == "down":
            return Reply(503, {"error": "unavailable"})
        if self.mode == "huge":
            return Reply(mode="huge_stream", huge_bytes=HUGE_BYTES)
        if method == "eth_chainId":
            return Reply(body={"jsonrpc": "2.0", "id": body["id"], "result": hex(self.chain_id)})
        if method != "eth_call":
            return Reply(body={"jsonrpc": "2.0", "id": body["id"], "error": {"code": -32601}})
        if self.mode == "no_code":
            result = b""
        elif data.startswith(DECIMALS.hex()):
            result = encode(["uint8"], [self.decimals])
        elif data.startswith(BALANCE_OF.hex()):
            (owner,) = decode(["address"], bytes.fromhex(data[8:]))
            result = encode(["uint256"], [self.balances.get(owner.lower(), 0)])
        else:
            return Reply(body={"jsonrpc": "2.0", "id": body["id"], "error": {"message": "revert"}})
        return Reply(body={"jsonrpc": "2.0", "id": body["id"], "result": "0x" + result.hex()})

    def close(self) -> None:
        self.server.stop()


@pytest.fixture
def token_chains() -> Iterator[dict[str, FakeTokenChain]]:
    """Fake sx_rollup (4162) and polygon (137) RPCs, each with one 6-decimal token."""
    fakes = {"sx_rollup": FakeTokenChain(4162), "polygon": FakeTokenChain(137)}
    yield fakes
    for fake in fakes.values():
        fake.close()


SX = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
AZURO = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def wallets(**changes: dict[str, Any]) -> dict[str, WalletConfig]:
    """The two default wallets on the fake token, with per-wallet field changes."""
    base = {
        "sx": {"address": SX, "chain": "sx_rollup", "token": "USDC", "decimals": 6},
        "azuro": {"address": AZURO, "chain": "polygon", "token": "USDT", "decimals": 6},
    }
    return {
        name: WalletConfig(token_address=TOKEN, **{**fields, **changes.get(name, {})})
        for name, fields in base.items()
    }
