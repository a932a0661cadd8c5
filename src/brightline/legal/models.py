"""Tables of legal process: agencies, officers, requests and everything that happens to them.

Requests name accounts and identifiers, carry attachments (the bytes are in the encrypted
vault; only the reference and metadata are here), collect notes, flags for staff, escalations
and an append-only event history (UPDATE and DELETE refused by triggers, migration 0011). Rows
are never deleted: a closed request stays on record with its history.

Every timestamp is UTC (:class:`~brightline.storage.base.UTCDateTime`); deadlines are computed in
the configured zone when a clock starts (:mod:`brightline.legal.deadlines`) and stored, so a later
change of settings never moves a deadline already given.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from brightline.storage.base import Base, UTCDateTime

_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")
REF_LENGTH = 71
ACTOR_LENGTH = 200


class RequestType(enum.StrEnum):
    PRESERVATION = "preservation"
    """18 U.S.C. § 2703(f): keep what exists for 90 days, renewable once for 90 more."""
    SUBPOENA = "subpoena"
    COURT_ORDER = "court_order"
    SEARCH_WARRANT = "search_warrant"
    EMERGENCY = "emergency"
    """An emergency disclosure request (imminent danger): answered in hours, pages on-call."""
    FOREIGN = "foreign"
    """Foreign or international process (MLAT, an agreement under the CLOUD Act, ...)."""


class RequestStatus(enum.StrEnum):
    RECEIVED = "received"
    VERIFIED = "verified"
    IN_PROGRESS = "in_progress"
    PRODUCED = "produced"
    PARTIALLY_PRODUCED = "partially_produced"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    """A preservation request whose period ended without renewal (set by the clock only)."""


OPEN_STATUSES = frozenset(
    {RequestStatus.RECEIVED, RequestStatus.VERIFIED, RequestStatus.IN_PROGRESS}
)


class Channel(enum.StrEnum):
    PORTAL = "portal"
    """Submitted by a verified officer through the law-enforcement portal."""
    STAFF = "staff"
    """Entered by platform staff from another channel (email, mail, service of process)."""


class IdentifierKind(enum.StrEnum):
    ACCOUNT = "account"
    """A platform account: ``service`` and its platform user id in ``value``."""
    EMAIL = "email"
    PHONE = "phone"
    USERNAME = "username"
    URL = "url"
    IP_ADDRESS = "ip_address"
    OTHER = "other"


class AccountState(enum.StrEnum):
    KNOWN = "known"
    """An account Brightline's review knows (a subject); nothing held yet."""
    HELD = "held"
    """Its preserved evidence is under the request's legal hold (``hold_id``)."""
    NOTHING_PRESERVED = "nothing_preserved"
    """Known, but nothing is preserved for it (yet): flagged for staff."""
    UNKNOWN = "unknown"
    """Not an account Brightline knows: flagged for staff to check the platform's records."""
    TO_RESOLVE = "to_resolve"
    """Not an account but an identifier (email, phone, ...): staff resolve it."""


class FlagCode(enum.StrEnum):
    UNKNOWN_ACCOUNT = "unknown_account"
    NOTHING_PRESERVED = "nothing_preserved"
    NO_ACCOUNT_HELD = "no_account_held"
    IDENTIFIER_TO_RESOLVE = "identifier_to_resolve"
    HOLD_NOT_RENEWED = "hold_not_renewed"
    SNAPSHOT_FAILED = "snapshot_failed"
    PAGE_FAILED = "page_failed"
    OFFICER_REVOKED = "officer_revoked"
    EXPORT_FAILED = "export_failed"
    """The platform export hook failed while a production was built (migration 0016)."""


class EventKind(enum.StrEnum):
    RECEIVED = "received"
    STATUS = "status"
    ASSIGNED = "assigned"
    NOTE = "note"
    HOLD_PLACED = "hold_placed"
    HOLD_RENEWED = "hold_renewed"
    HOLD_RELEASED = "hold_released"
    RENEWED = "renewed"
    SNAPSHOT_REQUESTED = "snapshot_requested"
    FLAGGED = "flagged"
    FLAG_RESOLVED = "flag_resolved"
    ESCALATED = "escalated"
    PAGED = "paged"
    PRODUCTION_BUILT = "production_built"
    PRODUCTION_DELIVERED = "production_delivered"
    PRODUCTION_DOWNLOADED = "production_download"
    """A production's build, delivery and downloads (migration 0016; the production's own rows
    and custody entries hold the digests)."""


class DeadlineKind(enum.StrEnum):
    VERIFY = "verify"
    RESPOND = "respond"
    STATED = "stated"
    """The date written on the legal process (a return date), if it has one."""
    PRESERVATION_ENDS = "preservation_ends"


class EscalationLevel(enum.StrEnum):
    REMINDER = "reminder"
    ESCALATION = "escalation"
    OVERDUE = "overdue"


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN (" + ", ".join(f"'{value.value}'" for value in values) + ")"


class Agency(Base):
    """A law-enforcement agency (or a foreign authority) that serves legal process."""

    __tablename__ = "legal_agencies"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    jurisdiction: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))


class AgencyDomain(Base):
    """An email domain the agency's officers may use (subdomains included)."""

    __tablename__ = "legal_agency_domains"

    agency_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("legal_agencies.id", ondelete="RESTRICT"), primary_key=True
    )
    domain: Mapped[str] = mapped_column(String(253), primary_key=True, index=True)


