"""Exact-match signal types: cryptographic digests of the file bytes, and opaque PhotoDNA values.

Why MD5 and SHA-1 at all: they are what the industry hash lists (NCMEC, Project VIC) carry. They
are used here only to recognise identical files, never for security, hence
``usedforsecurity=False``.

PhotoDNA is proprietary and is never computed here. Lists carry its values, and a bank must store
and compare them, so the ``photodna`` type only validates a value and puts it in canonical form.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Final

from brightline.errors import InvalidInput
from brightline.signals.base import MatchKind, Signal

_HEX = re.compile(r"[0-9a-f]+", re.ASCII)


@dataclass(frozen=True, slots=True)
class CryptographicSignalType:
    """A digest of the raw bytes (a :class:`~brightline.signals.base.BytesHasher`)."""

    name: str
    digest_size: int
    """Digest length in bytes; the canonical value has twice as many hex characters."""
    algorithm: str
    """The :func:`hashlib.new` name."""
    version: int = 1
    match_kind: MatchKind = MatchKind.EXACT

    def normalize(self, value: str) -> str:
        """Lowercase hex of the right length; surrounding whitespace is tolerated."""
        if not isinstance(value, str):
            raise InvalidInput(f"a {self.name} hash must be a string")
        text = value.strip().lower()
        if len(text) != 2 * self.digest_size or not _HEX.fullmatch(text):
            raise InvalidInput(f"a {self.name} hash is {2 * self.digest_size} hex characters")
        return text

    def distance(self, a: str, b: str) -> int:
        return 0 if a == b else 1

    def hash_bytes(self, data: bytes) -> Signal:
        digest = hashlib.new(self.algorithm, data, usedforsecurity=False).hexdigest()
        return Signal(self.name, self.version, digest)


MD5: Final = CryptographicSignalType("md5", 16, "md5")
SHA1: Final = CryptographicSignalType("sha1", 20, "sha1")
SHA256: Final = CryptographicSignalType("sha256", 32, "sha256")


PHOTODNA_BYTES: Final = 144
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}", re.ASCII)
_DECIMAL_LIST = re.compile(r"\d{1,3}(?:,\d{1,3})*", re.ASCII)


@dataclass(frozen=True, slots=True)
class PhotoDnaSignalType:
    """An opaque ``photodna`` value as lists carry it; never computed (no ``hash_bytes``).

    Accepted forms: standard base64 of the 144 bytes (192 characters, the VICS/Project VIC form)
    or 144 comma-separated decimal byte values (the NCMEC hash-sharing form). Canonical form:
    base64, so a value imported from either kind of list compares equal to the other.
    """

    name: str = "photodna"
    version: int = 1
    match_kind: MatchKind = MatchKind.EXACT

    def normalize(self, value: str) -> str:
        if not isinstance(value, str):
            raise InvalidInput("a photodna value must be a string")
        text = "".join(value.split())  # lists wrap long values; whitespace never carries data
        if "," in text:
            raw = _decode_decimal_list(text)
        elif _BASE64.fullmatch(text):
            try:
                raw = base64.b64decode(text, validate=True)
            except binascii.Error:
                raise InvalidInput("a photodna value is not valid base64") from None
        else:
            raise InvalidInput("a photodna value is base64 or comma-separated byte values")
        if len(raw) != PHOTODNA_BYTES:
            raise InvalidInput(f"a photodna value has {PHOTODNA_BYTES} bytes, not {len(raw)}")
        return base64.b64encode(raw).decode("ascii")

    def distance(self, a: str, b: str) -> int:
        """0 when identical, else 1: PhotoDNA's own distance needs its proprietary matcher."""
        return 0 if a == b else 1


def _decode_decimal_list(text: str) -> bytes:
    if not _DECIMAL_LIST.fullmatch(text):
        raise InvalidInput("a photodna value's byte list must be decimal numbers and commas")
    numbers = [int(part) for part in text.split(",")]
    if any(n > 255 for n in numbers):
        raise InvalidInput("a photodna value's byte values must be 0-255")
    return bytes(numbers)


PHOTODNA: Final = PhotoDnaSignalType()
