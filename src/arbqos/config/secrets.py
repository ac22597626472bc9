"""Spot private keys and mnemonics in configuration, so they are refused and never echoed."""

from __future__ import annotations

import re
from typing import Any

_SECRET_KEY_NAME = re.compile(
    r"(private[_-]?key|priv[_-]?key|secret[_-]?key|signing[_-]?key|mnemonic|seed[_-]?phrase|"
    r"seed[_-]?words|keystore|wallet[_-]?key)",
    re.IGNORECASE,
)
_HEX_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_MNEMONIC = re.compile(r"^([a-z]{3,8}\s+){11,23}[a-z]{3,8}$", re.IGNORECASE)
_ADDRESS_BITS = 160

KEY_BY_NAME = (
    "this key name is for a private key or mnemonic: arbqos never needs one (it only reads "
    "balances and never signs or sends a transaction); remove it from the configuration"
)
KEY_BY_VALUE = (
    "this value looks like a private key or mnemonic (not shown): arbqos never needs one (it "
    "only reads balances and never signs); remove it and rotate the key if it was ever shared"
)


def is_secret_name(key: str) -> bool:
    """Tell whether a key name asks for a private key, mnemonic or keystore."""
    return bool(_SECRET_KEY_NAME.search(key))


def looks_like_secret(value: Any) -> bool:
    """Tell whether a value (searched through lists and mappings) holds key material.

    Catches 64 hex digits (with or without `0x`), 12 to 24 short words, and integers wider
    than an address: YAML reads an unquoted `0x<64 hex>` as an integer.
    """
    if isinstance(value, str):
        text = value.strip()
        return bool(_HEX_KEY.match(text) or _MNEMONIC.match(text))
    if isinstance(value, int) and not isinstance(value, bool):
        return value.bit_length() > _ADDRESS_BITS
    if isinstance(value, dict):
        return any(looks_like_secret(k) or looks_like_secret(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(looks_like_secret(item) for item in value)
    return False


_HEX_KEY_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(0x)?[0-9a-fA-F]{64}(?![0-9A-Za-z])")
_MNEMONIC_IN_TEXT = re.compile(r"(?<![A-Za-z])([A-Za-z]{3,8}[ \t]+){11,}[A-Za-z]{3,8}(?![A-Za-z])")


def mentions_secret(value: Any) -> bool:
    """Like `looks_like_secret`, but also finds key material inside longer text (for echoes)."""
    if isinstance(value, str):
        return bool(_HEX_KEY_IN_TEXT.search(value) or _MNEMONIC_IN_TEXT.search(value))
    if isinstance(value, dict):
        return any(mentions_secret(k) or mentions_secret(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(mentions_secret(item) for item in value)
    return looks_like_secret(value)
