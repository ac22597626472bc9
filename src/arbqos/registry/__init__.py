"""RuntimeRegistry: live chain health, gas and balances, local or served by the orchestrator."""

from arbqos.registry.local import RuntimeRegistry
from arbqos.registry.model import (
    BankSource,
    ChainHealth,
    RegistrySnapshot,
    RuntimeRegistryAPI,
    SequencerStatus,
    WalletBalance,
)
from arbqos.registry.remote import RemoteRegistryError, RemoteRuntimeRegistry

__all__ = [
    "BankSource",
    "ChainHealth",
    "RegistrySnapshot",
    "RemoteRegistryError",
    "RemoteRuntimeRegistry",
    "RuntimeRegistry",
    "RuntimeRegistryAPI",
    "SequencerStatus",
    "WalletBalance",
]
