"""Tables of the stored analysis: one result per finished intake report, and its referrals.

A result is what :func:`brightline.clearinghouse.pipeline.analyse` said about a report at its
last run (score, tier, every contribution with its reason, known/new per file, cluster, linked
group with its evidence, bundle). Re-running replaces it, so it always describes one run.

A referral is one agency's copy of a report: its routing is replaced on a re-run, but the
feedback the agency gives (status, closing reason, who and when, DOMAIN.md §5) is kept, so a
re-analysis never erases what law enforcement said.

JSON columns hold ids, digests, counts and the analysis core's own explanations: never the
provider's free text (an escalation's wording stays in the report document).

An investigator's agencies (:class:`InvestigatorAgency`) limit what that console account sees
to the referrals of those agencies. An analysis run (:class:`AnalysisRunRecord`) is the record
of one ``analyse_intake``: when, over what, with which weights, and what came out.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from brightline.storage.base import Base, UTCDateTime

_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")
AGENCY_LENGTH = 64


class ReferralStatus(enum.StrEnum):
    """Where an agency is with a referral (DOMAIN.md §5: arrest, ongoing, referred, closed)."""

    NEW = "new"
    """Routed, not yet acknowledged by the agency."""
    UNDER_INVESTIGATION = "under_investigation"
    ARREST = "arrest"
    REFERRED = "referred"
    """Passed on to another agency."""
    CLOSED = "closed"
    """Needs a :class:`ClosingReason`."""


class ClosingReason(enum.StrEnum):
    """Why an agency closed a referral: what the clearinghouse and providers can learn from."""

    UNABLE_TO_LOCATE = "unable_to_locate"
    PROVIDER_RESPONSE_LACKED_INFORMATION = "provider_response_lacked_information"
    """The provider's answer to legal process did not hold what was needed."""
    NO_OFFENCE_FOUND = "no_offence_found"
    OTHER = "other"


