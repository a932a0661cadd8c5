"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``BRIGHTLINE_TEST_POSTGRES_URL`` (default: the local server, database
``test``). Each test gets a fresh database that is dropped afterwards, so runs never share state.
Migrating a database takes about half a second, and most of the suite needs one, so each run
migrates one template per backend and every test gets a copy (a file copy on SQLite,
``CREATE DATABASE … TEMPLATE`` on PostgreSQL); ``empty_database_url`` is for the tests that
need a database no migration has touched.
With ``CI=true`` an unreachable PostgreSQL fails the run; elsewhere those tests are skipped and the
run ends with a visible warning.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

import brightline.accounts.service as account_service
from brightline.storage import create_engine_for, session_factory, upgrade_database

POSTGRES_URL = os.environ.get(
    "BRIGHTLINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_postgres_problem: list[str] = []
_SKIP_PREFIX = "PostgreSQL unreachable: "


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
    problem = _postgres_problem[0] if _postgres_problem else ""
    if not problem:
        # Under pytest-xdist the workers probed, not this process: their skip reasons tell.
        for report in terminalreporter.stats.get("skipped", []):
            longrepr = getattr(report, "longrepr", None)
            reason = str(longrepr[2]) if isinstance(longrepr, (tuple, list)) else ""
            if _SKIP_PREFIX in reason:
                problem = reason.split(_SKIP_PREFIX, 1)[1]
                break
    if problem:
        terminalreporter.write_line(
            f"WARNING: PostgreSQL tests were skipped: {problem}", yellow=True
        )


def _require_postgres() -> None:
    problem = _postgres_reachable()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {problem}")
        pytest.skip(f"{_SKIP_PREFIX}{problem}")


def _postgres_admin() -> Engine:
    return create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")


def _postgres_url_for(database: str) -> str:
    return make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)


@pytest.fixture(autouse=True)
def _cheap_console_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Console passwords hashed with argon2's cheapest parameters in tests.

    The production parameters cost tens of milliseconds a hash by design, and the console
    tests create and sign in several accounts each: together that was a noticeable share of
    the CI budget. Hashes are still argon2id, and a hash made with other parameters (say, by
    the CLI in a subprocess) still verifies: the parameters travel in the hash.
    """
    monkeypatch.setattr(
        account_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "brightline.db"
    engine = create_engine_for(f"sqlite:///{path}")
    upgrade_database(engine)
    engine.dispose()  # the last connection checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[str]:
    _require_postgres()
    name = f"bl_template_{uuid.uuid4().hex[:12]}"
    admin = _postgres_admin()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        engine = create_engine_for(_postgres_url_for(name))
        upgrade_database(engine)
        engine.dispose()  # a template must have no connections while it is copied
        yield name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def _postgres_database(template: str | None) -> Iterator[str]:
    name = f"bl_t_{uuid.uuid4().hex[:12]}"
    admin = _postgres_admin()
    clause = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    try:
        yield _postgres_url_for(name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database already migrated to the latest revision, on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("_sqlite_template")
        path = tmp_path_factory.mktemp("db") / "brightline.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    _require_postgres()
    with _postgres_database(request.getfixturevalue("_postgres_template")) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database no migration has touched, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'brightline.db'}"
        return
    _require_postgres()
    with _postgres_database(None) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine_for(database_url)
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
