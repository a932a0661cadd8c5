"""Verified API keys and provider logins, remembered for a few seconds so a request does not
cost a query (API keys) or an argon2 verification (clearinghouse providers)."""

from __future__ import annotations

import hmac
import secrets
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


class VerifiedLogins:
    """Provider logins (HTTP Basic) verified within the last ``ttl`` seconds: name and password
    → provider id, so a report's four requests cost one argon2 verification, not four.

    Only successes are remembered (every failure still costs a full verification, which is what
    slows a guesser down). The password is never kept: the key is an HMAC of name and password
    under a random per-process key. A disabled provider is refused at once by the intake (each
    request reads its row); a changed password, or a provider deleted outright, keeps working
    here for at most ``ttl`` seconds. ``ttl`` 0 turns the cache off.
    """

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._key = secrets.token_bytes(32)
        self._entries: dict[bytes, tuple[int, float]] = {}

    def _digest(self, name: str, password: str) -> bytes:
        message = (
            name.encode("utf-8", "surrogatepass")
            + b"\0"
            + password.encode("utf-8", "surrogatepass")
        )
        return hmac.digest(self._key, message, "sha256")

    def cached(self, name: str, password: str) -> int | None:
        """The provider id when this login was verified within ``ttl`` seconds, else None."""
        if self.ttl <= 0:
            return None
        entry = self._entries.get(self._digest(name, password))
        if entry is not None and entry[1] > time.monotonic():
            return entry[0]
        return None

    def remember(self, name: str, password: str, provider_id: int) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= MAX_CACHED_KEYS:
            self._entries.clear()
        self._entries[self._digest(name, password)] = (provider_id, time.monotonic() + self.ttl)
