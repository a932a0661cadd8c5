"""Tables of local console accounts: who may sign in, with which role, and their sessions.

Passwords are kept only as argon2 hashes. A session is a random token held by the browser; the
database keeps only its SHA-256, so a copy of the database does not let anyone sign in. Form
keys are remembered once used, so a form posted a second time (a double click, a replayed
request) is recognised and refused instead of being applied twice.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from brightline.storage.base import Base, UTCDateTime, utcnow


class AccountRole(enum.StrEnum):
    ADMIN = "admin"
    """Everything: accounts, organisation settings, review, originals, the audit log."""
    LEAD = "lead"
    """Reviews, sees the team's exposure and bank health, may open originals with a reason."""
    REVIEWER = "reviewer"
    """Claims and decides jobs from blurred, reduced previews."""
    AUDITOR = "auditor"
    """Reads and exports the audit log and bank health; never sees media."""
    INVESTIGATOR = "investigator"
    """Works the clearinghouse's analysed reports and their referrals; never sees media."""


class Account(Base):
    """One person who signs in to the review console."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'lead', 'reviewer', 'auditor', 'investigator')", name="role_known"
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    """Also the reviewer name written into decisions and the audit log."""
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Failed sign-ins since the last success; reaching the limit locks the account."""
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    preferences: Mapped[str] = mapped_column(Text, default="{}")
    """JSON of the person's wellness overrides (blur, greyscale, auto re-blur)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrgSetting(Base):
    """One organisation-wide setting as JSON (e.g. the wellness defaults)."""

    __tablename__ = "org_settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AccountSession(Base):
    """A signed-in browser: the SHA-256 of its cookie token, its CSRF token and its expiry."""

    __tablename__ = "account_sessions"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """The absolute end; a session also ends after a while without requests (idle timeout)."""


class UsedFormKey(Base):
    """A form submission already accepted: posting the same form again is refused."""

    __tablename__ = "account_used_form_keys"

    form_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
