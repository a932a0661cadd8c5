"""Verified API keys, remembered for a few seconds so a lookup does not cost a query."""

from __future__ import annotations

import time

from brightline.access import Principal
from brightline.access.service import digest_of

MAX_CACHED_KEYS = 10_000


class AuthCache:
    """Digest → (principal or None, expiry). A revoked key stops working within ``ttl`` seconds."""

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[Principal | None, float]] = {}

    def cached(self, secret: str) -> tuple[bool, Principal | None]:
        """``(True, principal or None)`` when ``secret`` was verified within the last ``ttl``
        seconds, else ``(False, None)``: the answer costs no query and no thread."""
        cached = self._entries.get(digest_of(secret))
        if cached is not None and cached[1] > time.monotonic():
            return True, cached[0]
        return False, None

    def remember(self, secret: str, principal: Principal | None) -> None:
        if len(self._entries) >= MAX_CACHED_KEYS:
            self._entries.clear()  # a flood of made-up keys must not grow memory without bound
        self._entries[digest_of(secret)] = (principal, time.monotonic() + self.ttl)
