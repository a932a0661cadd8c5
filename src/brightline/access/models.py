"""API keys, stored only as digests."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from brightline.storage.base import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    """What a key may do. ``admin`` may do everything; the others are least-privilege."""

    ADMIN = "admin"
    CURATOR = "curator"
    """Creates banks, adds, disables, imports and exports entries."""
    MATCHER = "matcher"
    """Looks content and hashes up (what an upload pipeline needs, nothing more)."""
    REVIEWER = "reviewer"
    """Reads matches and the match log to review them."""
    AUDITOR = "auditor"
    """Reads the match log and key metadata; changes nothing."""


class ApiKey(Base):
    """One API key. The secret itself is never stored: only its SHA-256 digest.

    Keys are 256-bit random tokens, so a fast digest is enough (no password stretching needed:
    nothing to brute-force), and it keeps verification cheap on every request.
    """

    __tablename__ = "api_keys"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    """The first characters of the key, shown in listings so operators can tell keys apart."""
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    roles: Mapped[str] = mapped_column(String(200))
    """Comma-separated :class:`Role` values."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(Role(part) for part in self.roles.split(",") if part)
