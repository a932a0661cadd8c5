"""What every command needs: settings, a database with a current schema, the signal registry."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine, inspect
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from brightline.errors import StorageError
from brightline.settings import Settings
from brightline.signals import default_registry
from brightline.signals.registry import SignalTypeRegistry
from brightline.storage import create_engine_for, session_factory, upgrade_database
from brightline.storage.migrate import schema_is_current


@dataclass
class CliContext:
    settings: Settings
    registry: SignalTypeRegistry = field(default_factory=default_registry)

    @cached_property
    def engine(self) -> Engine:
        return create_engine_for(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """Sessions on a database whose schema is current.

        A brand-new database (the embedded default on first use) is created on the spot: zero
        setup. An existing one that is behind is left alone and the user is told to run
        ``brightline db upgrade``, because upgrading a shared production database is a decision.
        """
        try:
            if not inspect(self.engine).get_table_names():
                upgrade_database(self.engine)
            elif not schema_is_current(self.engine):
                raise StorageError(
                    "the database schema is out of date: run `brightline db upgrade`"
                )
        except OperationalError as exc:
            raise StorageError(f"cannot open the database: {exc.orig}") from None
        return session_factory(self.engine)

    def close(self) -> None:
        """Release database connections (called when the command ends)."""
        if "engine" in self.__dict__:
            self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction: committed if the block succeeds, rolled back if it raises."""
        with self.sessions.begin() as session:
            yield session


def default_actor() -> str:
    """Who a command acts as when ``--by`` is not given: ``cli:$USER`` (``cli`` without one)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
