"""``INSERT ... ON CONFLICT`` for both databases: the review core's race-free get-or-create.

SQLite and PostgreSQL spell the statement the same way but SQLAlchemy builds it from each
dialect's own ``insert``; this picks the one for the session's database.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from brightline.storage.base import Base


def dialect_insert(session: Session, model: type[Base]) -> postgresql.Insert | sqlite.Insert:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def insert_ignoring_conflict(session: Session, model: type[Base], values: dict[str, Any]) -> bool:
    """INSERT unless a unique key already holds the row; True if this call inserted it."""
    # RETURNING rather than the row count, which drivers report differently for DO NOTHING.
    stmt = dialect_insert(session, model).values(values).on_conflict_do_nothing()
    return session.execute(stmt.returning(literal_column("1"))).first() is not None
