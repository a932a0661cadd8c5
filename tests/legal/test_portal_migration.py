"""Migration 0015 (portal codes, sessions, form keys) downgrades and upgrades again."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from brightline.storage import upgrade_database
from brightline.storage.migrate import alembic_config, schema_is_current

TABLES = {"legal_portal_codes", "legal_portal_sessions", "legal_portal_form_keys"}


def test_0015_downgrades_and_upgrades_again(engine: Engine) -> None:
    assert set(inspect(engine).get_table_names()) >= TABLES
    command.downgrade(alembic_config(engine), "0014")
    tables = set(inspect(engine).get_table_names())
    assert not tables & TABLES
    assert "legal_officers" in tables
    upgrade_database(engine)
    assert schema_is_current(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
