"""Migration 0013 downgrades and upgrades again, widening the role check without signing anyone
out (on SQLite the accounts table is rebuilt, which would cascade into the sessions)."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from brightline.accounts import AccountRole, create_account, start_session
from brightline.accounts.models import Account, AccountSession
from brightline.storage import upgrade_database
from brightline.storage.migrate import alembic_config, schema_is_current

NOT_A_HASH = "not-a-hash"
"""A row nobody signs in to: only the role check is exercised."""
TABLES = {"clearinghouse_analysis_results", "clearinghouse_referrals"}


def test_0013_round_trip_keeps_sessions_and_gates_the_role(engine: Engine) -> None:
    sessions = sessionmaker(engine)
    with sessions.begin() as session:
        lead = create_account(
            session=session,
            username="lead-1",
            password="a placeholder passphrase",  # noqa: S106
            role=AccountRole.LEAD,
            actor="test",
        )
        start_session(session=session, account_id=lead.id)
        investigator = create_account(
            session=session,
            username="investigator-1",
            password="a placeholder passphrase",  # noqa: S106
            role=AccountRole.INVESTIGATOR,
            actor="test",
        )
        start_session(session=session, account_id=investigator.id)
    command.downgrade(alembic_config(engine), "0012")
    assert not set(inspect(engine).get_table_names()) & TABLES
    with sessions.begin() as session:
        assert list(session.scalars(select(Account.username))) == ["lead-1"]
        assert session.scalar(select(func.count()).select_from(AccountSession)) == 1
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(Account(username="x", password_hash=NOT_A_HASH, role="investigator"))
    upgrade_database(engine)
    assert schema_is_current(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    with sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(AccountSession)) == 1
        session.add(
            Account(username="investigator-2", password_hash=NOT_A_HASH, role="investigator")
        )
