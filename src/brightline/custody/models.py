"""The ``custody_log`` table: one row per event on evidence, hash-chained in ``seq`` order.

No foreign keys: the log must outlive everything it talks about (a purge keeps its rows, but a
report, case or hold that is ever deleted must not take its history with it). Triggers (migration
0009) refuse UPDATE and DELETE, so that a bug cannot rewrite history; someone with rights over
the database can drop them, which is what the hash chain and the MAC (:mod:`brightline.custody`)
are for.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from brightline.storage.base import Base, UTCDateTime

_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")

REF_LENGTH = 71
"""``sha256:`` and 64 hex characters."""
HASH_LENGTH = 64
"""A SHA-256 (or HMAC-SHA256) in lowercase hex."""
ACTOR_LENGTH = 200


class CustodyEvent(enum.StrEnum):
    """What happened to a piece of evidence."""

    PRESERVED = "preserved"
    ACCESSED = "accessed"
    """Someone read it: ``actor`` says who and ``reason`` (required) why."""
    EXPORTED = "exported"
    """It left the platform in a production package (``reason`` required)."""
    HELD = "held"
    HOLD_RENEWED = "hold_renewed"
    HOLD_RELEASED = "hold_released"
    PURGED = "purged"


_EVENT_CHECK = "event IN (" + ", ".join(f"'{event.value}'" for event in CustodyEvent) + ")"


class CustodyRecord(Base):
    """One entry of the chain of custody as stored (see :class:`brightline.custody.CustodyEntry`
    for what each field means and how the hashes are computed)."""

    __tablename__ = "custody_log"
    __table_args__ = (
        CheckConstraint("seq >= 1", name="seq_positive"),
        CheckConstraint(_EVENT_CHECK, name="event_known"),
    )

    seq: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=False)
    """1, 2, 3, ... with no gaps; the appender computes the next one under a lock."""
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    event: Mapped[str] = mapped_column(String(20))
    object_ref: Mapped[str | None] = mapped_column(String(REF_LENGTH), index=True)
    report_id: Mapped[int | None] = mapped_column(_BIG_ID, index=True)
    case_id: Mapped[int | None] = mapped_column(_BIG_ID)
    hold_id: Mapped[int | None] = mapped_column(_BIG_ID, index=True)
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text)
    """Canonical JSON of the entry's details (an object of short keys to strings, ints, nulls)."""
    prev_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)
    """The previous entry's ``entry_hash`` (64 zeros for the first): unique, so that two appends
    after the same head cannot both commit and fork the chain."""
    entry_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), index=True)
    mac: Mapped[str] = mapped_column(String(HASH_LENGTH))
