"""Tables of the review core: subjects, cases, items, jobs, decisions, exposure and the audit log.

A *job* is one near-duplicate group: every item belongs to exactly one job, and a reviewer who
decides a job decides every item in it. That is how a reviewer sees each image once even when
the same picture was flagged for several users (DOMAIN.md §7: "de-duplicate so the same image is
never reviewed twice").

Nothing here holds content. An item keeps hashes, a media type and an opaque reference for a
future evidence store; subjects keep the platform's own identifiers as given, which are personal
data and never go into logs or the audit log (the audit log refers to them by id only).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from brightline.storage.base import Base, UTCDateTime, utcnow

_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class JobStatus(enum.StrEnum):
    OPEN = "open"
    """Waiting for a decision; claimable whenever no unexpired lock is held on it."""
    DECIDED = "decided"


class DecisionKind(enum.StrEnum):
    CONFIRM = "confirm"
    """The content is abusive: every item gets an industry classification and annotations."""
    FALSE_POSITIVE = "false_positive"
    """Not abusive: the bank entries that matched are disputed and counted against the bank."""
    ESCALATE = "escalate"
    """A confirm that also marks the case urgent (imminent risk to a child), with the reason."""
    SECOND_OPINION = "second_opinion"
    """No verdict: the job goes back to its queue for anyone but the reviewer who asked."""


FINAL_DECISIONS = frozenset(
    {DecisionKind.CONFIRM, DecisionKind.FALSE_POSITIVE, DecisionKind.ESCALATE}
)
"""Decisions that settle a job's items; a second opinion does not."""


class DecisionStatus(enum.StrEnum):
    PENDING = "pending"
    """Written first, so items can refer to it; never committed in this state."""
    APPLIED = "applied"
    """Set in the same transaction once every effect of the decision is written."""


class FileAnnotation(enum.StrEnum):
    """CyberTipline ``fileAnnotations`` (DOMAIN.md §3), spelled exactly as in the schema."""

    ANIME_DRAWING_VIRTUAL_HENTAI = "animeDrawingVirtualHentai"
    POTENTIAL_MEME = "potentialMeme"
    VIRAL = "viral"
    POSSIBLE_SELF_PRODUCTION = "possibleSelfProduction"
    PHYSICAL_HARM = "physicalHarm"
    VIOLENCE_GORE = "violenceGore"
    BESTIALITY = "bestiality"
    LIVE_STREAMING = "liveStreaming"
    INFANT = "infant"
    GENERATIVE_AI = "generativeAi"


class ExclusionCause(enum.StrEnum):
    SKIP = "skip"
    SECOND_OPINION = "second_opinion"