def _values(kind: type[enum.StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in kind)


class AnalysisResult(Base):
    """The last analysis of one finished intake report."""

    __tablename__ = "clearinghouse_analysis_results"
    __table_args__ = (
        CheckConstraint(
            "tier IN ('immediate', 'high', 'normal', 'informational')", name="tier_known"
        ),
        Index("ix_clearinghouse_analysis_results_tier_score", "tier", "score"),
    )

    report_id: Mapped[int] = mapped_column(
        ForeignKey("clearinghouse_reports.id", ondelete="RESTRICT"), primary_key=True
    )
    score: Mapped[int] = mapped_column(Integer)
    tier: Mapped[str] = mapped_column(String(16))
    informational: Mapped[bool] = mapped_column(Boolean)
    informational_reasons: Mapped[str] = mapped_column(Text, default="[]")
    """JSON list of :class:`~brightline.clearinghouse.triage.InformationalReason` values."""
    overridden: Mapped[str] = mapped_column(Text, default="[]")
    """JSON list of reasons set aside by an override feature."""
    contributions: Mapped[str] = mapped_column(Text, default="[]")
    """JSON list of ``{feature, points, detail}``: the score explained, ``sum(points) == score``."""
    weights_version: Mapped[str] = mapped_column(String(64))
    files: Mapped[str] = mapped_column(Text, default="[]")
    """JSON list per file: ``file_id``, ``md5``, ``sha1``, ``pdq``, ``novelty`` (known, new,
    unchecked), ``cluster_id``, ``bundle_id``."""
    cluster_id: Mapped[int | None] = mapped_column(Integer, default=None)
    """The first cluster any of the report's files is in (the files list has each one's)."""
    bundle_id: Mapped[int | None] = mapped_column(Integer, default=None)
    linked_group_id: Mapped[int | None] = mapped_column(Integer, default=None)
    links: Mapped[str] = mapped_column(Text, default="[]")
    """JSON list of linked groups: ``group_id``, ``reports``, ``providers`` and ``evidence``
    (identifier kind, scope and normalised value, reports, first/last sighting, caution)."""
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    """The triage time (recency is measured to it)."""
    analysed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    incident_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    """The report's ``incidentDateTime`` (None when it gave none, or stored before 0017):
    the dashboard's "incident to report" time."""


class Referral(Base):
    """One agency's copy of a report, with the agency's feedback."""

    __tablename__ = "clearinghouse_referrals"
    __table_args__ = (
        CheckConstraint(f"status IN ({_values(ReferralStatus)})", name="status_known"),
        CheckConstraint(
            f"closing_reason IS NULL OR closing_reason IN ({_values(ClosingReason)})",
            name="closing_reason_known",
        ),
        UniqueConstraint("report_id", "agency_id"),
        Index("ix_clearinghouse_referrals_agency_id_status", "agency_id", "status"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("clearinghouse_reports.id", ondelete="RESTRICT"), index=True
    )
    agency_id: Mapped[str] = mapped_column(String(AGENCY_LENGTH))
    regions: Mapped[str] = mapped_column(Text, default="[]")
    """JSON list of the jurisdictions (regions) that sent it to this agency."""
    routing_reason: Mapped[str] = mapped_column(String(64))
    """``jurisdiction``, ``no agency for region`` or ``location unknown``."""
    status: Mapped[str] = mapped_column(String(32), default=ReferralStatus.NEW.value)
    closing_reason: Mapped[str | None] = mapped_column(String(64), default=None)
    feedback_by: Mapped[str | None] = mapped_column(String(200), default=None)
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    routed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """When the latest analysis routed it here."""
    first_routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    """When an analysis first routed it here (kept on re-runs): the dashboard's "report to
    referral" time. None only for referrals stored before migration 0017 filled it in."""


class InvestigatorAgency(Base):
    """One agency whose referrals an investigator's console account may see.

    An investigator with none sees nothing (an empty queue): access is granted, never assumed.
    Leads and admins oversee every agency and need no rows here.
    """

    __tablename__ = "clearinghouse_investigator_agencies"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[str] = mapped_column(String(AGENCY_LENGTH), primary_key=True)
    assigned_by: Mapped[str] = mapped_column(String(200))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RunTrigger(enum.StrEnum):
    """What started an analysis run."""

    COMMAND = "command"
    """Someone ran ``brightline clearinghouse analyse``."""
    SCHEDULE = "schedule"
    """``analyse --every`` (a scheduled run)."""
    API = "api"
    """A Python caller (tests, scripts)."""


class AnalysisRunRecord(Base):
    """One stored analysis run: written in the same transaction as the results it produced,
    so a run on record always has its results (a failed run leaves neither)."""

    __tablename__ = "clearinghouse_analysis_runs"
    __table_args__ = (
        CheckConstraint(f"trigger IN ({_values(RunTrigger)})", name="trigger_known"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    trigger: Mapped[str] = mapped_column(String(16))
    triggered_by: Mapped[str] = mapped_column(String(200))
    """The operating-system user or console account that started it (an id, never free text)."""
    reports: Mapped[int] = mapped_column(Integer)
    """Reports analysed."""
    refused: Mapped[int] = mapped_column(Integer)
    """Finished reports the reader refused (left out)."""
    immediate: Mapped[int] = mapped_column(Integer)
    high: Mapped[int] = mapped_column(Integer)
    normal: Mapped[int] = mapped_column(Integer)
    informational: Mapped[int] = mapped_column(Integer)
    referrals: Mapped[int] = mapped_column(Integer)
    files_known: Mapped[int] = mapped_column(Integer)
    files_new: Mapped[int] = mapped_column(Integer)
    files_unchecked: Mapped[int] = mapped_column(Integer)
    weights_version: Mapped[str] = mapped_column(String(64))
    known_sources: Mapped[int] = mapped_column(Integer)
    """How many known-material sources (banks, lists) were consulted; 0: files unchecked."""
    finished_reports: Mapped[int] = mapped_column(Integer)
    """Finished intake reports when the run started, and the latest time one finished: a
    scheduled run is skipped when both are unchanged since the last run."""
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
