"""Migration 0005 downgrades cleanly (triggers included) and upgrades again, on both databases."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from brightline.storage import upgrade_database
from brightline.storage.migrate import alembic_config, schema_is_current


def test_0005_downgrades_and_upgrades_again(engine: Engine) -> None:
    assert "review_audit_log" in inspect(engine).get_table_names()
    command.downgrade(alembic_config(engine), "0004")
    assert not [t for t in inspect(engine).get_table_names() if t.startswith("review_")]
    upgrade_database(engine)
    assert schema_is_current(engine)
    assert "review_audit_log" in inspect(engine).get_table_names()
