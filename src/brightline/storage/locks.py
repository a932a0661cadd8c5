"""Serialise the transactions that write bank entries, so ids commit in id order.

Every in-memory index follows the database by two watermarks: the highest entry id and the highest
entry-change id it has read. That is only sound if no transaction can commit a *lower* id after a
reader has seen a higher one. SQLite guarantees it (one writer at a time, ids handed out inside the
write lock). PostgreSQL does not: sequences hand out ids outside any lock, so two concurrent
imports could commit 11-20 before 1-10, and a worker syncing in between would skip 1-10 forever.
A transaction-scoped advisory lock taken before the first id is drawn closes that gap; it is
released by commit or rollback, so a crashed writer never holds it.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

ENTRY_WRITES_LOCK = 0x42_4C_45_4E  # "BLEN": one arbitrary, stable key for this lock
"""The advisory-lock key; any other application sharing the database must not use it."""


def serialize_entry_writes(session: Session) -> None:
    """Wait until no other transaction is writing entries; hold the turn until this one ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ENTRY_WRITES_LOCK})


CUSTODY_APPENDS_LOCK = 0x42_4C_43_55  # "BLCU": the chain of custody's appends
"""The advisory-lock key that serialises appends to the chain of custody."""


def serialize_custody_appends(session: Session) -> None:
    """Wait until no other transaction is appending to the chain of custody; hold the turn until
    this one ends.

    Each custody entry names the hash of the one before it, so two transactions that read the
    same head would fork the chain. The unique ``prev_hash`` makes the second of them fail;
    taking this lock before reading the head makes it wait for the first to end instead. SQLite
    needs nothing: it has one writer at a time, and a writer that read a stale head fails on the
    same constraint.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CUSTODY_APPENDS_LOCK})
