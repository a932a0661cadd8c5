"""Tables of preservation: what the vault holds for which report, until when, and legal holds.

The vault itself (files on disk) knows nothing of reports or law; these rows say why each
object is kept. An object may be preserved by several reports (the same file re-uploaded and
reported twice) and held by several holds: it may be purged only when every reason has expired.
Rows are never deleted, so that a purge stays on record (``purged_at``) next to the chain of
custody (:mod:`brightline.custody`).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from brightline.storage.base import Base, UTCDateTime

_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")
REF_LENGTH = 71
"""``sha256:`` and 64 hex characters."""


class ObjectRole(enum.StrEnum):
    """What a preserved object is to its report."""

    MEDIA = "media"
    REPORT_XML = "report_xml"
    CASE_RECORD = "case_record"


class HoldKind(enum.StrEnum):
    PRESERVATION_REQUEST = "preservation_request"
    """18 U.S.C. § 2703(f): 90 days, renewable once for 90 more (settings)."""
    OTHER = "other"
    """Litigation or an internal investigation: same clock, named in ``reason``."""


class EvidenceObject(Base):
    """One vault object kept as evidence, and how long for."""

    __tablename__ = "evidence_objects"

    ref: Mapped[str] = mapped_column(String(REF_LENGTH), primary_key=True)
    first_preserved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retain_until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    """The latest retention end of the reports that preserved it (holds extend past it)."""
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    """When the purge destroyed its data key and content; null while it is kept."""


class Preservation(Base):
    """One finished report's evidence: its files, its XML and the case record, preserved."""

    __tablename__ = "evidence_preservations"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("reports.id", ondelete="RESTRICT"), unique=True
    )
    case_id: Mapped[int] = mapped_column(_BIG_ID, index=True)
    subject_id: Mapped[int] = mapped_column(_BIG_ID, index=True)
    preserved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retain_until: Mapped[datetime] = mapped_column(UTCDateTime)
    reported_bank_entries: Mapped[int] = mapped_column(Integer, default=0)
    """Hashes added to the ``reported`` bank for this report (new ones only)."""


class PreservedObject(Base):
    """Which objects a preservation holds, and in what role."""

    __tablename__ = "evidence_preserved_objects"
    __table_args__ = (
        CheckConstraint("role IN ('media', 'report_xml', 'case_record')", name="role_known"),
    )

    preservation_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("evidence_preservations.id", ondelete="RESTRICT"), primary_key=True
    )
    ref: Mapped[str] = mapped_column(
        String(REF_LENGTH),
        ForeignKey("evidence_objects.ref", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    )
    role: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int | None] = mapped_column(_BIG_ID, default=None)


class LegalHold(Base):
    """A hold that keeps objects past their retention (e.g. a § 2703(f) preservation request)."""

    __tablename__ = "legal_holds"
    __table_args__ = (
        CheckConstraint("kind IN ('preservation_request', 'other')", name="kind_known"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(200))
    """The requester's reference (agency case or request number)."""
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    placed_by: Mapped[str] = mapped_column(String(200))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    renewals: Mapped[int] = mapped_column(Integer, default=0)
    max_renewals: Mapped[int] = mapped_column(Integer)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    released_by: Mapped[str | None] = mapped_column(String(200), default=None)


class HeldObject(Base):
    """Which objects a hold covers (fixed when it is placed: what was held then)."""

    __tablename__ = "legal_hold_objects"

    hold_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("legal_holds.id", ondelete="RESTRICT"), primary_key=True
    )
    ref: Mapped[str] = mapped_column(
        String(REF_LENGTH),
        ForeignKey("evidence_objects.ref", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    )
