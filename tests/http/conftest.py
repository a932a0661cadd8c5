"""Fixtures for the HTTP service: an app on a fresh database (SQLite and PostgreSQL), in-process.

``client`` runs the app's lifespan (database, indexes, background sync) through Starlette's
TestClient; ``keys`` holds one API key per role, created through the core service.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from brightline.access import Role, create_api_key
from brightline.http import create_app
from brightline.settings import ServiceSettings, Settings
from brightline.storage import create_engine_for, session_factory, upgrade_database


@pytest.fixture
def service_settings() -> ServiceSettings:
    """Override in a test module to change service settings (e.g. allow-listed networks)."""
    return ServiceSettings(index_sync_seconds=0.2, auth_cache_seconds=0.0, max_batch_size=10)


@pytest.fixture
def settings(tmp_path: Path, database_url: str, service_settings: ServiceSettings) -> Settings:
    return Settings(home=tmp_path / "home", database_url=database_url, service=service_settings)


@pytest.fixture
def keys(settings: Settings) -> dict[Role, str]:
    """One API key per role, created before the app starts."""
    engine = create_engine_for(settings.database_url)
    upgrade_database(engine)
    secrets = {}
    with session_factory(engine).begin() as session:
        for role in Role:
            _, secrets[role] = create_api_key(session=session, name=f"test {role}", roles=[role])
    engine.dispose()
    return secrets


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def client(settings: Settings, keys: dict[Role, str]) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def with_service(settings: Settings, **changes: object) -> Settings:
    return dataclasses.replace(settings, service=dataclasses.replace(settings.service, **changes))