class Subject(Base):
    """A platform user that content was flagged for (a CyberTipline ``personOrUserReported``).

    The names and URL are stored exactly as the platform gave them: they go into reports
    unchanged. They are personal data: refer to a subject by ``id`` everywhere else.
    """

    __tablename__ = "review_subjects"
    __table_args__ = (
        UniqueConstraint("service", "platform_user_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    service: Mapped[str] = mapped_column(String(200))
    """The platform's service name (CyberTipline ``espService``)."""
    platform_user_id: Mapped[str] = mapped_column(String(200))
    """The platform's own account id (``espIdentifier``)."""
    display_name: Mapped[str | None] = mapped_column(String(500), default=None)
    screen_name: Mapped[str | None] = mapped_column(String(500), default=None)
    profile_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Case(Base):
    """Everything flagged for one subject until the case is closed.

    At most one open case per subject (a partial unique index): a flag after the case closed
    opens a new one, so a user can be reviewed and reported again later.
    """

    __tablename__ = "review_cases"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed')", name="status_known"),
        Index(
            "ix_review_cases_one_open_per_subject",
            "subject_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    subject_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("review_subjects.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.OPEN.value)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    closed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    """Escalated: imminent risk to a child. The report sets ``escalateToHighPriority``."""
    urgent_reason: Mapped[str | None] = mapped_column(Text, default=None)
    """The escalating reviewer's words, kept for the report's ``escalateToHighPriority``."""


class Queue(Base):
    """A named list of jobs that a team of reviewers works through."""

    __tablename__ = "review_queues"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoutingRule(Base):
    """Send a new job to ``queue_id`` when every condition that is set holds; first match wins.

    ``bank_name``, ``classification`` and ``signal_type`` hold when *any* match that flagged the
    job's first item has that value; ``source`` compares with the item's source; ``min_priority``
    with the job's priority. A rule with no condition matches everything.
    """

    __tablename__ = "review_routing_rules"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, unique=True)
    queue_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("review_queues.id", ondelete="CASCADE"), index=True
    )
    bank_name: Mapped[str | None] = mapped_column(String(200), default=None)
    classification: Mapped[str | None] = mapped_column(String(2), default=None)
    signal_type: Mapped[str | None] = mapped_column(String(40), default=None)
    source: Mapped[str | None] = mapped_column(String(40), default=None)
    min_priority: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Job(Base):
    """One near-duplicate group waiting for (or having had) a decision.

    The lock is three columns changed together by conditional UPDATEs: whoever's UPDATE matched
    the row holds the job until ``locked_until``; ``lock_token`` proves it on every later call.
    """

    __tablename__ = "review_jobs"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'decided')", name="status_known"),
        Index("ix_review_jobs_queue_order", "queue_id", "status", "priority", "created_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    queue_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("review_queues.id", ondelete="RESTRICT")
    )
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.OPEN.value)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    representative_item_id: Mapped[int | None] = mapped_column(_BIG_ID, default=None)
    """The item a reviewer looks at; the others were grouped with it. Set once, never changed."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(200), default=None)
    lock_token: Mapped[str | None] = mapped_column(String(64), default=None)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class JobExclusion(Base):
    """A reviewer who must not be handed this job again (skipped it, or asked a second opinion)."""

    __tablename__ = "review_job_exclusions"

    job_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("review_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    reviewer: Mapped[str] = mapped_column(String(200), primary_key=True)
    cause: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Item(Base):
    """One piece of flagged content in one case (unique per case by SHA-256).

    ``viewed_by_person`` becomes true only through a recorded reveal by a named reviewer, never
    because a decision was made: it feeds ``fileViewedByEsp``, which must be true only if a
    person actually opened the file (DOMAIN.md §3, United States v. Wilson).
    """

    __tablename__ = "review_items"
    __table_args__ = (
        UniqueConstraint("case_id", "sha256"),
        Index("ix_review_items_sha256", "sha256"),
        CheckConstraint(
            "decision IS NULL OR decision IN ('confirm', 'false_positive', 'escalate')",
            name="decision_known",
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("review_cases.id", ondelete="RESTRICT"), index=True
    )
    job_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("review_jobs.id", ondelete="RESTRICT"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64))
    md5: Mapped[str | None] = mapped_column(String(32), default=None)
    sha1: Mapped[str | None] = mapped_column(String(40), default=None)
    pdq: Mapped[str | None] = mapped_column(String(64), default=None)
    media_type: Mapped[str] = mapped_column(String(100))
    media_ref: Mapped[str | None] = mapped_column(String(2000), default=None)
    """Where the bytes are, for a future evidence store; opaque here."""
    uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    """When the user uploaded it to the platform (``uploadedToEspTimestamp``)."""
    source: Mapped[str] = mapped_column(String(40))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    viewed_by_person: Mapped[bool] = mapped_column(Boolean, default=False)
    first_viewed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    first_viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    decision: Mapped[str | None] = mapped_column(String(20), default=None)
    classification: Mapped[str | None] = mapped_column(String(2), default=None)
    annotations: Mapped[str] = mapped_column(String(400), default="")
    """Comma-separated :class:`FileAnnotation` values."""
    decided_by: Mapped[str | None] = mapped_column(String(200), default=None)
    """A reviewer's account name, or ``policy:<name>`` when a policy decided without a person."""
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    decision_id: Mapped[int | None] = mapped_column(
        _BIG_ID, ForeignKey("review_decisions.id", ondelete="RESTRICT"), default=None
    )
    decided_via_group: Mapped[bool] = mapped_column(Boolean, default=False)
    """True when the decision was made on another item of the same near-duplicate group."""


