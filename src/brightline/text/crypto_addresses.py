"""Cryptocurrency addresses in text, kept only when their checksum says they are real.

A random 34-character word is rarely a valid address by chance: Base58Check carries a 32-bit
checksum, bech32/bech32m a 30-bit one, and mixed-case Ethereum addresses an EIP-55 checksum in
the letter case. An all-lowercase (or all-uppercase) Ethereum address carries no checksum at all;
it is reported as ``unchecked`` with a lower confidence.

Base58Check and bech32/bech32m are short, fully specified algorithms and are implemented here
(after BIP-173/BIP-350's reference code); Keccak-256 for EIP-55 comes from pycryptodome, because
Python's ``hashlib.sha3_256`` is the later NIST SHA-3, not the Keccak that Ethereum uses.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from Crypto.Hash import keccak

CHECKED_CONFIDENCE = 0.99
UNCHECKED_CONFIDENCE = 0.6

_BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {ch: index for index, ch in enumerate(_BASE58_ALPHABET)}

# Version byte → (network, address type), for 21-byte payloads (version + 20-byte hash).
BASE58_VERSIONS: dict[int, tuple[str, str]] = {
    0x00: ("bitcoin", "p2pkh"),
    0x05: ("bitcoin", "p2sh"),
    0x30: ("litecoin", "p2pkh"),
    0x32: ("litecoin", "p2sh"),
    0x1E: ("dogecoin", "p2pkh"),
    0x16: ("dogecoin", "p2sh"),
    0x41: ("tron", "address"),
}
# Human-readable part of a segwit address → network.
SEGWIT_HRPS: dict[str, str] = {"bc": "bitcoin", "ltc": "litecoin"}

_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_CONST = 1
_BECH32M_CONST = 0x2BC830A3
_BECH32_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)

_BASE58_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])[1-9A-HJ-NP-Za-km-z]{26,35}+(?![0-9A-Za-z])")
_SEGWIT_CANDIDATE = re.compile(
    r"(?<![0-9A-Za-z])(?:bc|ltc)1[02-9ac-hj-np-z]{6,87}+(?![0-9A-Za-z])", re.IGNORECASE
)
# Every address has at least 14 letters and digits in a row (the shortest segwit address).
_LONG_WORD = re.compile(r"[0-9A-Za-z]{14}")
_ETHEREUM_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])0x[0-9a-fA-F]{40}(?![0-9A-Za-z])")


@dataclass(frozen=True, slots=True)
class CryptoAddress:
    """An address found in text: ``kind`` is e.g. ``p2pkh``, ``taproot``, ``eip55``."""

    network: str
    kind: str
    address: str
    start: int
    end: int
    checked: bool

    @property
    def confidence(self) -> float:
        return CHECKED_CONFIDENCE if self.checked else UNCHECKED_CONFIDENCE


# -- Base58Check -------------------------------------------------------------------------------


def base58check_decode(text: str) -> bytes | None:
    """The payload (version byte included) if ``text`` is valid Base58Check, else None."""
    number = 0
    for ch in text:
        digit = _BASE58_INDEX.get(ch)
        if digit is None:
            return None
        number = number * 58 + digit
    leading_zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    raw = b"\x00" * leading_zeros + body
    if len(raw) < 5:
        return None
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        return None
    return payload


def base58check_encode(payload: bytes) -> str:
    """Base58Check of ``payload`` (used by tests to build valid addresses)."""
    raw = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    number = int.from_bytes(raw, "big")
    out = []
    while number:
        number, digit = divmod(number, 58)
        out.append(_BASE58_ALPHABET[digit])
    leading_zeros = len(raw) - len(raw.lstrip(b"\x00"))
    return "1" * leading_zeros + "".join(reversed(out))


# -- bech32 / bech32m (BIP-173, BIP-350) ------------------------------------------------------


def _polymod(values: list[int]) -> int:
    check = 1
    for value in values:
        top = check >> 25
        check = (check & 0x1FFFFFF) << 5 ^ value
        for index, generator in enumerate(_BECH32_GENERATOR):
            if (top >> index) & 1:
                check ^= generator
    return check


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(ch) >> 5 for ch in hrp] + [0] + [ord(ch) & 31 for ch in hrp]


def _convert_bits(data: list[int], from_bits: int, to_bits: int, *, pad: bool) -> list[int] | None:
    accumulator = 0
    bits = 0
    out = []
    mask = (1 << to_bits) - 1
    for value in data:
        if value < 0 or value >> from_bits:
            return None
        accumulator = (accumulator << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((accumulator >> bits) & mask)
    if pad:
        if bits:
            out.append((accumulator << (to_bits - bits)) & mask)
    elif bits >= from_bits or ((accumulator << (to_bits - bits)) & mask):
        return None
    return out


def segwit_decode(address: str) -> tuple[str, int, bytes] | None:
    """``(hrp, witness version, program)`` if ``address`` is a valid segwit address, else None.

    Version 0 must use the bech32 checksum and versions 1-16 bech32m (BIP-350).
    """
    if address.lower() != address and address.upper() != address:
        return None
    address = address.lower()
    separator = address.rfind("1")
    if separator < 1 or separator + 7 > len(address) or len(address) > 90:
        return None
    hrp = address[:separator]
    data = [_BECH32_CHARSET.find(ch) for ch in address[separator + 1 :]]
    if -1 in data:
        return None
    constant = _polymod(_hrp_expand(hrp) + data)
    if constant not in (_BECH32_CONST, _BECH32M_CONST) or not data[:-6]:
        return None
    version = data[0]
    program = _convert_bits(data[1:-6], 5, 8, pad=False)
    if program is None or not 2 <= len(program) <= 40 or version > 16:
        return None
    if version == 0 and len(program) not in (20, 32):
        return None
    if (version == 0) != (constant == _BECH32_CONST):
        return None
    return hrp, version, bytes(program)


def segwit_encode(hrp: str, version: int, program: bytes) -> str:
    """The segwit address of a witness program (used by tests to build valid addresses)."""
    converted = _convert_bits(list(program), 8, 5, pad=True)
    if converted is None:  # pragma: no cover - 8-bit input always converts
        raise ValueError("bad witness program")
    data = [version, *converted]
    constant = _BECH32_CONST if version == 0 else _BECH32M_CONST
    polymod = _polymod([*_hrp_expand(hrp), *data, 0, 0, 0, 0, 0, 0]) ^ constant
    checksum = [(polymod >> 5 * (5 - index)) & 31 for index in range(6)]
    return hrp + "1" + "".join(_BECH32_CHARSET[value] for value in data + checksum)


# -- EIP-55 ------------------------------------------------------------------------------------


def eip55_checksum(address: str) -> str:
    """The EIP-55 mixed-case form of a ``0x`` + 40 hex digit address."""
    digits = address[2:].lower()
    digest = keccak.new(digest_bits=256, data=digits.encode("ascii")).hexdigest()
    return "0x" + "".join(
        ch.upper() if ch.isalpha() and int(digest[index], 16) >= 8 else ch
        for index, ch in enumerate(digits)
    )


def ethereum_status(address: str) -> bool | None:
    """True: valid EIP-55 checksum; None: single-case (no checksum to check); False: invalid."""
    digits = address[2:]
    if digits == digits.lower() or digits == digits.upper():
        return None
    return eip55_checksum(address) == address


# -- finding them in text ----------------------------------------------------------------------


def find_crypto_addresses(text: str) -> Iterator[CryptoAddress]:
    """Every checksum-valid (or, for Ethereum, single-case) address in ``text``."""
    if _LONG_WORD.search(text) is None:
        return
    for match in _BASE58_CANDIDATE.finditer(text):
        payload = base58check_decode(match.group())
        if payload is None or len(payload) != 21 or payload[0] not in BASE58_VERSIONS:
            continue
        network, kind = BASE58_VERSIONS[payload[0]]
        yield CryptoAddress(network, kind, match.group(), match.start(), match.end(), True)
    for match in _SEGWIT_CANDIDATE.finditer(text):
        decoded = segwit_decode(match.group())
        if decoded is None or decoded[0] not in SEGWIT_HRPS:
            continue
        hrp, version, program = decoded
        if version == 0:
            kind = "p2wpkh" if len(program) == 20 else "p2wsh"
        elif version == 1 and len(program) == 32:
            kind = "taproot"
        else:
            kind = f"segwit-v{version}"
        yield CryptoAddress(SEGWIT_HRPS[hrp], kind, match.group(), match.start(), match.end(), True)
    for match in _ETHEREUM_CANDIDATE.finditer(text):
        status = ethereum_status(match.group())
        if status is False:
            continue
        kind = "eip55" if status else "unchecked"
        yield CryptoAddress(
            "ethereum", kind, match.group(), match.start(), match.end(), status is True
        )
