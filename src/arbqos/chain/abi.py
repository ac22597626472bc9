"""ABI encodings arbqos reads with: ERC-20 balanceOf/decimals, Chainlink latestRoundData."""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi.abi import decode, encode
from eth_utils.crypto import keccak


def selector(signature: str) -> bytes:
    """Return the 4-byte function selector of `signature`, e.g. `balanceOf(address)`."""
    return bytes(keccak(text=signature)[:4])


BALANCE_OF = selector("balanceOf(address)")  # 0x70a08231
DECIMALS = selector("decimals()")  # 0x313ce567
LATEST_ROUND_DATA = selector("latestRoundData()")  # 0xfeaf968c


def encode_balance_of(owner: str) -> bytes:
    """Calldata of `balanceOf(owner)`."""
    return BALANCE_OF + encode(["address"], [owner])


def decode_uint(data: bytes) -> int:
    """Decode one uint256 return value."""
    (value,) = decode(["uint256"], data)
    return int(value)


@dataclass(frozen=True)
class RoundData:
    """`latestRoundData()` of a Chainlink aggregator (answer 0 = sequencer up, 1 = down)."""

    round_id: int
    answer: int
    started_at: int
    updated_at: int
    answered_in_round: int


def decode_latest_round_data(data: bytes) -> RoundData:
    """Decode the 5 words `(uint80, int256, uint256, uint256, uint80)`."""
    values = decode(["uint80", "int256", "uint256", "uint256", "uint80"], data)
    return RoundData(*(int(v) for v in values))
