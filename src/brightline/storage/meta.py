"""A one-row table that names this database.

Persisted indexes record the database's ``instance_id`` so an index built against one database is
never used with another (e.g. after ``BRIGHTLINE_DATABASE_URL`` changes).
"""

from __future__ import annotations

import uuid

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from brightline.storage.base import Base


class DatabaseMeta(Base):
    __tablename__ = "brightline_meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(500))


def instance_id(session: Session) -> str:
    """This database's id, created on first use."""
    row = session.scalar(select(DatabaseMeta).where(DatabaseMeta.key == "instance_id"))
    if row is None:
        row = DatabaseMeta(key="instance_id", value=uuid.uuid4().hex)
        session.add(row)
        session.flush()
    return row.value
