"""The law-enforcement portal over HTTP: sign-in with a mailed code, an officer's own agency
only, submissions with attachments, and every bad input refused with a reason and nothing
stored."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from brightline.custody.models import CustodyRecord
from brightline.legal import add_agency, list_officers, revoke_officer
from brightline.legal.models import LegalRequest, RequestAttachment
from brightline.legal.portal_mail import RecordingMailer
from brightline.settings import ServiceSettings, Settings
from brightline.storage import create_engine_for, session_factory
from brightline.web.portal import code_mailer
from tests.web.portal_helpers import (
    PDF,
    Seeded,
    ask_for_code,
    delivered_production,
    hidden,
    portal_app,
    portal_sign_in,
    seed_portal,
)


@dataclass(frozen=True)
class Portal:
    settings: Settings
    mailer: RecordingMailer
    app: FastAPI
    client: TestClient


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path) -> Iterator[Portal]:
    """One app for the module (starting one costs more than the tests): SQLite only, since
    the service tests run on both databases; each test seeds its own agencies."""
    folder = tmp_path_factory.mktemp("portal")
    shutil.copyfile(_sqlite_template, folder / "brightline.db")
    settings = Settings(
        home=folder / "home",
        database_url=f"sqlite:///{folder / 'brightline.db'}",
        service=ServiceSettings(index_sync_seconds=0.5, auth_cache_seconds=0.0),
    )
    mailer = RecordingMailer()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BRIGHTLINE_LEGAL_MAX_ATTACHMENT_BYTES", "2000")
        patch.setenv("BRIGHTLINE_LEGAL_MAX_ATTACHMENTS", "2")
        app = portal_app(settings, mailer)
    with TestClient(app, follow_redirects=False) as client:
        yield Portal(settings, mailer, app, client)


@pytest.fixture
def settings(portal: Portal) -> Settings:
    return portal.settings


@pytest.fixture
def mailer(portal: Portal) -> RecordingMailer:
    portal.mailer.sent.clear()
    return portal.mailer


@pytest.fixture
def client(portal: Portal) -> TestClient:
    portal.client.cookies.clear()
    return portal.client


@pytest.fixture
def seeded(settings: Settings) -> Seeded:
    return seed_portal(settings)


def _counts(settings: Settings) -> tuple[int, int, int]:
    engine = create_engine_for(settings.database_url)
    with session_factory(engine)() as session:
        requests = session.scalar(select(func.count()).select_from(LegalRequest)) or 0
        attachments = session.scalar(select(func.count()).select_from(RequestAttachment)) or 0
    engine.dispose()
    vault = settings.home / "evidence"
    files = sum(1 for path in vault.rglob("*") if path.is_file()) if vault.exists() else 0
    return requests, attachments, files


def _form(csrf: str, reference: str, **extra: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "form_key": f"key-{reference}-0123456789",
        "type": "subpoena",
        "external_reference": reference,
        "legal_basis": "Synthetic subpoena for tests",
        "accounts": "example:user-unknown-0001",
        "stated_due": "2027-01-15",
        **extra,
    }


def test_an_officer_signs_in_submits_and_sees_their_request_with_its_deadline(
    client: TestClient, mailer: RecordingMailer, seeded: Seeded
) -> None:
    assert client.get("/portal/requests").headers["location"] == (
        "/portal/login?next=/portal/requests"
    )
    csrf = portal_sign_in(client, mailer, seeded.ours.email)
    assert "bl_portal" in client.cookies
    assert "bl_session" not in client.cookies
    assert client.get("/console/queues").headers["location"].startswith("/console/login")

    answer = client.post(
        "/portal/requests",
        data=_form(csrf, "EX-HTTP-0001"),
        files=[("attachments", ("letter.pdf", PDF, "application/pdf"))],
    )
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert re.fullmatch(r"/portal/requests/\d+\?received=1", location)
    detail = client.get(location)
    assert detail.status_code == 200
    assert "EX-HTTP-0001" in detail.text
    assert "letter.pdf" in detail.text
    assert 'id="received"' in detail.text
    assert "2027-01-15" in detail.text  # the stated date, end of day (UTC: midnight after)
    assert "unknown_account" not in detail.text  # flags and account states stay staff-side
    for name in ("Content-Security-Policy", "X-Frame-Options", "Referrer-Policy"):
        assert name in detail.headers
    assert detail.headers["Cache-Control"] == "no-store"

    listing = client.get("/portal/requests")
    assert "EX-HTTP-0001" in listing.text
    assert re.search(r'class="deadline">verify \d{4}-\d\d-\d\d \d\d:\d\d UTC', listing.text)
    assert seeded.their_reference not in listing.text

    # The same form again (a double click) is not a second request.
    again = client.post("/portal/requests", data=_form(csrf, "EX-HTTP-0001"))
    assert again.status_code == 409
    assert "already submitted" in again.text
    # The same reference in a new form is a duplicate, refused naming the request.
    duplicate = client.post(
        "/portal/requests", data={**_form(csrf, "ex-http-0001 "), "form_key": "another-key-0001"}
    )
    assert duplicate.status_code == 409
    assert "duplicate submission" in duplicate.text

    signed_out = client.post("/portal/logout", data={"csrf_token": csrf})
    assert signed_out.status_code == 303
    assert client.get("/portal/requests").status_code == 303


def test_another_agencys_request_is_not_found(
    client: TestClient, mailer: RecordingMailer, seeded: Seeded
) -> None:
    portal_sign_in(client, mailer, seeded.ours.email)
    theirs = client.get(f"/portal/requests/{seeded.their_request_id}")
    missing = client.get("/portal/requests/999999")
    assert theirs.status_code == missing.status_code == 404
    assert seeded.their_reference not in theirs.text
    assert client.get("/portal/requests/99999999999999999999").status_code in {404, 422, 400}


def _downloads_in_custody(settings: Settings) -> list[str]:
    engine = create_engine_for(settings.database_url)
    with session_factory(engine)() as session:
        actors = session.scalars(
            select(CustodyRecord.actor)
            .where(CustodyRecord.reason.like("production % downloaded"))
            .order_by(CustodyRecord.seq)
        ).all()
    engine.dispose()
    return list(actors)


def test_a_delivered_production_is_downloaded_by_its_agency_only_and_recorded(
    client: TestClient, settings: Settings, seeded: Seeded, mailer: RecordingMailer
) -> None:
    request_id, production_id = delivered_production(settings, seeded.ours)
    csrf = portal_sign_in(client, mailer, seeded.ours.email)
    detail = client.get(f"/portal/requests/{request_id}")
    assert f'data-production="{production_id}"' in detail.text
    url = f"/portal/productions/{production_id}/download"
    before = _downloads_in_custody(settings)
    assert client.post(url, data={}).status_code == 403  # no CSRF token
    assert _downloads_in_custody(settings) == before
    answer = client.post(url, data={"csrf_token": csrf})
    assert answer.status_code == 200, answer.text
    assert answer.content.startswith(b"PK")
    assert answer.headers["content-type"] == "application/zip"
    assert "attachment" in answer.headers["content-disposition"]
    assert answer.headers["Cache-Control"] == "no-store"
    after = _downloads_in_custody(settings)
    assert after == [*before, f"officer:{seeded.ours.handle}"]

    client.cookies.clear()
    their_csrf = portal_sign_in(client, mailer, seeded.theirs.email)
    assert client.get(f"/portal/requests/{request_id}").status_code == 404
    assert client.post(url, data={"csrf_token": their_csrf}).status_code == 404
    missing = client.post("/portal/productions/999999/download", data={"csrf_token": their_csrf})
    assert missing.status_code == 404
    assert _downloads_in_custody(settings) == after


def test_asking_for_a_code_answers_the_same_for_unknown_addresses(
    client: TestClient, mailer: RecordingMailer, seeded: Seeded
) -> None:
    def normalised(text: str, email: str) -> str:
        return re.sub(r'value="[^"]*"', "", text).replace(email, "EMAIL")

    unknown = ask_for_code(client, "nobody-0001@county-sheriff.example")
    known = ask_for_code(client, seeded.ours.email)  # its login token is the cookie's now
    assert known[0] == unknown[0] == 200
    assert normalised(known[1], seeded.ours.email) == normalised(
        unknown[1], "nobody-0001@county-sheriff.example"
    )
    assert [to for to, _code in mailer.sent] == [seeded.ours.email]

    wrong = client.post(
        "/portal/login/code",
        data={
            "email": seeded.ours.email,
            "code": "00000000" if mailer.sent[0][1] != "00000000" else "11111111",
            "login_token": hidden(known[1])["login_token"],
        },
    )
    assert wrong.status_code == 401
    assert "sign-in failed" in wrong.text
    forged = client.post(
        "/portal/login/code",
        data={"email": seeded.ours.email, "code": mailer.sent[0][1], "login_token": "forged"},
    )
    assert forged.status_code == 403
    cross_site = client.post(
        "/portal/login",
        data={"email": seeded.ours.email, "login_token": hidden(known[1])["login_token"]},
        headers={"Origin": "https://elsewhere.example"},
    )
    assert cross_site.status_code == 403


def test_bad_uploads_are_refused_and_nothing_is_stored(
    client: TestClient, mailer: RecordingMailer, seeded: Seeded, settings: Settings
) -> None:
    csrf = portal_sign_in(client, mailer, seeded.ours.email)
    before = _counts(settings)
    exe = b"MZ\x90\x00" + b"\x00" * 60
    html = b"<html><script></script></html>"
    cases = [
        ([("attachments", ("run.exe", exe, "application/pdf"))], "not a document"),
        ([("attachments", ("page.html", html, "text/plain"))], "not a document"),
        ([("attachments", ("big.pdf", PDF + b"0" * 3000, "application/pdf"))], "size cap"),
        ([("attachments", ("empty.pdf", b"", "application/pdf"))], "empty"),
        ([("attachments", (f"{n}.pdf", PDF, "application/pdf")) for n in range(3)], "at most 2"),
    ]  # fmt: skip
    for number, (files, reason) in enumerate(cases):
        answer = client.post("/portal/requests", data=_form(csrf, f"EX-BAD-{number}"), files=files)
        assert answer.status_code == 400, (reason, answer.text)
        assert reason in answer.text
        assert "run.exe" not in answer.text
    no_csrf = client.post("/portal/requests", data=_form("", "EX-BAD-CSRF"))
    assert no_csrf.status_code == 403
    bad_type = client.post("/portal/requests", data=_form(csrf, "EX-BAD-T", type="letter"))
    assert bad_type.status_code == 400
    nothing_named = client.post("/portal/requests", data=_form(csrf, "EX-BAD-N", accounts=""))
    assert nothing_named.status_code == 400
    assert _counts(settings) == before


def test_a_revoked_officer_is_signed_out_at_once(
    client: TestClient, mailer: RecordingMailer, seeded: Seeded, settings: Settings
) -> None:
    portal_sign_in(client, mailer, seeded.ours.email)
    assert client.get("/portal/requests").status_code == 200
    engine = create_engine_for(settings.database_url)
    with session_factory(engine).begin() as session:
        revoke_officer(
            session=session, officer_id=seeded.ours.officer_id, actor="staff-0001", reason="left"
        )
    engine.dispose()
    assert client.get("/portal/requests").status_code == 303
    ask_for_code(client, seeded.ours.email)
    assert len(mailer.sent) == 1  # no new code for a revoked officer


def test_without_a_mail_relay_sign_in_says_so(
    portal: Portal, client: TestClient, seeded: Seeded
) -> None:
    recording = portal.app.dependency_overrides[code_mailer]
    portal.app.dependency_overrides[code_mailer] = lambda: None
    try:
        status, text = ask_for_code(client, seeded.ours.email)
    finally:
        portal.app.dependency_overrides[code_mailer] = recording
    assert status == 503
    assert "BRIGHTLINE_PORTAL_SMTP_HOST" in text


def test_asking_for_access_answers_the_same_and_leaves_an_officer_for_staff(
    client: TestClient, settings: Settings
) -> None:
    def ask(email: str) -> tuple[int, str]:
        page = client.get("/portal/login/access")
        token = hidden(page.text)["login_token"]
        answer = client.post(
            "/portal/login/access",
            data={"name": "Placeholder Officer", "email": email, "login_token": token},
        )
        return answer.status_code, re.sub(r'value="[^"]*"', "", answer.text)

    tag = uuid.uuid4().hex[:8]
    engine = create_engine_for(settings.database_url)
    with session_factory(engine).begin() as session:
        # A domain of its own: one shared by several agencies registers nobody.
        agency_id = add_agency(
            session=session, name=f"Agency {tag}", domains=[f"{tag}.example"], actor="staff-0001"
        ).id
    registered = ask(f"new-0001@{tag}.example")
    unregistered = ask(f"new-0001@unregistered-{tag}.example")
    assert registered == unregistered
    assert registered[0] == 200
    assert 'id="access-asked"' in registered[1]
    with session_factory(engine)() as session:
        states = [o.state for o in list_officers(session=session, agency_id=agency_id)]
    engine.dispose()
    assert states == ["unverified"]
