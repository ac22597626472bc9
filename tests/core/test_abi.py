"""ABI helpers decode the documented Chainlink encodings and encode ERC-20 calls."""

from __future__ import annotations

import json

from arbqos.chain.abi import (
    BALANCE_OF,
    DECIMALS,
    LATEST_ROUND_DATA,
    decode_latest_round_data,
    decode_uint,
    encode_balance_of,
)
from tests.conftest import SAMPLES


def test_selectors_match_the_well_known_values() -> None:
    assert BALANCE_OF.hex() == "70a08231"
    assert DECIMALS.hex() == "313ce567"
    assert LATEST_ROUND_DATA.hex() == "feaf968c"


def test_latest_round_data_samples_decode_to_their_documented_values() -> None:
    sample = json.loads((SAMPLES / "chainlink" / "latest_round_data.json").read_text())
    assert sample["selector"].removeprefix("0x") == LATEST_ROUND_DATA.hex()
    examples = sample["examples"]
    assert examples
    for example in examples.values() if isinstance(examples, dict) else examples:
        raw = bytes.fromhex(example["response"]["result"].removeprefix("0x"))
        decoded = decode_latest_round_data(raw)
        expected = example["decoded"]
        assert decoded.answer == int(expected["answer"])
        assert decoded.started_at == int(expected["startedAt"])
        assert decoded.updated_at == int(expected["updatedAt"])
        assert decoded.round_id == int(expected["roundId"])
        assert decoded.updated_at == decoded.started_at + 3


def test_balance_of_calldata_and_uint_decoding() -> None:
    owner = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    data = encode_balance_of(owner)
    assert data[:4] == BALANCE_OF
    assert data[4:].hex() == owner[2:].lower().rjust(64, "0")
    assert decode_uint((15_000_000).to_bytes(32, "big")) == 15_000_000
