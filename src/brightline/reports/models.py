"""Tables of the report builder: one row per built CyberTipline report, one per reported file.

A report row is written by :func:`brightline.reports.build_report` in status ``draft``; the
submission layer (``brightline.clearinghouse_client``) moves it through the later statuses and
records the clearinghouse's ``reportId`` and the time it was finished. Later reports on the same
subject list the ids of earlier *finished* reports in ``priorCTReports``.

``reports.xml`` and ``report_items.file_details_xml`` hold personal data (names, identifiers,
addresses given by the platform): they are kept only because the submission must send exactly
what was built, and the evidence vault will hold them encrypted in a later part. Never log them.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from brightline.storage.base import Base, UTCDateTime

_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


class ReportStatus(enum.StrEnum):
    """Where a report is in its life; only ``draft`` is set here, the rest by the submitter."""

    DRAFT = "draft"
    """Built and stored; nothing sent yet."""
    QUEUED = "queued"
    """Handed to the submission outbox."""
    SUBMITTED = "submitted"
    """The clearinghouse accepted the ``<report>`` and answered with its report id."""
    FINISHED = "finished"
    """Files uploaded and the report finished: it counts as a prior report from now on."""
    FAILED = "failed"
    """Given up on; ``error`` says why (no personal data in it)."""
    RETRACTED = "retracted"
    """Cancelled at the clearinghouse before it was finished."""


ACTIVE_STATUSES = frozenset(
    {ReportStatus.DRAFT, ReportStatus.QUEUED, ReportStatus.SUBMITTED, ReportStatus.FINISHED}
)
"""Statuses in which a report still stands for its items: they are not put in another report."""


class Report(Base):
    """One CyberTipline ``<report>`` about one subject, covering confirmed items of one case."""

    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'queued', 'submitted', 'finished', 'failed', 'retracted')",
            name="status_known",
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    subject_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("review_subjects.id", ondelete="RESTRICT"), index=True
    )
    case_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("review_cases.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=ReportStatus.DRAFT.value)
    incident_type: Mapped[str] = mapped_column(String(100))
    """The schema's ``incidentType`` string, exactly as sent."""
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)
    clearinghouse_report_id: Mapped[int | None] = mapped_column(
        BigInteger, default=None, unique=True
    )
    """The clearinghouse's ``reportId`` (``xs:long``), set by the submitter once it is known."""
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    xml: Mapped[str] = mapped_column(Text)
    """The ``<report>`` document as built (UTF-8 text). Personal data: never log it."""
    error: Mapped[str | None] = mapped_column(Text, default=None)
    """Why submission failed: codes and ids only, never content or names."""


class ReportItem(Base):
    """One reviewed item in a report, with the ``<fileDetails>`` to send once it is uploaded.

    ``file_details_xml`` is a ``<fileDetails>`` element without ``reportId`` and ``fileId``:
    the clearinghouse assigns both, so they are inserted only when the file has been uploaded
    (see :meth:`brightline.reports.ReportFile.file_details`).
    """

    __tablename__ = "report_items"

    report_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("review_items.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    file_details_xml: Mapped[str] = mapped_column(Text)
    media_ref: Mapped[str] = mapped_column(String(2000))
    md5: Mapped[str] = mapped_column(String(32))
    sha1: Mapped[str] = mapped_column(String(40))
