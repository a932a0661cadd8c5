"""Matches open review cases: uploads and URLs with a subject are kept in the vault and flagged.

Images are generated stand-ins; subjects are placeholder ids. Every test checks both what was
flagged and what was kept in the evidence vault: content that did not match is never stored.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from brightline.access import Role
from brightline.evidence import EvidenceStore
from brightline.http.routes import matching
from brightline.review import case_items, find_subject, get_case, open_case_for
from brightline.review.models import Case
from brightline.settings import ServiceSettings, Settings
from brightline.signals import HashingLimits, hash_content
from tests.factories import write_standin
from tests.http.conftest import auth
from tests.intake.loopback import Loopback, send_bytes, serve

SUBJECT = {"service": "example-forum", "user_id": "user-0001"}
UPLOADED_AT = "2026-01-02T03:04:05+00:00"


@pytest.fixture
def service_settings() -> ServiceSettings:
    return ServiceSettings(
        index_sync_seconds=0.2,
        auth_cache_seconds=0.0,
        max_batch_size=10,
        fetch_timeout_seconds=5.0,
        fetch_allow_networks=("127.0.0.1/32",),
    )


@pytest.fixture
def images(tmp_path: Path) -> list[bytes]:
    return [
        write_standin(tmp_path / f"standin-{seed}.jpg", seed=seed, size=(320, 240)).read_bytes()
        for seed in (21, 22, 23)
    ]


@pytest.fixture
def banked(client: TestClient, keys: dict[Role, str], images: list[bytes]) -> list[bytes]:
    """The first two images banked (A1), and in every worker's index; the third is not."""
    curator = auth(keys[Role.CURATOR])
    assert client.post("/v1/banks", json={"name": "known"}, headers=curator).status_code == 201
    values = []
    for image in images[:2]:
        pdq = hash_content(image, limits=HashingLimits()).signal("pdq")
        assert pdq is not None
        values.append(pdq.value)
    entries = [{"signal_type": "pdq", "value": v, "classification": "A1"} for v in values]
    added = client.post("/v1/banks/known/entries", json={"entries": entries}, headers=curator)
    assert added.json()["added"] == 2
    matcher = auth(keys[Role.MATCHER])
    deadline = time.monotonic() + 10
    for value in values:
        while True:
            found = client.get(
                "/v1/match/hash", params={"signal_type": "pdq", "value": value}, headers=matcher
            ).json()
            if found["status"] == "match":
                break
            assert time.monotonic() < deadline, "the banked entries never reached the index"
            time.sleep(0.1)
    return images[:2]


@pytest.fixture
def server(images: list[bytes]) -> Iterator[Loopback]:
    with serve() as state:
        state.routes["/media/banked.jpg"] = send_bytes(images[0])
        state.routes["/media/other.jpg"] = send_bytes(images[2])
        yield state


def _vault(client: TestClient) -> EvidenceStore:
    store: EvidenceStore = client.app.state.brightline.evidence  # type: ignore[attr-defined]
    return store


def _vault_objects(settings: Settings) -> list[Path]:
    root = settings.home / "evidence" / "objects"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def _cases(client: TestClient) -> list[Case]:
    with client.app.state.brightline.transaction() as session:  # type: ignore[attr-defined]
        cases = list(session.query(Case).all())
        session.expunge_all()
    return cases


