"""Law-enforcement portal tables: one-time sign-in codes and officer sessions.

Nothing here can be used to sign in if the database leaks: a code is kept only as an HMAC
under a key derived from the custody key (an eight-digit code is too few guesses for a plain
hash to protect), a session only as the SHA-256 of its 256-bit cookie token. Codes and
sessions are deleted once spent or expired; they are credentials, not records (the request
history records what officers did).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from brightline.storage.base import Base, UTCDateTime

_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


class SignInCode(Base):
    """A one-time code mailed to an officer: short-lived, single use, a few attempts."""

    __tablename__ = "legal_portal_codes"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    officer_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("legal_officers.id", ondelete="CASCADE"), index=True
    )
    salt: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(64))
    """HMAC-SHA256 (portal key) of the salt, the officer id and the code."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Wrong codes tried against it; at the limit the code dies."""
    spent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    """When it was used, replaced by a newer code, or killed by too many attempts."""


class PortalSession(Base):
    """A signed-in officer's browser: the SHA-256 of its cookie token, its CSRF token, expiry."""

    __tablename__ = "legal_portal_sessions"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    officer_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("legal_officers.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PortalFormKey(Base):
    """A portal form already accepted: posting the same form again is refused."""

    __tablename__ = "legal_portal_form_keys"

    form_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    officer_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("legal_officers.id", ondelete="CASCADE"), index=True
    )
    used_at: Mapped[datetime] = mapped_column(UTCDateTime)
