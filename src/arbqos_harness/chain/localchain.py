"""Local anvil chains for tests and the demo: real chain ids, test tokens, a sequencer feed.

This module is a TEST AND DEMO HARNESS. Its `AnvilAdmin` client sends transactions and
anvil-only admin calls (mining control, impersonation, state dumps) with anvil's unlocked
development account. arbqos services never import it: they read chains through the
read-only `arbqos.chain.rpc.JsonRpcClient`.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from pydantic import BaseModel

from arbqos.chain.abi import encode_balance_of, selector
from arbqos.config.schema import ArbqosConfig
from arbqos.net import LOOPBACK
from arbqos.vocab import Chain
from arbqos_harness.chain.solc import compile_bundled
from arbqos_harness.process import ManagedProcess, find_tool, free_port

logger = logging.getLogger(__name__)

LOCAL_CHAIN_IDS: dict[str, int] = {"sx_rollup": 4162, "arbitrum": 42161, "polygon": 137}
"""The real chain ids, so chain-id checks behave as in production."""
DEV_ACCOUNTS: tuple[str, ...] = (
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
)
"""anvil's first development accounts (its default mnemonic); 0 deploys, 1 and 2 are wallets."""
DEPLOYER = DEV_ACCOUNTS[0]
WALLETS: dict[str, tuple[str, str]] = {
    "sx": ("sx_rollup", DEV_ACCOUNTS[1]),
    "azuro": ("polygon", DEV_ACCOUNTS[2]),
}
"""venue -> (chain, address) of the wallets the default config watches."""
TOKENS: dict[str, tuple[str, str]] = {
    "sx_rollup": ("USD Coin (local)", "USDC"),
    "polygon": ("Tether USD (local)", "USDT"),
}
TOKEN_DECIMALS = 6
FEED_CHAIN = "arbitrum"
DEFAULT_BLOCK_TIMES: dict[str, float | None] = {"sx_rollup": None, "arbitrum": 1.0, "polygon": 2.0}
"""Seconds between empty blocks; None = blocks only when a transaction arrives (like SX Rollup).
Transactions are always mined at once."""
CLOSED_LOOPBACK_URL = "http://127.0.0.1:9"

_MINT = selector("mint(address,uint256)")
_TRANSFER = selector("transfer(address,uint256)")
_SET_STATUS = selector("setStatus(int256,uint256)")


class AdminRpcError(RuntimeError):
    """An anvil admin call failed (test harness only)."""


