"""Cryptocurrency addresses: kept only when a checksum says they are real.

Vectors: the Bitcoin genesis address and the P2SH example from the Bitcoin wiki; BIP-173 and
BIP-350 segwit vectors; EIP-55's own examples. Other valid addresses are built from random
payloads with the encoders.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brightline.text.crypto_addresses import (
    BASE58_VERSIONS,
    base58check_decode,
    base58check_encode,
    eip55_checksum,
    ethereum_status,
    find_crypto_addresses,
    segwit_decode,
    segwit_encode,
)

GENESIS = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
P2SH = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
P2WPKH = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
P2WSH = "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3"
TAPROOT = "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"
EIP55 = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


def found(text: str) -> list[tuple[str, str, str, bool]]:
    return [
        (address.network, address.kind, text[address.start : address.end], address.checked)
        for address in find_crypto_addresses(text)
    ]


def test_base58check_vectors() -> None:
    assert found(f"send to {GENESIS} or {P2SH}.") == [
        ("bitcoin", "p2pkh", GENESIS, True),
        ("bitcoin", "p2sh", P2SH, True),
    ]


def test_base58check_rejects_a_changed_character() -> None:
    broken = GENESIS[:-1] + ("b" if GENESIS[-1] != "b" else "c")
    assert base58check_decode(broken) is None
    assert found(broken) == []


@given(version=st.sampled_from(sorted(BASE58_VERSIONS)), digest=st.binary(min_size=20, max_size=20))
def test_any_versioned_payload_round_trips(version: int, digest: bytes) -> None:
    address = base58check_encode(bytes([version]) + digest)
    network, kind = BASE58_VERSIONS[version]
    assert found(f"x {address} y") == [(network, kind, address, True)]


@pytest.mark.parametrize(
    ("address", "version", "size"),
    [
        (P2WPKH, 0, 20),
        (P2WPKH.upper(), 0, 20),
        (P2WSH, 0, 32),
        (TAPROOT, 1, 32),
        ("BC1SW50QGDZ25J", 16, 2),
        ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", 2, 16),
    ],
)
def test_segwit_vectors(address: str, version: int, size: int) -> None:
    decoded = segwit_decode(address)
    assert decoded is not None
    assert decoded[0] == "bc"
    assert decoded[1:] == (version, decoded[2])
    assert len(decoded[2]) == size


@pytest.mark.parametrize(
    "address",
    [
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",  # bad checksum
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",  # v0 with a bech32m checksum (BIP-350)
        "bc1QW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",  # mixed case
    ],
)
def test_segwit_invalid(address: str) -> None:
    assert segwit_decode(address) is None
    assert found(address) == []


def test_segwit_kinds_and_networks() -> None:
    litecoin = segwit_encode("ltc", 0, bytes(range(20)))
    testnet = segwit_encode("tb", 0, bytes(range(20)))
    text = f"{P2WPKH} {P2WSH} {TAPROOT} {litecoin} {testnet}"
    assert [(network, kind) for network, kind, _, _ in found(text)] == [
        ("bitcoin", "p2wpkh"),
        ("bitcoin", "p2wsh"),
        ("bitcoin", "taproot"),
        ("litecoin", "p2wpkh"),
    ]


@given(version=st.integers(1, 16), program=st.binary(min_size=2, max_size=40))
def test_segwit_round_trips(version: int, program: bytes) -> None:
    assert segwit_decode(segwit_encode("bc", version, program)) == ("bc", version, program)


@pytest.mark.parametrize("address", EIP55)
def test_eip55_vectors(address: str) -> None:
    assert eip55_checksum(address.lower()) == address
    assert ethereum_status(address) is True
    assert found(address) == [("ethereum", "eip55", address, True)]


def test_eip55_single_case_is_valid_but_unchecked_and_a_wrong_case_is_dropped() -> None:
    lower = EIP55[0].lower()
    upper = "0x" + EIP55[0][2:].upper()
    flipped = EIP55[0][:-1] + EIP55[0][-1].swapcase()
    assert found(f"{lower} {upper} {flipped}") == [
        ("ethereum", "unchecked", lower, False),
        ("ethereum", "unchecked", upper, False),
    ]
    [unchecked] = list(find_crypto_addresses(lower))
    assert unchecked.confidence < 0.99


def test_addresses_inside_longer_words_are_not_taken() -> None:
    assert found(f"x{GENESIS}") == []
    assert found(f"{EIP55[0]}ff") == []