class Officer(Base):
    """A person at an agency. Only a verified, unrevoked officer's requests are accepted."""

    __tablename__ = "legal_officers"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    agency_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("legal_agencies.id", ondelete="RESTRICT"), index=True
    )
    handle: Mapped[str] = mapped_column(String(100), unique=True)
    """A stable, non-personal name used in listings and logs (``officer-0001``)."""
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    verified_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH), default=None)
    revoke_reason: Mapped[str | None] = mapped_column(Text, default=None)

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "verified" if self.verified_at is not None else "unverified"


class LegalRequest(Base):
    """One piece of legal process, its status and the deadlines that drive it."""

    __tablename__ = "legal_requests"
    __table_args__ = (
        UniqueConstraint("agency_id", "reference_key"),
        CheckConstraint(_in("type", RequestType), name="type_known"),
        CheckConstraint(_in("status", RequestStatus), name="status_known"),
        CheckConstraint(_in("channel", Channel), name="channel_known"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    agency_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("legal_agencies.id", ondelete="RESTRICT"), index=True
    )
    officer_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("legal_officers.id", ondelete="RESTRICT"), index=True
    )
    external_reference: Mapped[str] = mapped_column(String(200))
    """The agency's own reference (case or request number), as given."""
    reference_key: Mapped[str] = mapped_column(String(200))
    """The reference folded (case, blanks) so that a duplicate is caught however it is typed."""
    legal_basis: Mapped[str] = mapped_column(Text)
    jurisdiction: Mapped[str | None] = mapped_column(String(100), default=None)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    verified_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH), default=None)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    closed_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH), default=None)
    close_reason: Mapped[str | None] = mapped_column(Text, default=None)
    assignee: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH), default=None, index=True)
    stated_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    verify_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    respond_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    preserve_from: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    """When the current preservation period began (verification, then each renewal)."""
    preserve_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    renewals: Mapped[int] = mapped_column(Integer, default=0)
    max_renewals: Mapped[int] = mapped_column(Integer, default=0)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None, index=True)
    """The earliest pending deadline (null once closed), kept for sorting and dashboards."""
    next_due_kind: Mapped[str | None] = mapped_column(String(20), default=None)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_emergency(self) -> bool:
        return self.type == RequestType.EMERGENCY


class RequestAccount(Base):
    """An account or identifier a request names, and what preservation found for it."""

    __tablename__ = "legal_request_accounts"
    __table_args__ = (
        UniqueConstraint("request_id", "kind", "service", "value"),
        CheckConstraint(_in("kind", IdentifierKind), name="kind_known"),
        CheckConstraint(_in("state", AccountState), name="state_known"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("legal_requests.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    service: Mapped[str] = mapped_column(String(200), default="")
    """The platform service for an account; empty for other identifiers."""
    value: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int | None] = mapped_column(
        _BIG_ID, ForeignKey("review_subjects.id", ondelete="RESTRICT"), default=None
    )
    hold_id: Mapped[int | None] = mapped_column(
        _BIG_ID, ForeignKey("legal_holds.id", ondelete="RESTRICT"), default=None, index=True
    )


class RequestAttachment(Base):
    """A document that came with a request; the bytes are in the evidence vault under ``ref``."""

    __tablename__ = "legal_request_attachments"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("legal_requests.id", ondelete="RESTRICT"), index=True
    )
    ref: Mapped[str] = mapped_column(String(REF_LENGTH))
    media_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(BigInteger)
    filename: Mapped[str | None] = mapped_column(String(255), default=None)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    added_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))


class RequestNote(Base):
    __tablename__ = "legal_request_notes"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("legal_requests.id", ondelete="RESTRICT"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    author: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    body: Mapped[str] = mapped_column(Text)


class RequestEvent(Base):
    """One entry of a request's history. Append-only: the database refuses UPDATE and DELETE.

    ``details`` is canonical JSON of ids, counts, short codes and times, never user text.
    """

    __tablename__ = "legal_request_events"
    __table_args__ = (
        CheckConstraint(_in("kind", EventKind), name="kind_known"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("legal_requests.id", ondelete="RESTRICT"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    from_status: Mapped[str | None] = mapped_column(String(20), default=None)
    to_status: Mapped[str | None] = mapped_column(String(20), default=None)
    details: Mapped[str] = mapped_column(Text, default="{}")


class RequestFlag(Base):
    """Something staff must look at (an unknown account, a failed snapshot), until resolved."""

    __tablename__ = "legal_request_flags"
    __table_args__ = (
        CheckConstraint(_in("code", FlagCode), name="code_known"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("legal_requests.id", ondelete="RESTRICT"), index=True
    )
    account_id: Mapped[int | None] = mapped_column(
        _BIG_ID, ForeignKey("legal_request_accounts.id", ondelete="RESTRICT"), default=None
    )
    code: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(String(500))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolved_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH), default=None)


class Escalation(Base):
    """A reminder, escalation or overdue notice on one deadline, recorded once per level."""

    __tablename__ = "legal_escalations"
    __table_args__ = (
        UniqueConstraint("request_id", "deadline", "due_at", "level"),
        CheckConstraint(_in("deadline", DeadlineKind), name="deadline_known"),
        CheckConstraint(_in("name", EscalationLevel), name="name_known"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("legal_requests.id", ondelete="RESTRICT"), index=True
    )
    deadline: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    level: Mapped[int] = mapped_column(Integer)
    """1 for the reminder, 2… for escalations, the number of points + 1 for overdue."""
    name: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paged: Mapped[bool] = mapped_column(Boolean, default=False)
