"""Migration 0014 downgrades cleanly and upgrades again, on both databases."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from brightline.storage import upgrade_database
from brightline.storage.migrate import alembic_config, schema_is_current

TABLES = {"text_term_lists", "text_terms", "text_variant_candidates"}


def test_0014_downgrades_and_upgrades_again(engine: Engine) -> None:
    assert set(inspect(engine).get_table_names()) >= TABLES
    command.downgrade(alembic_config(engine), "0013")
    tables = set(inspect(engine).get_table_names())
    assert not tables & TABLES
    assert "clearinghouse_reports" in tables  # an earlier revision's table stays
    upgrade_database(engine)
    assert schema_is_current(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    indexes = {index["name"] for index in inspect(engine).get_indexes("text_terms")}
    assert "uq_text_terms_current" in indexes
