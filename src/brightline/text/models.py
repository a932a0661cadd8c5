"""Text signal tables: term banks with versions and provenance, variant candidates.

A term bank (``text_term_lists``) is a named list whose ``version`` goes up by one on every
change. Its terms (``text_terms``) are never deleted: a removal stamps ``removed_version``, so
the list as it stood at any version can be rebuilt and exported (a term is on the list at version
N when ``added_version <= N`` and it was not removed by N). Each term records where it came
from: an imported file (by its digest), a person, or an accepted discovery candidate.

Discovery candidates (``text_variant_candidates``) wait for a lead's decision. A tag is queued
at most once per list, ever: a rejected one is remembered so that later runs do not bring it
back, an accepted one points at the term it became.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Float,
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
NAME_LENGTH = 100
TERM_LENGTH = 200
ACTOR_LENGTH = 200
SOURCE_REF_LENGTH = 100


class TermSource(enum.StrEnum):
    """Where a term came from (its provenance)."""

    IMPORT = "import"
    """An imported file; ``source_ref`` is the file's digest (``sha256:`` + 16 hex digits)."""
    MANUAL = "manual"
    """Added by a person, one term at a time."""
    DISCOVERY = "discovery"
    """An accepted variant candidate; ``source_ref`` is ``candidate:ID``."""


class CandidateStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class TermBank(Base):
    """A named, versioned term list in the database."""

    __tablename__ = "text_term_lists"
    __table_args__ = (
        UniqueConstraint("name"),
        CheckConstraint("version >= 0", name="version_not_negative"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    version: Mapped[int] = mapped_column(Integer, default=0)
    """0 for a new, empty list; +1 on every change to its terms."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TermBankTerm(Base):
    """One term of a term bank, with its provenance and the versions it was on the list."""

    __tablename__ = "text_terms"
    __table_args__ = (
        CheckConstraint("mode IN ('token', 'compact', 'hashtag')", name="mode_known"),
        CheckConstraint("source IN ('import', 'manual', 'discovery')", name="source_known"),
        CheckConstraint("weight >= 0", name="weight_not_negative"),
        CheckConstraint(
            "removed_version IS NULL OR removed_version > added_version", name="removed_after"
        ),
        Index("ix_text_terms_list_id_added_version", "list_id", "added_version"),
        Index(
            "uq_text_terms_current",
            "list_id",
            "key",
            "mode",
            unique=True,
            sqlite_where=text("removed_version IS NULL"),
            postgresql_where=text("removed_version IS NULL"),
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    list_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("text_term_lists.id", ondelete="RESTRICT")
    )
    text: Mapped[str] = mapped_column(String(TERM_LENGTH))
    key: Mapped[str] = mapped_column(String(TERM_LENGTH))
    """The term's identity on its list (NFKC, case folded): one current term per key and mode."""
    mode: Mapped[str] = mapped_column(String(16))
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    source: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str | None] = mapped_column(String(SOURCE_REF_LENGTH), default=None)
    added_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    added_version: Mapped[int] = mapped_column(Integer)
    removed_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH), default=None)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    removed_version: Mapped[int | None] = mapped_column(Integer, default=None)


class VariantCandidate(Base):
    """A tag that discovery ranked for a list, waiting for (or past) a person's decision."""

    __tablename__ = "text_variant_candidates"
    __table_args__ = (
        UniqueConstraint("list_id", "key"),
        CheckConstraint("status IN ('pending', 'accepted', 'rejected')", name="status_known"),
        Index("ix_text_variant_candidates_status_list_id", "status", "list_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    list_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("text_term_lists.id", ondelete="RESTRICT")
    )
    tag: Mapped[str] = mapped_column(String(TERM_LENGTH))
    key: Mapped[str] = mapped_column(String(TERM_LENGTH))
    """The tag's identity (:func:`brightline.text.discovery.tag_key`)."""
    score: Mapped[float] = mapped_column(Float)
    """The fused (reciprocal rank fusion) score of the latest run that ranked it."""
    ranks: Mapped[str] = mapped_column(Text, default="{}")
    """JSON: each method's rank (``{"cooccurrence": 3, "spelling": 1}``)."""
    evidence: Mapped[str] = mapped_column(Text, default="{}")
    """JSON: counts and scores from discovery (never post text)."""
    discovered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    """When a run last ranked it (a pending candidate is refreshed by later runs)."""
    status: Mapped[str] = mapped_column(String(16), default=CandidateStatus.PENDING.value)
    decided_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    term_id: Mapped[int | None] = mapped_column(
        _BIG_ID, ForeignKey("text_terms.id", ondelete="RESTRICT"), default=None
    )
    """The term an accepted candidate became."""
