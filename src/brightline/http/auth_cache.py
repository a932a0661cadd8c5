"""Verified API keys, remembered for a few seconds so a lookup does not cost a query."""

from __future__ import annotations

import time
from collections.abc import Callable

from brightline.access import Principal
from brightline.access.service import digest_of

MAX_CACHED_KEYS = 10_000


class AuthCache:
    """Digest → (principal or None, expiry). A revoked key stops working within ``ttl`` seconds."""

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[Principal | None, float]] = {}

    def lookup(self, secret: str, verify: Callable[[str], Principal | None]) -> Principal | None:
        digest = digest_of(secret)
        now = time.monotonic()
        cached = self._entries.get(digest)
        if cached is not None and cached[1] > now:
            return cached[0]
        principal = verify(secret)
        if len(self._entries) >= MAX_CACHED_KEYS:
            self._entries.clear()  # a flood of made-up keys must not grow memory without bound
        self._entries[digest] = (principal, now + self.ttl)
        return principal
