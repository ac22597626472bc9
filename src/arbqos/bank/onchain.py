"""OnchainBank: ERC-20 `balanceOf` of every wallet, read over the read-only JSON-RPC client."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace

from eth_abi.exceptions import DecodingError

from arbqos.bank.base import (
    BALANCE_MAX_USD,
    DecimalsMismatch,
    error_text,
    implausible,
    units_from_raw,
    usd_value,
)
from arbqos.chain.abi import DECIMALS, decode_uint, encode_balance_of
from arbqos.chain.rpc import JsonRpcClient, RpcFailure
from arbqos.clock import Clock
from arbqos.config.schema import WalletConfig
from arbqos.registry.model import WalletBalance

logger = logging.getLogger(__name__)


class _WrongChain(Exception):
    """The RPC serves another chain than the wallet's."""


class OnchainBank:
    """Read each wallet's token balance on its chain; never signs, never sends.

    Before the first balance of a wallet is trusted, the RPC's chain id and the token's
    `decimals()` are checked against config until they agree once; a mismatch is an error
    naming the wallet, the configured and the on-chain value (the balance would be wrong), and
    is asked again at the next read, so one wrong answer never disables a wallet for good. A
    balance above `balance_max_usd` is an `implausible` read error, never a balance. Each
    wallet read is cut at `read_timeout_s`; wallets are read concurrently.

    >>> bank = OnchainBank(cfg.risk.wallets, clients, chain_ids={"polygon": 137, ...},
    ...                    clock=clock, read_timeout_s=10)
    >>> (await bank.read_balances())["azuro"].balance_usd
    412.5
    """

    def __init__(
        self,
        wallets: Mapping[str, WalletConfig],
        clients: Mapping[str, JsonRpcClient],
        *,
        chain_ids: Mapping[str, int],
        clock: Clock,
        read_timeout_s: float,
        balance_max_usd: float = BALANCE_MAX_USD,
    ) -> None:
        missing = sorted({w.chain for w in wallets.values()} - set(clients))
        if missing:
            raise ValueError(f"no RPC client for wallet chains {missing}; configure endpoints")
        self._wallets = dict(wallets)
        self._clients = dict(clients)
        self._chain_ids = dict(chain_ids)
        self._clock = clock
        self._timeout_s = read_timeout_s
        self._max_usd = balance_max_usd
        self._verified: set[str] = set()
        self._mismatch: dict[str, int] = {}
        """Wallet -> the wrong decimals() last seen, so each change is logged once."""

    async def read_balances(self) -> dict[str, WalletBalance]:
        """Read every wallet once; a failed read has `error` set and no balance."""
        names = list(self._wallets)
        results = await asyncio.gather(*(self._read(name) for name in names))
        return dict(zip(names, results, strict=True))

    async def _read(self, name: str) -> WalletBalance:
        wallet = self._wallets[name]
        failed = WalletBalance(
            wallet=name, chain=wallet.chain, token=wallet.token, balance_usd=None
        )
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._verify(name, wallet)
                rpc = self._clients[wallet.chain]
                raw = decode_uint(
                    await rpc.eth_call(wallet.token_address, encode_balance_of(wallet.address))
                )
        except TimeoutError:
            return _failed(failed, "timeout", f"no answer within {self._timeout_s:g} s")
        except RpcFailure as err:
            return _failed(failed, err.kind, str(err).partition(": ")[2] or str(err))
        except DecimalsMismatch as err:
            return _failed(failed, "decimals_mismatch", str(err))
        except _WrongChain as err:
            return _failed(failed, "wrong_chain", str(err))
        except DecodingError:
            detail = (
                f"{wallet.token} at {wallet.token_address} returned no uint256 (is it a token "
                f"contract on {wallet.chain}?)"
            )
            return _failed(failed, "bad_answer", detail)
        units = units_from_raw(raw, wallet.decimals)
        balance_usd = usd_value(wallet, units)
        problem = implausible(balance_usd, self._max_usd)
        if problem is not None:
            return replace(failed, error=problem)
        return WalletBalance(
            wallet=name,
            chain=wallet.chain,
            token=wallet.token,
            balance_usd=balance_usd,
            balance_units=units,
            observed_at=self._clock.now_utc(),
        )

    async def _verify(self, name: str, wallet: WalletConfig) -> None:
        """Check chain id and token decimals until they agree once; raise while they disagree."""
        if name in self._verified:
            return
        rpc = self._clients[wallet.chain]
        expected = self._chain_ids.get(wallet.chain)
        if expected is not None:
            served = await rpc.chain_id()
            if served != expected:
                raise _WrongChain(
                    f"wallet {name}: the {wallet.chain} RPC serves chain id {served}, config "
                    f"expects {expected}; fix endpoints.chains.{wallet.chain}"
                )
        onchain = decode_uint(await rpc.eth_call(wallet.token_address, DECIMALS))
        if onchain != wallet.decimals:
            mismatch = DecimalsMismatch(name, wallet.token, wallet.decimals, onchain)
            if self._mismatch.get(name) != onchain:
                logger.error("%s (asked again at the next read)", mismatch, extra={"wallet": name})
            self._mismatch[name] = onchain
            raise mismatch
        if self._mismatch.pop(name, None) is not None:
            logger.info(
                "wallet %s: decimals() = %d now matches the config; balances are read again",
                name,
                onchain,
                extra={"wallet": name},
            )
        self._verified.add(name)


def _failed(balance: WalletBalance, kind: str, detail: str) -> WalletBalance:
    return WalletBalance(
        wallet=balance.wallet,
        chain=balance.chain,
        token=balance.token,
        balance_usd=None,
        error=error_text(kind, detail),
    )