def _upload(
    client: TestClient, keys: dict[Role, str], image: bytes, **fields: str
) -> dict[str, object]:
    response = client.post(
        "/v1/match/file",
        files={"file": ("upload.jpg", image, "image/jpeg")},
        data=fields,
        headers=auth(keys[Role.MATCHER]),
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_matching_upload_with_a_subject_opens_a_case(
    client: TestClient, keys: dict[Role, str], banked: list[bytes], settings: Settings
) -> None:
    body = _upload(
        client,
        keys,
        banked[0],
        **SUBJECT,
        display_name="Placeholder Name",
        screen_name="placeholder",
        profile_url="https://forum.example/u/0001",
        uploaded_at=UPLOADED_AT,
    )
    assert body["status"] == "match"
    assert isinstance(body["case_id"], int)
    assert isinstance(body["job_id"], int)
    with client.app.state.brightline.transaction() as session:  # type: ignore[attr-defined]
        case = get_case(session=session, case_id=body["case_id"])
        subject = find_subject(
            session=session, service="example-forum", platform_user_id="user-0001"
        )
        assert case.subject_id == subject.id
        assert (subject.display_name, subject.screen_name) == ("Placeholder Name", "placeholder")
        (item,) = case_items(session=session, case_id=case.id)
        assert item.job_id == body["job_id"]
        assert item.viewed_by_person is False
        assert item.source == "upload"
        assert item.media_type == "image/jpeg"
        assert item.sha256 == body["signals"]["sha256"]  # type: ignore[index]
        assert item.pdq == body["signals"]["pdq"]  # type: ignore[index]
        assert item.uploaded_at is not None
        assert item.uploaded_at.replace(tzinfo=UTC) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        media_ref = item.media_ref
    assert media_ref == f"sha256:{item.sha256}"
    assert _vault(client).read(media_ref) == banked[0]
    assert len(_vault_objects(settings)) == 1
    assert banked[0][:64] not in _vault_objects(settings)[0].read_bytes()


def test_a_second_match_for_the_same_user_joins_the_case(
    client: TestClient, keys: dict[Role, str], banked: list[bytes], settings: Settings
) -> None:
    first = _upload(client, keys, banked[0], **SUBJECT)
    second = _upload(client, keys, banked[1], **SUBJECT)
    again = _upload(client, keys, banked[0], **SUBJECT)
    assert first["case_id"] == second["case_id"] == again["case_id"]
    assert again["job_id"] == first["job_id"]
    with client.app.state.brightline.transaction() as session:  # type: ignore[attr-defined]
        items = case_items(session=session, case_id=first["case_id"])
        assert len(items) == 2  # the same file again extends its item
        refs = [item.media_ref for item in items]
    assert [_vault(client).read(ref) for ref in refs if ref] == banked
    assert len(_vault_objects(settings)) == 2

    other = _upload(client, keys, banked[0], service="example-forum", user_id="user-0002")
    assert other["case_id"] != first["case_id"]
    assert len(_vault_objects(settings)) == 2  # the same bytes are stored once


def test_batch_uploads_flag_each_match_under_one_subject(
    client: TestClient, keys: dict[Role, str], banked: list[bytes], images: list[bytes]
) -> None:
    response = client.post(
        "/v1/match/files",
        files=[("files", (f"{n}.jpg", image, "image/jpeg")) for n, image in enumerate(images)],
        data=SUBJECT,
        headers=auth(keys[Role.MATCHER]),
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["match", "match", "no_match"]
    assert results[0]["case_id"] == results[1]["case_id"] is not None
    assert results[2]["case_id"] is None


def test_without_a_subject_nothing_is_flagged_or_kept(
    client: TestClient, keys: dict[Role, str], banked: list[bytes], settings: Settings
) -> None:
    body = _upload(client, keys, banked[0])
    assert body["status"] == "match"
    assert body["case_id"] is None
    assert body["job_id"] is None
    assert _cases(client) == []
    assert _vault_objects(settings) == []


def test_content_that_does_not_match_is_never_stored(
    client: TestClient,
    keys: dict[Role, str],
    banked: list[bytes],
    images: list[bytes],
    settings: Settings,
) -> None:
    body = _upload(client, keys, images[2], **SUBJECT, uploaded_at=UPLOADED_AT)
    assert body["status"] == "no_match"
    assert body["case_id"] is None
    assert _vault_objects(settings) == []
    assert _cases(client) == []
    with client.app.state.brightline.transaction() as session:  # type: ignore[attr-defined]
        assert session.query(Case).count() == 0


def test_a_fetched_url_with_a_subject_is_flagged(
    client: TestClient,
    keys: dict[Role, str],
    banked: list[bytes],
    server: Loopback,
    settings: Settings,
) -> None:
    matcher = auth(keys[Role.MATCHER])
    miss = client.post(
        "/v1/match/url",
        json={"url": server.url("/media/other.jpg"), "subject": SUBJECT},
        headers=matcher,
    )
    assert miss.json()["status"] == "no_match"
    assert _vault_objects(settings) == []
    response = client.post(
        "/v1/match/url",
        json={
            "url": server.url("/media/banked.jpg"),
            "subject": {**SUBJECT, "screen_name": "placeholder"},
            "uploaded_at": UPLOADED_AT,
        },
        headers=matcher,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "match"
    with client.app.state.brightline.transaction() as session:  # type: ignore[attr-defined]
        subject = find_subject(
            session=session, service="example-forum", platform_user_id="user-0001"
        )
        case = open_case_for(session=session, subject_id=subject.id)
        assert case is not None
        assert case.id == body["case_id"]
        (item,) = case_items(session=session, case_id=case.id)
        assert item.source == "url"
        media_ref = item.media_ref
    assert media_ref is not None
    assert _vault(client).read(media_ref) == banked[0]
    assert len(_vault_objects(settings)) == 1


@pytest.mark.parametrize(
    ("fields", "status", "error", "detail"),
    [
        (
            {**SUBJECT, "service": "s" * 201},
            422,
            "invalid_request",
            "body.service: String should have at most 200 characters",
        ),
        (
            {**SUBJECT, "user_id": "u" * 201},
            422,
            "invalid_request",
            "body.user_id: String should have at most 200 characters",
        ),
        (
            {**SUBJECT, "display_name": "d" * 501},
            422,
            "invalid_request",
            "body.display_name: String should have at most 500 characters",
        ),
        (
            {**SUBJECT, "profile_url": "p" * 2001},
            422,
            "invalid_request",
            "body.profile_url: String should have at most 2000 characters",
        ),
        (
            {**SUBJECT, "user_id": "   "},
            422,
            "invalid_request",
            "body.user_id: String should match pattern '^[^\\x00]*\\S[^\\x00]*$'",
        ),
        (
            {**SUBJECT, "display_name": "nul\x00"},
            422,
            "invalid_request",
            "body.display_name: String should match pattern '^[^\\x00]*$'",
        ),
        (
            {**SUBJECT, "uploaded_at": "yesterday"},
            422,
            "invalid_request",
            "body.uploaded_at: Input should be a valid datetime or date, input is too short",
        ),
        (
            {**SUBJECT, "uploaded_at": "2026-01-02T03:04:05"},
            422,
            "invalid_request",
            "body.uploaded_at: Input should have timezone info",
        ),
        (
            {"service": "example-forum"},
            400,
            "invalid_input",
            "a review subject needs both service and user_id",
        ),
        (
            {"screen_name": "placeholder"},
            400,
            "invalid_input",
            "display_name, screen_name, profile_url and uploaded_at need service and user_id",
        ),
    ],
)
def test_bad_subject_fields_are_refused_precisely(
    client: TestClient,
    keys: dict[Role, str],
    banked: list[bytes],
    settings: Settings,
    fields: dict[str, str],
    status: int,
    error: str,
    detail: str,
) -> None:
    response = client.post(
        "/v1/match/file",
        files={"file": ("upload.jpg", banked[0], "image/jpeg")},
        data=fields,
        headers=auth(keys[Role.MATCHER]),
    )
    assert response.status_code == status, response.text
    assert response.json() == {"error": error, "detail": detail}
    assert _vault_objects(settings) == []
    assert _cases(client) == []


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"subject": {**SUBJECT, "service": "s" * 201}},
            "body.subject.service: String should have at most 200 characters",
        ),
        ({"subject": {"service": "example-forum"}}, "body.subject.user_id: Field required"),
        (
            {"subject": {**SUBJECT, "email": "x"}},
            "body.subject.email: Extra inputs are not permitted",
        ),
        (
            {"subject": SUBJECT, "uploaded_at": "2026-01-02"},
            "body.uploaded_at: Input should have timezone info",
        ),
    ],
)
def test_bad_url_subjects_are_refused_precisely(
    client: TestClient,
    keys: dict[Role, str],
    server: Loopback,
    body: dict[str, object],
    detail: str,
) -> None:
    response = client.post(
        "/v1/match/url",
        json={"url": server.url("/media/banked.jpg"), **body},
        headers=auth(keys[Role.MATCHER]),
    )
    assert response.status_code == 422, response.text
    assert response.json() == {"error": "invalid_request", "detail": detail}
    assert server.seen == []


def test_uploaded_at_without_a_subject_is_refused(
    client: TestClient, keys: dict[Role, str], server: Loopback
) -> None:
    response = client.post(
        "/v1/match/url",
        json={"url": server.url("/media/banked.jpg"), "uploaded_at": UPLOADED_AT},
        headers=auth(keys[Role.MATCHER]),
    )
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_input", "detail": "uploaded_at needs a subject"}
    assert server.seen == []


def test_an_upload_hashed_from_disk_is_kept_before_its_temporary_file_goes(
    client: TestClient,
    keys: dict[Role, str],
    banked: list[bytes],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Uploads over the in-memory limit (and videos) are hashed from a temporary file: the vault
    must stream that file in while it still exists."""
    monkeypatch.setattr(matching, "IN_MEMORY_BYTES", 1024)
    body = _upload(client, keys, banked[1], **SUBJECT)
    assert body["status"] == "match"
    with client.app.state.brightline.transaction() as session:  # type: ignore[attr-defined]
        (item,) = case_items(session=session, case_id=body["case_id"])
        media_ref = item.media_ref
    assert media_ref is not None
    assert _vault(client).read(media_ref) == banked[1]
    assert len(_vault_objects(settings)) == 1
