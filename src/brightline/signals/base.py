"""The signal-type contract and the results of hashing.

A *signal type* turns content into a comparable value (a hash) and knows how to validate and
compare such values. Each has a stable ``name`` and integer ``version`` that are stored with every
hash, so a future change of algorithm never silently compares hashes of different versions.

Why two hashing capabilities? Byte hashes (md5, sha256) need the raw bytes and must not depend on
decoding; perceptual hashes (pdq) need decoded pixels. The hashing pipeline reads the bytes once,
decodes at most once, and hands each signal type what it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from PIL import Image


class MatchKind(StrEnum):
    EXACT = "exact"
    """Values match only when equal (cryptographic hashes, opaque list values)."""
    HAMMING = "hamming"
    """Values are bit strings compared by Hamming distance (PDQ)."""


@dataclass(frozen=True, slots=True)
class Signal:
    """One computed (or imported) hash value of one signal type."""

    signal_type: str
    version: int
    value: str
    quality: int | None = None
    """For perceptual types: how much detail the content had (PDQ: 0-100)."""


@runtime_checkable
class SignalType(Protocol):
    """What every signal type provides: identity, validation and comparison."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> int: ...

    @property
    def match_kind(self) -> MatchKind: ...

    def normalize(self, value: str) -> str:
        """Return the canonical form of ``value`` or raise :class:`InvalidInput`.

        The one place a signal type validates input: imports, the CLI and the API all go through
        it, so a value stored is always canonical (e.g. lowercase hex).
        """
        ...

    def distance(self, a: str, b: str) -> int:
        """Distance between two canonical values (0 = identical)."""
        ...


@runtime_checkable
class BytesHasher(SignalType, Protocol):
    """A signal type computed from the raw bytes (md5, sha256)."""

    def hash_bytes(self, data: bytes) -> Signal: ...


@runtime_checkable
class ImageHasher(SignalType, Protocol):
    """A signal type computed from a decoded, orientation-corrected RGB image (pdq)."""

    def hash_image(self, image: Image.Image) -> Signal: ...
