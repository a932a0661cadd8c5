"""Legal production tables: packages built for a request and each delivery and download.

A production is one sealed package (a zip in the encrypted vault, ``package_ref``) built for one
request: the vault evidence of the accounts it names and what the platform's export hook gave.
Its members (``legal_production_members``) say what was produced, its status and times say when
it was built and made available to the agency, and every download is one row here and one
``exported`` entry in the chain of custody. Rows are never deleted (migration 0016).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from brightline.storage.base import Base, UTCDateTime

_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")
REF_LENGTH = 71
ACTOR_LENGTH = 200


class ProductionStatus(enum.StrEnum):
    BUILT = "built"
    """Sealed in the vault; staff can check it, the agency cannot see it yet."""
    DELIVERED = "delivered"
    """Available to the requesting agency through the portal."""


class MemberSource(enum.StrEnum):
    VAULT = "vault"
    """Preserved evidence (a report's files, XML and case record) from the evidence vault."""
    PLATFORM = "platform"
    """What the platform's :class:`~brightline.legal.hooks.AccountExporter` returned."""


class ExportOutcome(enum.StrEnum):
    NOT_CONFIGURED = "not_configured"
    EXPORTED = "exported"
    FAILED = "failed"
    """The hook failed for at least one account: flagged for staff, the production is partial."""


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN (" + ", ".join(f"'{value.value}'" for value in values) + ")"


class Production(Base):
    """One production package for a legal request, and whether the agency may download it."""

    __tablename__ = "legal_productions"
    __table_args__ = (
        CheckConstraint(_in("status", ProductionStatus), name="status_known"),
        CheckConstraint(_in("export", ExportOutcome), name="export_known"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("legal_requests.id", ondelete="RESTRICT"), index=True
    )
    agency_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("legal_agencies.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(20))
    package_ref: Mapped[str] = mapped_column(String(REF_LENGTH))
    """The sealed zip in the vault (``sha256:<hex>`` of its bytes)."""
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    vault_members: Mapped[int] = mapped_column(Integer)
    platform_members: Mapped[int] = mapped_column(Integer)
    export: Mapped[str] = mapped_column(String(20))
    complete: Mapped[bool] = mapped_column(Boolean)
    """False when something asked for could not be produced: an account unknown to Brightline,
    purged evidence, no export hook or a failed one. Delivering a final production closes the
    request as ``produced`` when complete, ``partially_produced`` otherwise."""
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)
    built_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    delivered_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH), default=None)


class ProductionMember(Base):
    """One file of a production: where it came from and its digest (as in the manifest)."""

    __tablename__ = "legal_production_members"
    __table_args__ = (CheckConstraint(_in("source", MemberSource), name="source_known"),)

    production_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("legal_productions.id", ondelete="RESTRICT"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(300), primary_key=True)
    ref: Mapped[str] = mapped_column(String(REF_LENGTH), index=True)
    source: Mapped[str] = mapped_column(String(10))
    role: Mapped[str] = mapped_column(String(40))
    account_id: Mapped[int | None] = mapped_column(
        _BIG_ID, ForeignKey("legal_request_accounts.id", ondelete="RESTRICT"), default=None
    )
    report_id: Mapped[int | None] = mapped_column(_BIG_ID, default=None)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)


class ProductionDownload(Base):
    """A download of a delivered production (by an officer, or by staff), with its custody
    entry's sequence number."""

    __tablename__ = "legal_production_downloads"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    production_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("legal_productions.id", ondelete="RESTRICT"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    agency_id: Mapped[int | None] = mapped_column(
        _BIG_ID, ForeignKey("legal_agencies.id", ondelete="RESTRICT"), default=None
    )
    officer_id: Mapped[int | None] = mapped_column(
        _BIG_ID, ForeignKey("legal_officers.id", ondelete="RESTRICT"), default=None
    )
    custody_seq: Mapped[int] = mapped_column(BigInteger)
