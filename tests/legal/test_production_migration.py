"""Migration 0016 (legal productions) on both databases: its tables come and go, the history's
new event kinds and the new flag code are accepted, the rebuilt SQLite table stays append-only,
and a downgrade is refused while the history uses the new kinds."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from brightline.legal.models import RequestEvent
from brightline.storage import session_factory, upgrade_database
from brightline.storage.migrate import alembic_config, schema_is_current
from tests.legal.helpers import T0, make_sender

TABLES = {"legal_productions", "legal_production_members", "legal_production_downloads"}


def test_0016_downgrades_and_upgrades_again(engine: Engine) -> None:
    assert set(inspect(engine).get_table_names()) >= TABLES
    command.downgrade(alembic_config(engine), "0015")
    tables = set(inspect(engine).get_table_names())
    assert not tables & TABLES
    assert "legal_requests" in tables  # 0011's tables stay
    upgrade_database(engine)
    assert schema_is_current(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES

    with session_factory(engine).begin() as session:
        sender = make_sender(session)
        session.execute(
            text(
                "INSERT INTO legal_requests (type, status, channel, agency_id, officer_id, "
                "external_reference, reference_key, legal_basis, received_at, received_by, "
                "verify_due_at, renewals, max_renewals) VALUES ('subpoena', 'received', 'staff', "
                ":agency, :officer, 'EX-MIG', 'ex-mig', 'synthetic', :at, 'staff', :at, 0, 0)"
            ),
            {"agency": sender.agency.id, "officer": sender.officer.id, "at": T0},
        )
        request_id = session.execute(text("SELECT max(id) FROM legal_requests")).scalar_one()
        session.add(
            RequestEvent(request_id=request_id, at=T0, kind="production_built", actor="staff")
        )
        session.execute(
            text(
                "INSERT INTO legal_request_flags (request_id, code, message, raised_at) "
                "VALUES (:request, 'export_failed', 'synthetic', :at)"
            ),
            {"request": request_id, "at": T0},
        )
    with session_factory(engine).begin() as session, pytest.raises(DBAPIError):
        session.execute(text("UPDATE legal_request_events SET actor = 'someone else'"))
    with pytest.raises(RuntimeError, match="cannot be downgraded"):
        command.downgrade(alembic_config(engine), "0015")
    assert schema_is_current(engine)
