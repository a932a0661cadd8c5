"""Signal types (hash algorithms) and the hashing pipeline.

Built-in types: ``md5``, ``sha1``, ``sha256`` (exact digests of the bytes), ``photodna`` (opaque
values from hash lists, never computed), ``pdq`` (perceptual) and ``vpdq`` (video frame hashes,
computed by :func:`hash_file` for video files). See ``docs/signals.md``.
"""

from __future__ import annotations

from brightline.signals.base import MatchKind, Signal
from brightline.signals.content import HashedContent, HashingLimits, hash_content, hash_file
from brightline.signals.cryptographic import MD5, PHOTODNA, SHA1, SHA256
from brightline.signals.pdq import PdqSignalType
from brightline.signals.registry import SignalTypeRegistry
from brightline.signals.video import VpdqSignalType

__all__ = [
    "HashedContent",
    "HashingLimits",
    "MatchKind",
    "Signal",
    "default_registry",
    "hash_content",
    "hash_file",
]


def default_registry() -> SignalTypeRegistry:
    """A fresh registry holding the built-in types, registered the way a plugin would be.

    Fresh so that a caller may add or remove types without affecting anyone else.
    """
    registry = SignalTypeRegistry()
    for signal_type in (MD5, SHA1, SHA256, PHOTODNA, PdqSignalType(), VpdqSignalType()):
        registry.register(signal_type)
    return registry