class AnvilAdmin:
    """Synchronous JSON-RPC client for anvil that MAY write: test and demo harness only.

    >>> admin = AnvilAdmin("http://127.0.0.1:8545")
    >>> admin.call("evm_mine")
    """

    def __init__(self, url: str, *, timeout_s: float = 10.0) -> None:
        self.url = url
        self._http = httpx.Client(timeout=timeout_s)
        self._ids = 0
        self._lock = threading.Lock()

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """Send one call and return its result."""
        return self.batch([(method, params)])[0]

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Send several calls in one JSON-RPC batch; return the results in order."""
        with self._lock:
            first = self._ids
            self._ids += len(calls)
        body = [
            {"jsonrpc": "2.0", "id": first + i, "method": m, "params": list(p)}
            for i, (m, p) in enumerate(calls)
        ]
        try:
            response = self._http.post(self.url, json=body if len(body) > 1 else body[0])
            answer = response.json()
        except (httpx.HTTPError, ValueError) as err:
            raise AdminRpcError(f"{calls[0][0]}: {type(err).__name__}: {err}") from err
        answers = answer if isinstance(answer, list) else [answer]
        by_id = {a.get("id"): a for a in answers}
        results = []
        for i, (method, _) in enumerate(calls):
            item = by_id.get(first + i, {})
            if "error" in item or "result" not in item:
                raise AdminRpcError(f"{method}: {item.get('error', item)}")
            results.append(item["result"])
        return results

    def transact(
        self, sender: str, to: str | None, data: bytes, *, timeout_s: float = 15.0
    ) -> dict[str, Any]:
        """Send a transaction from an unlocked account, wait for its receipt, check success."""
        tx: dict[str, str] = {"from": sender, "data": "0x" + data.hex()}
        if to is not None:
            tx["to"] = to
        # anvil's estimate has no margin: a storage write whose cost depends on the block
        # (e.g. `updatedAt = block.timestamp`) can run out of gas in the next block.
        estimate = int(self.call("eth_estimateGas", [tx]), 16)
        tx["gas"] = hex(estimate * 5 // 4 + 25_000)
        tx_hash = self.call("eth_sendTransaction", [tx])
        deadline = time.monotonic() + timeout_s
        while True:
            receipt = self.call("eth_getTransactionReceipt", [tx_hash])
            if receipt is not None:
                break
            if time.monotonic() > deadline:
                raise AdminRpcError(f"no receipt for {tx_hash} after {timeout_s} s (stalled?)")
            time.sleep(0.02)
        if int(receipt["status"], 16) != 1:
            raise AdminRpcError(f"transaction {tx_hash} reverted")
        return dict(receipt)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()


class _BlockTicker(threading.Thread):
    """Mines an empty block every `interval_s` unless paused (anvil itself automines txs)."""

    def __init__(self, url: str, interval_s: float) -> None:
        super().__init__(name=f"anvil-ticker-{url}", daemon=True)
        self._admin = AnvilAdmin(url, timeout_s=2.0)
        self._interval_s = interval_s
        self._halt = threading.Event()
        self.paused = threading.Event()

    def run(self) -> None:
        next_at = time.monotonic() + self._interval_s
        while not self._halt.wait(max(next_at - time.monotonic(), 0.0)):
            next_at += self._interval_s
            if self.paused.is_set():
                continue
            try:
                self._admin.call("evm_mine")
            except AdminRpcError as err:
                logger.debug("block ticker: %s", err)
        self._admin.close()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


@dataclass
class _Node:
    """One anvil process and what the harness knows about it."""

    chain: str
    port: int
    block_time_s: float | None
    work_dir: Path
    process: ManagedProcess | None = None
    admin: AnvilAdmin | None = None
    ticker: _BlockTicker | None = None
    stalled: bool = False
    counted: tuple[int, int] = (-1, 0)
    """(last block counted, transactions in blocks 0..last) for `tx_count`."""
    restarts: int = field(default=0)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def state_file(self) -> Path:
        return self.work_dir / f"{self.chain}.state.json"


def to_raw(amount: Decimal | float | int | str, decimals: int = TOKEN_DECIMALS) -> int:
    """Convert token units (e.g. 20.5 USDC) to the integer amount on chain."""
    raw = Decimal(str(amount)) * (Decimal(10) ** decimals)
    if raw != raw.to_integral_value() or raw < 0:
        raise ValueError(f"{amount} is not a non-negative multiple of 10^-{decimals}")
    return int(raw)


class LocalChains:
    """anvil nodes with the real chain ids, USDC/USDT test tokens and a sequencer uptime feed.

    >>> with LocalChains.start(tmp_path) as chains:
    ...     chains.mint("sx_rollup", WALLETS["sx"][1], 100)
    ...     config = chains.config()   # endpoints, wallets and feed point at these nodes
    """

    def __init__(self, work_dir: Path, nodes: dict[str, _Node], startup_timeout_s: float) -> None:
        self.work_dir = work_dir
        self._nodes = nodes
        self._startup_timeout_s = startup_timeout_s
        self.created_at = time.time()
        """Wall-clock time the nodes were set up; no block of theirs is older."""
        self.tokens: dict[str, str] = {}
        """chain -> address of its test stablecoin (sx_rollup USDC, polygon USDT)."""
        self.feed: str | None = None
        """Address of the sequencer uptime feed on arbitrum."""

    @classmethod
    def start(
        cls,
        work_dir: Path,
        *,
        chains: Iterable[str] = tuple(Chain),
        block_times: Mapping[str, float | None] | None = None,
        cache_dir: Path | None = None,
        startup_timeout_s: float = 30.0,
    ) -> LocalChains:
        """Start one anvil per chain on free loopback ports, deploy the contracts, return.

        Args:
            work_dir: where node logs and saved states go.
            chains: any of sx_rollup, arbitrum, polygon.
            block_times: per chain, seconds between empty blocks (None: only on transactions);
                missing chains use DEFAULT_BLOCK_TIMES.
            cache_dir: compiled-contract cache (default ~/.cache/arbqos/solc).
        """
        times = {**DEFAULT_BLOCK_TIMES, **(block_times or {})}
        nodes: dict[str, _Node] = {}
        for chain in chains:
            if chain not in LOCAL_CHAIN_IDS:
                raise ValueError(
                    f"unknown chain {chain!r}; expected one of {list(LOCAL_CHAIN_IDS)}"
                )
            nodes[chain] = _Node(chain, free_port(), times.get(chain), work_dir)
        local = cls(work_dir, nodes, startup_timeout_s)
        try:
            artifacts = compile_bundled(cache_dir)
            for node in nodes.values():
                local._launch(node)
            for node in nodes.values():
                local._wait_ready(node)
            local._deploy(
                artifacts["TestStablecoin"].bytecode, artifacts["TestSequencerFeed"].bytecode
            )
            for node in nodes.values():
                local._start_ticker(node)
        except BaseException:
            local.stop()
            raise
        return local

    @property
    def chains(self) -> tuple[str, ...]:
        """The chains running."""
        return tuple(self._nodes)

    def rpc_url(self, chain: str) -> str:
        """Loopback RPC URL of `chain`."""
        return self._node(chain).url

    def chain_id(self, chain: str) -> int:
        """The chain id `chain` serves (the real one)."""
        return LOCAL_CHAIN_IDS[self._node(chain).chain]

    def pid(self, chain: str) -> int:
        """PID of the anvil process of `chain`."""
        process = self._node(chain).process
        if process is None or not process.alive():
            raise RuntimeError(f"{chain} node is not running")
        return process.pid

    def admin(self, chain: str) -> AnvilAdmin:
        """The write-capable harness client of `chain` (never give it to arbqos code)."""
        admin = self._node(chain).admin
        if admin is None:
            raise RuntimeError(f"{chain} node is not running")
        return admin

    # --- tokens and feed -------------------------------------------------------------

    def mint(self, chain: str, to: str, amount: Decimal | float | int | str) -> None:
        """Mint `amount` token units of `chain`'s stablecoin to `to` (as the deployer)."""
        data = _MINT + encode(["address", "uint256"], [to, to_raw(amount)])
        self.admin(chain).transact(DEPLOYER, self._token(chain), data)

    def transfer_from_wallet(
        self, chain: str, from_: str, to: str, amount: Decimal | float | int | str
    ) -> None:
        """Move `amount` token units from `from_` (impersonated) to `to`."""
        admin = self.admin(chain)
        data = _TRANSFER + encode(["address", "uint256"], [to, to_raw(amount)])
        unlocked = from_.lower() in (a.lower() for a in DEV_ACCOUNTS)
        if not unlocked:
            admin.call("anvil_impersonateAccount", [from_])
            admin.call("anvil_setBalance", [from_, hex(10**18)])
        try:
            admin.transact(from_, self._token(chain), data)
        finally:
            if not unlocked:
                admin.call("anvil_stopImpersonatingAccount", [from_])

    def token_balance(self, chain: str, owner: str) -> Decimal:
        """Balance of `owner` in token units, read with the harness client."""
        call = {"to": self._token(chain), "data": "0x" + encode_balance_of(owner).hex()}
        raw = int(self.admin(chain).call("eth_call", [call, "latest"]), 16)
        return Decimal(raw) / (Decimal(10) ** TOKEN_DECIMALS)

    def set_token_balance(
        self, chain: str, owner: str, amount: Decimal | float | int | str, *, sink: str = DEPLOYER
    ) -> None:
        """Make `owner` hold exactly `amount`: mint the shortfall or send the excess to `sink`."""
        target = Decimal(str(amount))
        current = self.token_balance(chain, owner)
        if target > current:
            self.mint(chain, owner, target - current)
        elif target < current:
            self.transfer_from_wallet(chain, owner, sink, current - target)

    def set_feed(self, answer: int, started_at: int | None = None) -> None:
        """Set the uptime feed: answer 0 = sequencer up, 1 = down; started_at defaults to now."""
        if self.feed is None:
            raise RuntimeError("no sequencer feed: start LocalChains with the arbitrum chain")
        when = int(time.time()) if started_at is None else started_at
        data = _SET_STATUS + encode(["int256", "uint256"], [answer, when])
        self.admin(FEED_CHAIN).transact(DEPLOYER, self.feed, data)

    # --- blocks, stalls and outages ---------------------------------------------------

    def mine(self, chain: str, blocks: int = 1) -> None:
        """Mine `blocks` blocks at once (works while stalled)."""
        self.admin(chain).call("anvil_mine", [hex(blocks)])

    def increase_time(self, chain: str, seconds: int) -> None:
        """Move `chain`'s clock forward; the next block carries the later timestamp."""
        self.admin(chain).call("evm_increaseTime", [seconds])

    def stall(self, chain: str) -> None:
        """Stop producing blocks on `chain` (transactions stay pending); the RPC still answers."""
        node = self._node(chain)
        node.stalled = True
        if node.ticker is not None:
            node.ticker.paused.set()
        self.admin(chain).call("evm_setAutomine", [False])

    def resume(self, chain: str) -> None:
        """Produce blocks again after `stall`; pending transactions are mined at once."""
        node = self._node(chain)
        admin = self.admin(chain)
        admin.call("evm_setAutomine", [True])
        if int(admin.call("txpool_status")["pending"], 16):
            admin.call("evm_mine")
        node.stalled = False
        if node.ticker is not None:
            node.ticker.paused.clear()

    def stop_node(self, chain: str) -> None:
        """Take `chain`'s RPC down (the process exits; its state is kept for `start_node`)."""
        node = self._node(chain)
        if node.process is None:
            return
        if node.ticker is not None:
            node.ticker.paused.set()
        if node.admin is not None:
            with contextlib.suppress(AdminRpcError):
                dumped = node.admin.call("anvil_dumpState")
                node.state_file.write_bytes(gzip.decompress(bytes.fromhex(dumped[2:])))
            node.admin.close()
            node.admin = None
        node.process.stop()
        node.process = None

    def start_node(self, chain: str) -> None:
        """Bring `chain` back on the same port with the state it had when stopped."""
        node = self._node(chain)
        if node.process is not None and node.process.alive():
            return
        node.restarts += 1
        self._launch(node)
        self._wait_ready(node)
        if node.stalled:
            self.admin(chain).call("evm_setAutomine", [False])
        elif node.ticker is not None:
            node.ticker.paused.clear()

    def tx_count(self, chain: str) -> int:
        """Transactions on `chain`: every one in blocks 0..latest plus those still pending."""
        node = self._node(chain)
        admin = self.admin(chain)
        latest = int(admin.call("eth_blockNumber"), 16)
        last, total = node.counted
        for start in range(last + 1, latest + 1, 200):
            numbers = range(start, min(start + 200, latest + 1))
            calls = [("eth_getBlockTransactionCountByNumber", [hex(n)]) for n in numbers]
            total += sum(int(c, 16) for c in admin.batch(calls))
        node.counted = (latest, total)
        pool = admin.call("txpool_status")
        return total + int(pool["pending"], 16) + int(pool["queued"], 16)

    # --- config ------------------------------------------------------------------------

    def config(self, base: ArbqosConfig | None = None) -> ArbqosConfig:
        """Return `base` (default: built-in defaults) pointed at these nodes and contracts.

        Chains not running are disabled and point at a closed loopback port.
        """
        base = base or ArbqosConfig()
        chains = {}
        for name, endpoint in base.endpoints.chains.items():
            if name in self._nodes:
                update: dict[str, Any] = {"rpc_urls": [self.rpc_url(name)], "enabled": True}
            else:
                update = {"rpc_urls": [CLOSED_LOOPBACK_URL], "enabled": False}
            update["chain_id"] = LOCAL_CHAIN_IDS[name]
            chains[name] = endpoint.model_copy(update=update)
        wallets = {}
        for venue, wallet in base.risk.wallets.items():
            token = self.tokens.get(wallet.chain)
            wallets[venue] = wallet.model_copy(
                update={"token_address": token, "decimals": TOKEN_DECIMALS} if token else {}
            )
        endpoint_update: dict[str, Any] = {"chains": chains}
        if self.feed is not None:
            endpoint_update["sequencer_uptime_feed"] = self.feed
        return base.model_copy(
            update={
                "endpoints": base.endpoints.model_copy(update=endpoint_update),
                "risk": base.risk.model_copy(update={"wallets": wallets}),
            }
        )

    def overrides(self, base: ArbqosConfig | None = None) -> list[str]:
        """The settings of `config(base)` as `--set section.key=value` strings.

        Every leaf of each chain endpoint and wallet entry is given, since a mapping entry set
        from the command line replaces the built-in one as a whole.
        """
        config = self.config(base)
        entries: list[tuple[str, BaseModel]] = [
            *((f"endpoints.chains.{n}", e) for n, e in config.endpoints.chains.items()),
            *((f"risk.wallets.{n}", w) for n, w in config.risk.wallets.items()),
        ]
        sets = []
        for prefix, entry in entries:
            for key, value in entry.model_dump(mode="json").items():
                sets.append(f"{prefix}.{key}={_cli_value(value)}")
        sets.append(f"endpoints.sequencer_uptime_feed={config.endpoints.sequencer_uptime_feed}")
        return sets

    # --- lifecycle ---------------------------------------------------------------------

    def stop(self) -> None:
        """Stop every node (by PID) and its block ticker."""
        for node in self._nodes.values():
            if node.ticker is not None:
                node.ticker.stop()
                node.ticker = None
            if node.admin is not None:
                node.admin.close()
                node.admin = None
            if node.process is not None:
                node.process.stop()
                node.process = None

    def __enter__(self) -> LocalChains:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- internals ---------------------------------------------------------------------

    def _node(self, chain: str) -> _Node:
        try:
            return self._nodes[chain]
        except KeyError:
            raise ValueError(
                f"chain {chain!r} is not running; running: {list(self._nodes)}"
            ) from None

    def _token(self, chain: str) -> str:
        try:
            return self.tokens[chain]
        except KeyError:
            raise ValueError(
                f"no test token on {chain!r}; tokens on: {list(self.tokens)}"
            ) from None

    def _launch(self, node: _Node) -> None:
        argv = [
            find_tool("anvil"),
            "--host",
            LOOPBACK,
            "--port",
            str(node.port),
            "--chain-id",
            str(LOCAL_CHAIN_IDS[node.chain]),
        ]
        if node.restarts and node.state_file.exists():
            argv += ["--load-state", str(node.state_file)]
        node.process = ManagedProcess(f"anvil-{node.chain}", argv, self.work_dir).start()

    def _wait_ready(self, node: _Node) -> None:
        assert node.process is not None
        admin = AnvilAdmin(node.url, timeout_s=2.0)
        deadline = time.monotonic() + self._startup_timeout_s
        while True:
            try:
                chain_id = int(admin.call("eth_chainId"), 16)
                break
            except AdminRpcError:
                if not node.process.alive() or time.monotonic() > deadline:
                    admin.close()
                    raise RuntimeError(
                        f"anvil for {node.chain} on port {node.port} did not start:\n"
                        + node.process.tail()
                    ) from None
                time.sleep(0.05)
        admin.close()
        if chain_id != LOCAL_CHAIN_IDS[node.chain]:
            raise RuntimeError(f"{node.chain}: port {node.port} serves chain id {chain_id}")
        node.admin = AnvilAdmin(node.url)

    def _deploy(self, token_code: bytes, feed_code: bytes) -> None:
        for chain, (name, symbol) in TOKENS.items():
            if chain in self._nodes:
                args = encode(["string", "string", "uint8"], [name, symbol, TOKEN_DECIMALS])
                receipt = self.admin(chain).transact(DEPLOYER, None, token_code + args)
                self.tokens[chain] = _checksum(receipt["contractAddress"])
        if FEED_CHAIN in self._nodes:
            args = encode(["int256", "uint256"], [0, int(time.time()) - 86400])
            receipt = self.admin(FEED_CHAIN).transact(DEPLOYER, None, feed_code + args)
            self.feed = _checksum(receipt["contractAddress"])

    def _start_ticker(self, node: _Node) -> None:
        if node.block_time_s is not None:
            node.ticker = _BlockTicker(node.url, node.block_time_s)
            node.ticker.start()


def _cli_value(value: Any) -> str:
    """Render one config leaf the way `--set` parses it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def _checksum(address: str) -> str:
    return str(to_checksum_address(address))
