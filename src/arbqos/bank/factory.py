"""Build the bank source named by `risk.bank_source`."""

from __future__ import annotations

import httpx

from arbqos.bank.onchain import OnchainBank
from arbqos.bank.static import StaticBank
from arbqos.chain.rpc import JsonRpcClient
from arbqos.clock import Clock
from arbqos.config.schema import ArbqosConfig, ChainEndpoint, WalletConfig
from arbqos.registry.model import BankSource


def build_bank(config: ArbqosConfig, *, http: httpx.AsyncClient, clock: Clock) -> BankSource:
    """Return an `OnchainBank` or a `StaticBank` for the configured wallets.

    Raises:
        ValueError: for a source arbqos cannot read (`venue_api`: no venue documents one).
    """
    risk = config.risk
    wallets: dict[str, WalletConfig] = {str(name): w for name, w in risk.wallets.items()}
    if risk.bank_source == "static":
        return StaticBank(wallets, clock=clock)
    if risk.bank_source != "onchain":
        raise ValueError(
            f"risk.bank_source = {risk.bank_source!r} cannot be read; use onchain or static"
        )
    timeout_s = config.balance_watcher.read_timeout_s
    chains: dict[str, ChainEndpoint] = {str(n): e for n, e in config.endpoints.chains.items()}
    clients: dict[str, JsonRpcClient] = {
        name: JsonRpcClient(
            chains[name].rpc_urls,
            chain=name,
            http=http,
            timeout_s=timeout_s,
            max_response_bytes=config.endpoints.response_max_bytes,
        )
        for name in sorted({w.chain for w in wallets.values()})
    }
    return OnchainBank(
        wallets,
        clients,
        chain_ids={name: chains[name].chain_id for name in clients},
        clock=clock,
        read_timeout_s=timeout_s,
        balance_max_usd=config.balance_watcher.balance_max_usd,
    )
