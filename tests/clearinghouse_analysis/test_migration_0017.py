"""Migration 0017 downgrades cleanly (its tables and columns gone, 0013's kept) and upgrades
again, on both databases."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from brightline.storage import upgrade_database
from brightline.storage.migrate import alembic_config, schema_is_current

TABLES = {"clearinghouse_investigator_agencies", "clearinghouse_analysis_runs"}
COLUMNS = {
    "clearinghouse_analysis_results": "incident_at",
    "clearinghouse_referrals": "first_routed_at",
}


def _columns(engine: Engine, table: str) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns(table)}


def test_0017_downgrades_and_upgrades_again(engine: Engine) -> None:
    assert set(inspect(engine).get_table_names()) >= TABLES
    command.downgrade(alembic_config(engine), "0016")
    tables = set(inspect(engine).get_table_names())
    assert not tables & TABLES
    for table, column in COLUMNS.items():
        assert table in tables
        assert column not in _columns(engine, table)
    upgrade_database(engine)
    assert schema_is_current(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    for table, column in COLUMNS.items():
        assert column in _columns(engine, table)
