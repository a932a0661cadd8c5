"""The intake's throughput paths: verified logins remembered for a while (and forgotten when
they must be), oversized requests answered in the protocol, settings refused in one line, and
the vault's deferred sync keeping its all-or-nothing promise."""

from __future__ import annotations

import base64
import hashlib
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from brightline.clearinghouse import intake
from brightline.clearinghouse.models import IntakeProvider
from brightline.errors import InvalidInput
from brightline.evidence.storage import LocalDirectoryStorage
from brightline.evidence.store import EvidenceStore
from brightline.http.auth_cache import VerifiedLogins
from brightline.http.body_limit import MULTIPART_ALLOWANCE
from brightline.http.clearinghouse_routes import (
    IntakeState,
    create_combined_app,
    create_intake_app,
)
from brightline.settings import load_clearinghouse_settings, load_settings
from tests.clearinghouse_intake.conftest import MAX_UPLOAD, PASSWORD, PROVIDER
from tests.clearinghouse_intake.test_intake_http import answer, code, submitted


def test_verified_logins_expire_and_never_hold_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    monkeypatch.setattr("brightline.http.auth_cache.time.monotonic", lambda: clock[0])
    logins = VerifiedLogins(ttl=30)
    assert logins.cached("esp", "secret password") is None
    logins.remember("esp", "secret password", 7)
    assert logins.cached("esp", "secret password") == 7
    assert logins.cached("esp", "other password") is None
    assert logins.cached("esp2", "secret password") is None
    assert all(b"secret" not in key for key in logins._entries)
    clock[0] += 31
    assert logins.cached("esp", "secret password") is None
    off = VerifiedLogins(ttl=0)
    off.remember("esp", "secret password", 7)
    assert off.cached("esp", "secret password") is None


@pytest.fixture
def cached_http(state: IntakeState) -> TestClient:
    state.logins = VerifiedLogins(ttl=60)
    client = TestClient(create_intake_app(state), base_url="http://intake.test/ispws/")
    client.auth = (PROVIDER, PASSWORD)
    return client