class ItemMatch(Base):
    """Why an item was flagged: one bank entry (or other signal) that matched it."""

    __tablename__ = "review_item_matches"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("review_items.id", ondelete="CASCADE"), index=True
    )
    match_event_id: Mapped[int | None] = mapped_column(_BIG_ID, default=None)
    bank_id: Mapped[int | None] = mapped_column(Integer, default=None)
    bank_name: Mapped[str | None] = mapped_column(String(200), default=None)
    entry_id: Mapped[int | None] = mapped_column(_BIG_ID, default=None)
    signal_type: Mapped[str] = mapped_column(String(40))
    distance: Mapped[int | None] = mapped_column(Integer, default=None)
    classification: Mapped[str | None] = mapped_column(String(2), default=None)


class Decision(Base):
    """One reviewer's (or policy's) decision on a job.

    ``idempotency_key`` is unique: submitting the same decision twice returns the first record
    instead of applying it again.
    """

    __tablename__ = "review_decisions"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'applied')", name="status_known"),
        CheckConstraint(
            "kind IN ('confirm', 'false_positive', 'escalate', 'second_opinion')",
            name="kind_known",
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    job_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("review_jobs.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    decided_by: Mapped[str] = mapped_column(String(200))
    classification: Mapped[str | None] = mapped_column(String(2), default=None)
    annotations: Mapped[str] = mapped_column(String(400), default="")
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=DecisionStatus.PENDING.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class EntryDispute(Base):
    """A reviewer found that a bank entry matched content that is not abusive.

    Keyed by entry id without a foreign key, so the dispute outlives the entry's deletion (the
    bank's history of errors is what per-bank precision is about).
    """

    __tablename__ = "review_entry_disputes"
    __table_args__ = (
        UniqueConstraint("entry_id", "item_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    entry_id: Mapped[int] = mapped_column(_BIG_ID, index=True)
    bank_id: Mapped[int | None] = mapped_column(Integer, default=None)
    item_id: Mapped[int] = mapped_column(_BIG_ID, ForeignKey("review_items.id", ondelete="CASCADE"))
    decision_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("review_decisions.id", ondelete="CASCADE")
    )
    disputed_by: Mapped[str] = mapped_column(String(200))
    disputed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BankPrecision(Base):
    """Per-bank counts of human verdicts on items it flagged: precision = confirmed / total.

    Policy auto-confirmations are not counted: nobody checked them.
    """

    __tablename__ = "review_bank_precision"

    bank_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_name: Mapped[str] = mapped_column(String(200))
    """The bank's name when last counted (kept for display after a rename or deletion)."""
    confirmed: Mapped[int] = mapped_column(Integer, default=0)
    false_positive: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrustedBank(Base):
    """A bank whose matches may be confirmed without anyone viewing the content.

    ``max_distance`` bounds how near a match must be to count (0: exact hashes only).
    """

    __tablename__ = "review_trusted_banks"

    bank_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("banks.id", ondelete="CASCADE"), primary_key=True
    )
    max_distance: Mapped[int] = mapped_column(Integer, default=0)
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Exposure(Base):
    """How many items a reviewer revealed on one UTC day (wellbeing, DOMAIN.md §7)."""

    __tablename__ = "review_exposures"

    reviewer: Mapped[str] = mapped_column(String(200), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reveals: Mapped[int] = mapped_column(Integer, default=0)
    full_resolution: Mapped[int] = mapped_column(Integer, default=0)


class AuditEntry(Base):
    """One append-only audit row: who did what to which object, when and why.

    Database triggers (migration 0005) refuse UPDATE and DELETE on this table. ``detail`` is JSON
    of ids, counts and codes only: never content, names or other user text.
    """

    __tablename__ = "review_audit_log"
    __table_args__ = (
        Index("ix_review_audit_log_at", "at"),
        Index("ix_review_audit_log_actor_at", "actor", "at"),
        Index("ix_review_audit_log_object", "object_type", "object_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    detail: Mapped[str] = mapped_column(Text, default="{}")
