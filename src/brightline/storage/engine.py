"""Engine and session factory.

SQLite is the embedded default: WAL so readers never block the writer, foreign keys on (SQLite
leaves them off unless asked on every connection), and a busy timeout so a concurrent writer waits
instead of failing at once. PostgreSQL is the production store and needs nothing special.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from brightline.errors import InvalidInput


def _sqlite_pragmas(dbapi_connection: Any, _connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine_for(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url``, creating the SQLite file's directory if needed."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidInput(f"not a database URL: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # Plain postgresql:// URLs would pick psycopg2, which we do not install.
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (the CLI prints them afterwards)."""
    return sessionmaker(engine, expire_on_commit=False)
