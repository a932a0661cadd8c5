"""Tables for webhooks, their durable outbox, and the flood guard's counts and quarantines."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from brightline.storage.base import Base, UTCDateTime, utcnow

_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


class EventType(enum.StrEnum):
    """What a webhook can subscribe to."""

    MATCH = "match"
    ENTRY_QUARANTINED = "entry.quarantined"
    LEGAL_PAGE = "legal.page"
    """An emergency legal request pages the on-call role (brightline.legal.platform_hooks)."""


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    """Every attempt failed: kept for review until a person re-queues it."""


class Webhook(Base):
    """A receiver of signed event notifications.

    The secret is stored as given (not hashed): signing each delivery with HMAC needs it.
    """

    __tablename__ = "webhooks"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(128))
    event_types: Mapped[str] = mapped_column(String(200))
    """Comma-separated event types this webhook receives; ``*`` for every type."""
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def wants(self, event_type: str) -> bool:
        types = self.event_types.split(",")
        return "*" in types or event_type in types


class WebhookDelivery(Base):
    """One event for one webhook: the outbox row that is retried until it is delivered.

    Written in the transaction of the event itself, so an event is notified if and only if it
    was committed. ``lease_until`` reserves a row for the worker sending it, so that several
    worker processes never send the same delivery at the same time.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "idempotency_key"),
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status_known"),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    """Stable across retries, so a receiver can drop a delivery it has already processed."""
    payload: Mapped[str] = mapped_column(Text)
    """The event's data as JSON text: identifiers and hashes only, never content or user text."""
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(String(200), default=None)
    """Why the last attempt failed (``HTTP 503``, ``timeout``): never a response or payload."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class EntryMatchCount(Base):
    """How often one entry matched in one hour: the flood guard's baseline."""

    __tablename__ = "entry_match_counts"

    entry_id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    """The start of the hour (UTC)."""
    count: Mapped[int] = mapped_column(Integer)


class EntryQuarantine(Base):
    """An entry the flood guard disabled, pending a curator's review.

    ``released_at`` is set when a curator re-enables the entry; the row stays as the record.
    """

    __tablename__ = "entry_quarantines"
    __table_args__ = (
        Index("ix_entry_quarantines_entry_id", "entry_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("bank_entries.id", ondelete="CASCADE")
    )
    quarantined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    hour_count: Mapped[int] = mapped_column(Integer)
    """Matches in the hour that tripped the guard (when it tripped)."""
    baseline: Mapped[float] = mapped_column(Float)
    """The entry's mean hourly matches over the baseline window before that hour."""
    threshold: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(500))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
