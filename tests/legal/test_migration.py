"""Migration 0011 downgrades cleanly (triggers included) and upgrades again, on both databases."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from brightline.storage import upgrade_database
from brightline.storage.migrate import alembic_config, schema_is_current

TABLES = {
    "legal_agencies",
    "legal_agency_domains",
    "legal_officers",
    "legal_requests",
    "legal_request_accounts",
    "legal_request_attachments",
    "legal_request_notes",
    "legal_request_events",
    "legal_request_flags",
    "legal_escalations",
}


def test_0011_downgrades_and_upgrades_again(engine: Engine) -> None:
    assert set(inspect(engine).get_table_names()) >= TABLES
    command.downgrade(alembic_config(engine), "0010")
    tables = set(inspect(engine).get_table_names())
    assert not tables & TABLES
    assert "legal_holds" in tables  # 0010's own table stays
    upgrade_database(engine)
    assert schema_is_current(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
