"""The balance watcher cannot move funds: write calls never leave the process; no key, no bridge."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import arbqos
from arbqos.chain.rpc import JsonRpcClient
from arbqos.errors import ForbiddenRpcMethod
from tests.probes.fakes import LoopbackServer, Reply, Request

WRITE_METHODS = (
    "eth_sendTransaction",
    "eth_sendRawTransaction",
    "eth_sign",
    "eth_signTransaction",
    "eth_signTypedData",
    "eth_signTypedData_v3",
    "eth_signTypedData_v4",
    "personal_sign",
    "personal_unlockAccount",
    "personal_sendTransaction",
    "personal_importRawKey",
    "personal_newAccount",
    "eth_sendUserOperation",
    "wallet_sendCalls",
    "wallet_addEthereumChain",
    "anvil_impersonateAccount",
    "anvil_setBalance",
    "hardhat_impersonateAccount",
    "evm_mine",
)
PACKAGE = Path(arbqos.__file__).parent
WATCHER_MODULES = sorted(
    [
        *PACKAGE.joinpath("bank").glob("*.py"),
        PACKAGE / "probes" / "balances.py",
        PACKAGE / "probes" / "balance_main.py",
    ]
)


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[Request]]]:
    """A loopback JSON-RPC endpoint that records every request it receives."""

    def answer(request: Request) -> Reply:
        return Reply(body={"jsonrpc": "2.0", "id": request.json()["id"], "result": "0x89"})

    with LoopbackServer(answer) as server:
        yield server.url, server.requests


async def test_rpc_client_refuses_every_write_method_before_sending(
    recorder: tuple[str, list[Request]],
) -> None:
    url, received = recorder
    async with httpx.AsyncClient() as http:
        rpc = JsonRpcClient([url], chain="polygon", http=http)
        for method in WRITE_METHODS:
            with pytest.raises(ForbiddenRpcMethod, match=method):
                await rpc.call(method, [{"from": "0x" + "11" * 20, "to": "0x" + "22" * 20}])
        assert received == [], "a write method reached the endpoint"
        assert await rpc.chain_id() == 137  # the endpoint does record what is sent
    assert [r.json()["method"] for r in received] == ["eth_chainId"]


@pytest.mark.parametrize("path", WATCHER_MODULES, ids=lambda p: p.name)
def test_watcher_code_has_no_signing_sending_or_bridging(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert not any(
        "localchain" in name or "eth_account" in name or "web3" in name for name in imported
    )
    strings = [
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
    }
    forbidden = ("eth_send", "eth_sign", "personal_", "sendTransaction", "private_key", "mnemonic")
    assert not [s for s in strings if any(f in s for f in forbidden)]
    assert not [n for n in names if re.search(r"bridge|sign(?!al)", n.lower())]
