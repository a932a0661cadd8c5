"""Tables for banks (named hash lists) and their entries."""

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
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from brightline.storage.base import Base, UTCDateTime, utcnow


class IndustryClassification(enum.StrEnum):
    """Tech Coalition / NCMEC hash-sharing classification (DOMAIN.md §2)."""

    A1 = "A1"  # prepubescent, sex act
    A2 = "A2"  # prepubescent, lascivious exhibition
    B1 = "B1"  # pubescent, sex act
    B2 = "B2"  # pubescent, lascivious exhibition


class Bank(Base):
    """A named list of hashes that share labels; disabled banks never match."""

    __tablename__ = "banks"
    __table_args__ = (
        CheckConstraint("pdq_threshold BETWEEN 0 AND 63", name="pdq_threshold_range"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    pdq_threshold: Mapped[int] = mapped_column(Integer, default=31)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entries: Mapped[list[BankEntry]] = relationship(
        back_populates="bank", cascade="all, delete-orphan", passive_deletes=True
    )


class BankEntry(Base):
    """One hash in one bank, with where it came from.

    ``(signal_type, value, bank_id)`` is unique: that is what makes imports idempotent. The ids are
    never reused (AUTOINCREMENT on SQLite, a sequence on PostgreSQL) because the PDQ index keeps
    them and tells new entries from old ones by id.
    """

    __tablename__ = "bank_entries"
    __table_args__ = (
        # (signal_type, value) leads so exact lookups use this index too; (signal_type, id)
        # lets an index sync read one signal type's new entries in id order without a sort.
        UniqueConstraint("signal_type", "value", "bank_id"),
        Index("ix_bank_entries_signal_id", "signal_type", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"), index=True)
    signal_type: Mapped[str] = mapped_column(String(40))
    signal_version: Mapped[int] = mapped_column(Integer)
    value: Mapped[str] = mapped_column(String(2000))
    classification: Mapped[str | None] = mapped_column(String(2), default=None)
    category: Mapped[str | None] = mapped_column(String(40), default=None)
    list_name: Mapped[str | None] = mapped_column(String(200), default=None)
    external_id: Mapped[str | None] = mapped_column(String(200), default=None)
    series: Mapped[str | None] = mapped_column(String(200), default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)

    bank: Mapped[Bank] = relationship(back_populates="entries")


class EntryChange(Base):
    """Append-only log of enable/disable/delete of entries, so indexes update incrementally.

    A process holding an in-memory index remembers the last change id it applied and replays only
    newer rows, instead of rebuilding from every entry.
    """

    __tablename__ = "entry_changes"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    entry_id: Mapped[int] = mapped_column(BigInteger)
    signal_type: Mapped[str] = mapped_column(String(40))
    enabled: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VideoSignature(Base):
    """The frame hashes of a ``vpdq`` entry, kept beside the entry.

    A video's frame list (37 bytes a sampled second: 133 kB for an hour) is too long for the
    indexed ``value`` column, so the entry's value is the SHA-256 of this binary form (what makes
    re-imports idempotent) and the frames live here.
    """

    __tablename__ = "video_signatures"

    entry_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("bank_entries.id", ondelete="CASCADE"),
        primary_key=True,
    )
    frames: Mapped[bytes] = mapped_column(LargeBinary)
    frame_count: Mapped[int] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Float, default=None)
