"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``BRIGHTLINE_TEST_POSTGRES_URL`` (default: the local server, database
``test``). Each test gets a fresh schema that is dropped afterwards, so runs never share state.
With ``CI=true`` an unreachable PostgreSQL fails the run; elsewhere those tests are skipped and the
run ends with a visible warning.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from brightline.storage import create_engine_for, session_factory, upgrade_database

POSTGRES_URL = os.environ.get(
    "BRIGHTLINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_postgres_problem: list[str] = []


def _postgres_reachable() -> str | None:
    """None if PostgreSQL answers, else why not (checked once per run)."""
    if not _postgres_problem:
        try:
            probe = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
            with probe.connect() as connection:
                connection.execute(text("select 1"))
            probe.dispose()
            _postgres_problem.append("")
        except OperationalError as exc:
            _postgres_problem.append(str(exc.orig).splitlines()[0])
    return _postgres_problem[0] or None


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _postgres_problem and _postgres_problem[0]:
        terminalreporter.write_line(
            f"WARNING: PostgreSQL tests were skipped: {_postgres_problem[0]}", yellow=True
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'brightline.db'}"
        return
    problem = _postgres_reachable()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine_for(database_url)
    upgrade_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose transaction the test commits (or not) itself."""
    with sessions() as session:
        yield session
