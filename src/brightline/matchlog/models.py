"""One row per reported match. Never content, file names or user text: only what matched."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from brightline.storage.base import Base, UTCDateTime, utcnow

_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


class MatchEvent(Base):
    """A match as it was reported at the time.

    Bank name and entry value are copied, not only referenced: the log must still say what
    matched after a bank is renamed or an entry deleted.
    """

    __tablename__ = "match_events"
    __table_args__ = (
        Index("ix_match_events_occurred_at", "occurred_at"),
        Index("ix_match_events_bank_id_occurred_at", "bank_id", "occurred_at"),
        Index("ix_match_events_entry_id_occurred_at", "entry_id", "occurred_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    bank_id: Mapped[int] = mapped_column(Integer)
    bank_name: Mapped[str] = mapped_column(String(200))
    entry_id: Mapped[int] = mapped_column(_BIG_ID)
    signal_type: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(128))
    distance: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))
    """How the content arrived: a :class:`~brightline.matchlog.service.MatchSource` value
    (``upload``, ``url`` or ``hash``)."""
    content_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """Digest of the matched content (when Brightline saw the bytes): joins repeat sightings."""
    api_key_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