def test_a_login_costs_one_argon2_verification_and_a_disabled_provider_stops_at_once(
    cached_http: TestClient, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    verified = []
    hasher = intake._hasher

    class Counting:
        def verify(self, stored: str, password: str) -> bool:
            verified.append(1)
            return bool(hasher.verify(stored, password))

    monkeypatch.setattr(intake, "_hasher", Counting())
    for _ in range(3):
        assert code(cached_http.get("status")) == 0
    submitted(cached_http)
    assert len(verified) == 1
    # A wrong password is never served from the cache.
    cached_http.auth = (PROVIDER, "wrong password 12")
    assert code(cached_http.get("status")) == 2000
    assert len(verified) == 2
    cached_http.auth = (PROVIDER, PASSWORD)
    with sessions.begin() as session:
        session.execute(
            update(IntakeProvider)
            .where(IntakeProvider.name == PROVIDER)
            .values(disabled_at=intake.utcnow())
        )
    for path in ("status", "xsd"):
        response = cached_http.get(path)
        assert (response.status_code, code(response)) == (401, 2000)
    assert len(verified) == 2  # refused from its row, without another verification


def test_an_oversized_upload_is_answered_with_a_report_response(
    app: FastAPI, http: TestClient
) -> None:
    report_id = submitted(http)
    response = http.post(
        "upload", data={"id": str(report_id)}, files={"file": ("f", b"x" * (MAX_UPLOAD + 70_000))}
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/xml")
    fields = answer(response)
    assert fields["responseCode"] == "4000"
    assert "larger than" in fields["responseDescription"]
    # Without a Content-Length (chunked), the same answer once the cap is passed.
    chunked = http.post(
        "upload",
        content=iter([b"y" * 50_000] * 4),
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert chunked.status_code == 413
    assert code(chunked) == 4000


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("BRIGHTLINE_CLEARINGHOUSE_EXPIRE_HOURS", "soon", "must be a number"),
        ("BRIGHTLINE_CLEARINGHOUSE_EXPIRE_HOURS", "0", "must be between"),
        ("BRIGHTLINE_CLEARINGHOUSE_AUTH_CACHE_SECONDS", "-1", "must be between"),
        ("BRIGHTLINE_CLEARINGHOUSE_MAX_UPLOAD_BYTES", "lots", "must be an integer"),
        ("BRIGHTLINE_CLEARINGHOUSE_IMPORT_BATCH", "0", "must be between"),
        ("BRIGHTLINE_CLEARINGHOUSE_SCHEMA_PATH", "/nonexistent/x.xsd", "readable file"),
    ],
)
def test_bad_intake_settings_are_refused_in_one_line(name: str, value: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as refused:
        load_clearinghouse_settings({name: value})
    assert name in str(refused.value)
    assert "\n" not in str(refused.value)


def test_intake_settings_default_to_the_service_upload_cap() -> None:
    loaded = load_clearinghouse_settings({"BRIGHTLINE_MAX_UPLOAD_BYTES": "1234"})
    assert loaded.max_upload_bytes == 1234
    assert loaded.expire_hours == 24.0
    assert loaded.auth_cache_seconds == 30.0


def test_deferred_sync_is_all_or_nothing(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "vault", secrets.token_bytes(32))
    storage = store.storage
    assert isinstance(storage, LocalDirectoryStorage)
    with storage.deferred_sync():
        ref = store.put(b"one")
        assert store.exists(ref)  # known to the batch (deduplicated) ...
        assert store.put(b"one") == ref
        placed = [
            path
            for path in (tmp_path / "vault").rglob("*")
            if path.is_file() and not path.name.startswith(".tmp-")
        ]
        assert placed == []  # nothing renamed into place before the batch is durable
    assert store.read(ref) == b"one"  # ... and in place once the batch ends
    lost = "sha256:" + hashlib.sha256(b"two").hexdigest()

    def crash() -> None:
        with storage.deferred_sync():
            store.put(b"two")
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError, match="crash"):
        crash()
    assert not store.exists(lost)
    assert not list((tmp_path / "vault").rglob(".tmp-*"))

    def nested() -> None:
        with storage.deferred_sync(), storage.deferred_sync():
            pass

    with pytest.raises(RuntimeError, match="nest"):
        nested()


def test_deferred_writes_from_several_threads_all_land(tmp_path: Path) -> None:
    """The bulk import seals files on several threads inside one deferred batch."""
    store = EvidenceStore(tmp_path / "vault", secrets.token_bytes(32))
    storage = store.storage
    assert isinstance(storage, LocalDirectoryStorage)
    contents = [secrets.token_bytes(64) for _ in range(40)]
    contents += contents[:10]  # the same content from two threads: deduplicated, not lost
    with storage.deferred_sync(), ThreadPoolExecutor(4) as pool:
        refs = list(pool.map(store.put, contents))
    assert [store.read(ref) for ref in refs] == contents
    assert sorted(store.refs()) == sorted(set(refs))
    assert not list((tmp_path / "vault").rglob(".tmp-*"))


def test_a_missing_shard_directory_is_made_again_owner_only(tmp_path: Path) -> None:
    """Shard directories are made when a write finds them missing (not checked on every
    write), so one removed since is simply made again, 0700."""
    store = EvidenceStore(tmp_path / "vault", secrets.token_bytes(32))
    first = store.put(b"first")
    digest = first.removeprefix("sha256:")
    shard = tmp_path / "vault" / "objects" / digest[:2] / digest[2:4]
    assert store.destroy(first)
    shard.rmdir()
    (tmp_path / "vault" / "keys" / digest[:2] / digest[2:4]).rmdir()
    assert store.put(b"first") == first
    assert store.read(first) == b"first"
    assert shard.stat().st_mode & 0o777 == 0o700


def test_the_combined_app_answers_each_prefix_in_its_own_protocol(
    database_url: str, schema_path: Path, tmp_path: Path
) -> None:
    limits = {
        "BRIGHTLINE_DATABASE_URL": database_url,
        "BRIGHTLINE_HOME": str(tmp_path),
        "BRIGHTLINE_EVIDENCE_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "BRIGHTLINE_CLEARINGHOUSE_SCHEMA_PATH": str(schema_path),
        "BRIGHTLINE_MAX_UPLOAD_BYTES": "100",
        "BRIGHTLINE_CLEARINGHOUSE_MAX_UPLOAD_BYTES": "1000",
    }
    app = create_combined_app(load_settings(limits), limits)
    too_big = b"x" * (MULTIPART_ALLOWANCE + 2000)
    with TestClient(app) as client:
        intake_answer = client.post("/ispws/submit", content=too_big, auth=("anyone", "any"))
        assert intake_answer.status_code == 413
        assert code(intake_answer) == 4000
        platform_answer = client.post("/v1/match/file", content=too_big)
        assert platform_answer.status_code == 413
        assert platform_answer.json()["error"] == "too_large"
