"""Storage: the engine and session factory, the declarative base and the Alembic migrations.

Domain packages define their tables on :class:`Base`; :mod:`brightline.storage.models` imports
them all so that Alembic (and tests) see one complete metadata.
"""

from brightline.storage.base import Base
from brightline.storage.engine import create_engine_for, session_factory
from brightline.storage.migrate import upgrade_database

__all__ = ["Base", "create_engine_for", "session_factory", "upgrade_database"]
