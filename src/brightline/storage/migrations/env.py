"""Alembic environment: uses the engine handed over by :func:`upgrade_database`."""

from __future__ import annotations

from alembic import context

import brightline.storage.models  # noqa: F401  (registers every table on the metadata)
from brightline.storage.base import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
