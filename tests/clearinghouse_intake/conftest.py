"""Fixtures: the intake over a migrated database (SQLite and PostgreSQL), a vault, a provider.

Every document names placeholder people at ``example.org`` and every file is random bytes:
nothing here resembles real material. Argon2 runs with its cheapest parameters here (the
production parameters are the library's defaults), which keeps each request fast.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from brightline.clearinghouse import intake
from brightline.clearinghouse.intake import register_provider
from brightline.evidence.store import EvidenceStore
from brightline.http.clearinghouse_routes import IntakeState, create_intake_app

REPO = Path(__file__).resolve().parents[2]
SCHEMA_CANDIDATES = (
    REPO.parent / "shared" / "reference" / "cybertipline" / "cyber_tipline.xsd",
    REPO / "src" / "brightline" / "reports" / "schema" / "cyber_tipline.xsd",
)
PROVIDER = "esp-example"
PASSWORD = "placeholder password 1"  # noqa: S105  (a test provider's made-up password)
OTHER_PROVIDER = "esp-other"
MAX_UPLOAD = 100_000

VALID_REPORT = (
    b"<report><incidentSummary><incidentType>Child Pornography (possession, manufacture, and "
    b"distribution)</incidentType><incidentDateTime>2026-11-30T10:00:00Z</incidentDateTime>"
    b"</incidentSummary><reporter><reportingPerson><email>trust-safety@example.org</email>"
    b"</reportingPerson></reporter></report>"
)
INVALID_REPORT = VALID_REPORT.replace(b"Child Pornography (possession", b"Not A Known (type")


def file_details(report_id: int, file_id: str, md5: str) -> bytes:
    return (
        f"<fileDetails><reportId>{report_id}</reportId><fileId>{file_id}</fileId>"
        "<fileViewedByEsp>false</fileViewedByEsp>"
        f'<originalFileHash hashType="MD5">{md5}</originalFileHash></fileDetails>'
    ).encode()


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        intake, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    intake._dummy_hash.cache_clear()


@pytest.fixture
def schema_path() -> Path:
    for candidate in SCHEMA_CANDIDATES:
        if candidate.is_file():
            return candidate
    if os.environ.get("CI") == "true":
        pytest.fail("the CyberTipline schema is required in CI but was not found")
    pytest.skip("the CyberTipline schema was not found: intake tests skipped")


@pytest.fixture
def store(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore(tmp_path / "evidence", secrets.token_bytes(32), chunk_size=4096)


@pytest.fixture
def providers(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Two registered providers: name → id."""
    with sessions.begin() as session:
        return {
            name: register_provider(session=session, name=name, password=PASSWORD).id
            for name in (PROVIDER, OTHER_PROVIDER)
        }


@pytest.fixture
def state(
    sessions: sessionmaker[Session],
    store: EvidenceStore,
    schema_path: Path,
    providers: dict[str, int],
) -> IntakeState:
    return IntakeState(
        sessions=sessions, store=store, schema_path=schema_path, max_upload_bytes=MAX_UPLOAD
    )


@pytest.fixture
def app(state: IntakeState) -> FastAPI:
    return create_intake_app(state)


@pytest.fixture
def http(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://intake.test/ispws/") as client:
        client.auth = (PROVIDER, PASSWORD)
        yield client


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` under uvicorn in a thread on a free loopback port; yields the intake's URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", ws="none", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the intake server did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}/ispws"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


@pytest.fixture
def intake_url(app: FastAPI) -> Iterator[str]:
    with serving(app) as url:
        yield url
