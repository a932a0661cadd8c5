"""Tables of the clearinghouse intake: providers, the reports they send and the files attached.

The intake is the receiving end of the CyberTipline Reporting API (:mod:`.intake`). A report's
``id`` is the ``reportId`` the provider is given, from the clearinghouse's own sequence
(``sqlite_autoincrement``/identity: never reused, whichever provider asks). File bytes live in
the encrypted evidence vault; only the reference, the digests and the validated ``<fileDetails>``
are here. Rows are never deleted: a retracted or expired report stays on record with its state.

Importing this module needs the database layer, so the analysis core's package
(:mod:`brightline.clearinghouse`) does not import it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from brightline.storage.base import Base, UTCDateTime

_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")
NAME_LENGTH = 64
REF_LENGTH = 71
FILE_ID_LENGTH = 32


class IntakeStatus(enum.StrEnum):
    OPEN = "open"
    """Submitted; files and details may still be added."""
    FINISHED = "finished"
    """Complete: goes on to the analysts (and the analysis core)."""
    RETRACTED = "retracted"
    """Cancelled by its provider before it was finished."""
    EXPIRED = "expired"
    """Left unfinished longer than the intake waits (``expire_unfinished``)."""


class IntakeProvider(Base):
    """An electronic service provider allowed to submit reports (HTTP Basic auth)."""

    __tablename__ = "clearinghouse_providers"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    """argon2id, never the password."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class IntakeReport(Base):
    """One ``<report>`` as received; ``id`` is the ``reportId`` answered to the provider."""

    __tablename__ = "clearinghouse_reports"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'finished', 'retracted', 'expired')", name="status_known"
        ),
        Index("ix_clearinghouse_reports_status_received_at", "status", "received_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("clearinghouse_providers.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=IntakeStatus.OPEN.value)
    document: Mapped[str] = mapped_column(Text)
    """The ``<report>`` document, schema-valid (personal data: shown to analysts, never logged)."""
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    retracted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class IntakeFile(Base):
    """One uploaded file of a report: where its bytes are in the vault, and its details."""

    __tablename__ = "clearinghouse_files"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    file_id: Mapped[str] = mapped_column(String(FILE_ID_LENGTH), unique=True)
    """The ``fileId`` answered to the provider: random, so it reveals nothing of other files."""
    report_id: Mapped[int] = mapped_column(
        ForeignKey("clearinghouse_reports.id", ondelete="RESTRICT"), index=True
    )
    vault_ref: Mapped[str] = mapped_column(String(REF_LENGTH))
    md5: Mapped[str] = mapped_column(String(32))
    sha1: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    details: Mapped[str | None] = mapped_column(Text, default=None)
    """The validated ``<fileDetails>`` (with its ids), once ``/fileinfo`` has been sent."""
    details_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
