from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from brightline.errors import InvalidInput
from brightline.settings import load_settings
from brightline.storage import create_engine_for, upgrade_database
from brightline.storage.migrate import schema_is_current


def test_migrations_create_every_table(empty_database_url: str) -> None:
    engine = create_engine_for(empty_database_url)
    assert not schema_is_current(engine)
    upgrade_database(engine)
    tables = set(inspect(engine).get_table_names())
    assert {
        "banks",
        "bank_entries",
        "entry_changes",
        "brightline_meta",
        "alembic_version",
    } <= tables
    assert schema_is_current(engine)
    engine.dispose()


def test_upgrade_is_idempotent(engine: Engine) -> None:
    upgrade_database(engine)
    assert schema_is_current(engine)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_bad_database_url_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        create_engine_for("not a url")


def test_settings_default_home_is_xdg(tmp_path: Path) -> None:
    settings = load_settings({"XDG_DATA_HOME": str(tmp_path)})
    assert settings.home == tmp_path / "brightline"
    assert settings.database_url == f"sqlite:///{tmp_path / 'brightline' / 'brightline.db'}"


def test_settings_reject_bad_numbers(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="BRIGHTLINE_PDQ_THRESHOLD"):
        load_settings({"BRIGHTLINE_HOME": str(tmp_path), "BRIGHTLINE_PDQ_THRESHOLD": "64"})
    with pytest.raises(InvalidInput, match="BRIGHTLINE_MAX_FILE_BYTES"):
        load_settings({"BRIGHTLINE_HOME": str(tmp_path), "BRIGHTLINE_MAX_FILE_BYTES": "lots"})


def test_migrations_match_the_models(engine: Engine) -> None:
    """A model change without a migration (or the reverse) fails here, on both databases."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import brightline.storage.models  # noqa: F401
    from brightline.storage import Base

    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
