"""A typed registry of signal types, keyed by their stable names.

Built-in types register through the same :meth:`SignalTypeRegistry.register` call a plugin would
use, so the extension path is always exercised.
"""

from __future__ import annotations

from collections.abc import Iterator

from brightline.errors import Conflict, NotFound
from brightline.signals.base import BytesHasher, ImageHasher, SignalType


class SignalTypeRegistry:
    def __init__(self) -> None:
        self._types: dict[str, SignalType] = {}

    def register(self, signal_type: SignalType) -> None:
        name = signal_type.name
        if name in self._types:
            raise Conflict(f"signal type {name!r} is already registered")
        self._types[name] = signal_type

    def unregister(self, name: str) -> None:
        self._types.pop(name, None)

    def get(self, name: str) -> SignalType:
        try:
            return self._types[name]
        except KeyError:
            known = ", ".join(sorted(self._types))
            raise NotFound(f"unknown signal type {name!r} (known: {known})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[SignalType]:
        return iter(self._types.values())

    def names(self) -> list[str]:
        return sorted(self._types)

    def bytes_hashers(self) -> list[BytesHasher]:
        return [t for t in self._types.values() if isinstance(t, BytesHasher)]

    def image_hashers(self) -> list[ImageHasher]:
        return [t for t in self._types.values() if isinstance(t, ImageHasher)]
