"""The submission outbox: one row per report to send, one row per file it carries.

Every step of the API lifecycle is written here before and after its remote call, each in its
own committed transaction, so that a worker killed at any point leaves enough behind for the next
one to carry on without a second finished report or a lost file (docs/cybertipline-submission.md).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from brightline.storage.base import Base, UTCDateTime, utcnow

_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


class SubmissionStatus(enum.StrEnum):
    QUEUED = "queued"
    """Nothing sent yet."""
    SUBMITTING = "submitting"
    """``submit`` was started; no report id is recorded (the call may or may not have worked)."""
    SUBMITTED = "submitted"
    """The clearinghouse report id is recorded; no file uploaded yet."""
    UPLOADING = "uploading"
    """Files are being uploaded and described."""
    FINISHING = "finishing"
    """Every file has a recorded id and its details were sent; ``finish`` was started."""
    FINISHED = "finished"
    FAILED = "failed"
    """A permanent error or too many attempts: waits for a person (``brightline reports retry``).
    The remote report, if there was one, was retracted when possible (``retracted_at`` is then
    set): a failure stays a failure, loudly, rather than turning into a quiet "retracted"."""


ACTIVE_STATUSES = (
    SubmissionStatus.QUEUED,
    SubmissionStatus.SUBMITTING,
    SubmissionStatus.SUBMITTED,
    SubmissionStatus.UPLOADING,
    SubmissionStatus.FINISHING,
)
"""States a worker picks up (when due and not leased)."""

_STATUS_CHECK = "status IN ({})".format(", ".join(f"'{s.value}'" for s in SubmissionStatus))


class ReportSubmission(Base):
    """One report on its way to the clearinghouse, and afterwards its receipt.

    ``lease_token`` identifies the worker holding the lease: every write a worker makes is
    conditional on it, so a worker that lost its lease (it stalled past ``lease_until`` and
    another took over) can never overwrite the newer worker's progress.
    """

    __tablename__ = "report_submissions"
    __table_args__ = (
        UniqueConstraint("report_id"),
        CheckConstraint(_STATUS_CHECK, name="status_known"),
        Index("ix_report_submissions_status_next_attempt_at", "status", "next_attempt_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    report_id: Mapped[int] = mapped_column(_BIG_ID, ForeignKey("reports.id", ondelete="RESTRICT"))
    """Our report (the builder's ``reports`` row, which holds the ``<report>`` document: it is
    read from there at send time, so personal data is never copied into the outbox)."""
    status: Mapped[str] = mapped_column(String(16), default=SubmissionStatus.QUEUED.value)
    clearinghouse_report_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Failed attempts since the last success or re-queue (drives the backoff)."""
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    lease_token: Mapped[str | None] = mapped_column(String(32), default=None)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    """Short: an error class and the server's ``responseDescription``; never content."""
    submits_started: Mapped[int] = mapped_column(Integer, default=0)
    """How often ``submit`` was sent; above 1 means unfinished orphan reports may exist remotely."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submit_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finish_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    retracted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class SubmissionFile(Base):
    """One file of a submission: what to upload, and the clearinghouse's receipt for it.

    Its ``<fileDetails>`` stay in the builder's ``report_items`` row; the ids the clearinghouse
    assigns are inserted into them only when they are sent.
    """

    __tablename__ = "report_submission_files"
    __table_args__ = (
        UniqueConstraint("submission_id", "item_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("report_submissions.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(_BIG_ID)
    media_ref: Mapped[str] = mapped_column(String(2000))
    """The evidence vault reference (``sha256:<hex>``) of the bytes to upload."""
    md5: Mapped[str] = mapped_column(String(32))
    """The file's MD5 as the report states it; the server's must match."""
    file_id: Mapped[str | None] = mapped_column(String(200), default=None)
    received_md5: Mapped[str | None] = mapped_column(String(32), default=None)
    """The MD5 the server said it received (the upload receipt)."""
    uploads_started: Mapped[int] = mapped_column(Integer, default=0)
    upload_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    fileinfo_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
