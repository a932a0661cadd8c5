from __future__ import annotations

import base64
import hashlib
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brightline.errors import InvalidInput
from brightline.signals.base import MatchKind
from brightline.signals.cryptographic import MD5, PHOTODNA, SHA1, SHA256


@pytest.mark.parametrize(
    ("signal_type", "expected"),
    [
        (MD5, "900150983cd24fb0d6963f7d28e17f72"),
        (SHA1, "a9993e364706816aba3e25717850c26c9cd0d89d"),
        (SHA256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ],
    ids=["md5", "sha1", "sha256"],
)
def test_known_answer(signal_type: object, expected: str) -> None:
    # FIPS / RFC 1321 test vector for the message "abc"
    signal = signal_type.hash_bytes(b"abc")  # type: ignore[attr-defined]
    assert signal.value == expected
    assert signal.version == 1
    assert signal.quality is None
    assert signal_type.match_kind is MatchKind.EXACT  # type: ignore[attr-defined]


@given(st.binary(max_size=2048))
def test_digests_match_hashlib(data: bytes) -> None:
    assert MD5.hash_bytes(data).value == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert SHA256.hash_bytes(data).value == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("value", ["a" * 31, "a" * 33, "a" * 40, "0x" + "a" * 30, "a" * 31 + "é"])
def test_md5_rejects_wrong_length_or_alphabet(value: str) -> None:
    with pytest.raises(InvalidInput):
        MD5.normalize(value)


def test_sha_lengths_are_not_interchangeable() -> None:
    sha1 = SHA1.hash_bytes(b"x").value
    with pytest.raises(InvalidInput):
        SHA256.normalize(sha1)
    with pytest.raises(InvalidInput):
        MD5.normalize(sha1)


_RAW = bytes(random.Random(7).randrange(256) for _ in range(144))  # synthetic, not a real value
_BASE64 = base64.b64encode(_RAW).decode()
_DECIMAL = ",".join(str(b) for b in _RAW)


def test_photodna_forms_share_one_canonical_value() -> None:
    assert PHOTODNA.normalize(_BASE64) == _BASE64
    assert PHOTODNA.normalize(_DECIMAL) == _BASE64
    assert PHOTODNA.normalize(_DECIMAL.replace(",", ", ")) == _BASE64
    wrapped = "\n".join(_BASE64[i : i + 76] for i in range(0, len(_BASE64), 76))
    assert PHOTODNA.normalize(wrapped) == _BASE64
    assert PHOTODNA.distance(_BASE64, _BASE64) == 0


def test_photodna_is_never_computed() -> None:
    assert not hasattr(PHOTODNA, "hash_bytes")
    assert not hasattr(PHOTODNA, "hash_image")


@pytest.mark.parametrize(
    "value",
    [
        base64.b64encode(_RAW[:143]).decode(),  # one byte short
        base64.b64encode(_RAW + b"\x00").decode(),  # one byte long
        _DECIMAL + ",1",
        _DECIMAL.replace("1", "256", 1) if "1" in _DECIMAL else _DECIMAL + ",256",
        _DECIMAL.replace(",", ";"),
        ",".join(["-1"] + [str(b) for b in _RAW[1:]]),
        _BASE64[:-1] + "!",
        _RAW.hex(),  # hex is not a form lists use
        base64.urlsafe_b64encode(bytes([0xFB] * 144)).decode(),
    ],
)
def test_photodna_rejects_malformed(value: str) -> None:
    with pytest.raises(InvalidInput):
        PHOTODNA.normalize(value)
