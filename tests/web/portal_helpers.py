"""Shared by the portal's HTTP and browser tests: placeholder agencies and officers, an app
whose sign-in codes go to a recording mailer, and signing in over HTTP or in a browser."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from brightline.custody import custody_key
from brightline.evidence import EvidenceStore
from brightline.http import create_app
from brightline.legal import (
    LegalContext,
    LegalRequestCreate,
    NamedAccount,
    RequestType,
    add_agency,
    add_officer,
    load_legal_settings,
    submit_request,
    verify_officer,
    verify_request,
)
from brightline.legal.portal_mail import RecordingMailer
from brightline.legal.productions import build_production, deliver_production
from brightline.settings import Settings
from brightline.storage import create_engine_for, session_factory, upgrade_database
from brightline.web.portal import code_mailer
from tests.legal.smtp import Inbox

PDF = b"%PDF-1.7\n% synthetic placeholder document\n%%EOF\n"
_HIDDEN = re.compile(r'name="(csrf_token|form_key|login_token)" value="([^"]*)"')


@dataclass(frozen=True)
class Officer:
    officer_id: int
    agency_id: int
    email: str
    handle: str


@dataclass(frozen=True)
class Seeded:
    ours: Officer
    theirs: Officer
    their_request_id: int
    their_reference: str


def _officer(session: object, domain: str, verified: bool = True) -> Officer:
    tag = uuid.uuid4().hex[:8]
    agency = add_agency(
        session=session,  # type: ignore[arg-type]
        name=f"Example County Sheriff {tag}",
        domains=[domain],
        actor="staff-0001",
    )
    officer = add_officer(
        session=session,  # type: ignore[arg-type]
        agency_id=agency.id,
        handle=f"officer-{tag}",
        name="Placeholder Officer",
        email=f"officer-{tag}@{domain}",
        actor="staff-0001",
    )
    if verified:
        verify_officer(session=session, officer_id=officer.id, actor="staff-0001")  # type: ignore[arg-type]
    return Officer(officer.id, agency.id, officer.email, officer.handle)


def seed_portal(settings: Settings) -> Seeded:
    """Two agencies with a verified officer each; the second agency has one request."""
    engine = create_engine_for(settings.database_url)
    upgrade_database(engine)
    with session_factory(engine).begin() as session:
        ours = _officer(session, "county-sheriff.example")
        theirs = _officer(session, "city-police.example")
        reference = f"THEIRS-{uuid.uuid4().hex[:8]}"
        theirs_request = submit_request(
            session=session,
            context=LegalContext(settings=load_legal_settings(), custody_key=custody_key(settings)),
            store=EvidenceStore.from_settings(settings),
            create=LegalRequestCreate(
                type=RequestType.PRESERVATION,
                agency_id=theirs.agency_id,
                officer_id=theirs.officer_id,
                external_reference=reference,
                legal_basis="Synthetic preservation request",
                accounts=[NamedAccount("example", "user-0009")],
            ),
            actor="staff-0001",
        )
        request_id = theirs_request.id
    engine.dispose()
    return Seeded(ours, theirs, request_id, reference)


def delivered_production(settings: Settings, officer: Officer) -> tuple[int, int]:
    """A subpoena of ``officer``'s agency, verified, produced and delivered; its and the
    production's ids."""
    engine = create_engine_for(settings.database_url)
    context = LegalContext(settings=load_legal_settings(), custody_key=custody_key(settings))
    store = EvidenceStore.from_settings(settings)
    with session_factory(engine).begin() as session:
        request = submit_request(
            session=session,
            context=context,
            store=store,
            create=LegalRequestCreate(
                type=RequestType.SUBPOENA,
                agency_id=officer.agency_id,
                officer_id=officer.officer_id,
                external_reference=f"PRODUCED-{uuid.uuid4().hex[:8]}",
                legal_basis="Synthetic subpoena",
                accounts=[NamedAccount("example", "user-unknown-0002")],
            ),
            actor="staff-0001",
        )
        verify_request(session=session, context=context, request_id=request.id, actor="staff-0001")
        built = build_production(
            session=session, context=context, store=store, request_id=request.id, actor="staff-0001"
        )
        deliver_production(
            session=session, context=context, production_id=built.id, actor="staff-0001"
        )
        ids = (request.id, built.id)
    engine.dispose()
    return ids


def portal_app(settings: Settings, mailer: RecordingMailer | None) -> FastAPI:
    app = create_app(settings)
    if mailer is not None:
        app.dependency_overrides[code_mailer] = lambda: mailer
    return app


def hidden(html: str, action: str | None = None) -> dict[str, str]:
    if action is not None:
        start = html.index(f'action="{action}"')
        html = html[start : html.index("</form>", start)]
    found: dict[str, str] = {}
    for name, value in _HIDDEN.findall(html):
        found.setdefault(name, value)
    return found


def ask_for_code(client: TestClient, email: str) -> tuple[int, str]:
    page = client.get("/portal/login")
    answer = client.post(
        "/portal/login", data={"email": email, "login_token": hidden(page.text)["login_token"]}
    )
    return answer.status_code, answer.text


def portal_sign_in(client: TestClient, mailer: RecordingMailer, email: str) -> str:
    """Sign in through both steps; returns the CSRF token of the signed-in pages."""
    status, text = ask_for_code(client, email)
    assert status == 200, text
    answer = client.post(
        "/portal/login/code",
        data={
            "email": email,
            "code": mailer.last_code(email),
            "login_token": hidden(text)["login_token"],
        },
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/portal/requests"
    return hidden(client.get("/portal/requests/new").text)["csrf_token"]


def portal_browser_sign_in(browser: Any, base_url: str, inbox: Inbox, email: str) -> Any:
    """A new browser context whose officer opened the portal, was sent to sign in, and signed in
    with the code mailed to ``email``; its page, on the agency's requests."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base_url}/portal/requests")
    page.wait_for_url("**/portal/login?next=/portal/requests")
    page.fill("input[name=email]", email)
    page.click("button[type=submit]")
    page.wait_for_selector("#code-sent")
    page.fill("input[name=code]", inbox.last_code(email))
    page.click("button[type=submit]")
    page.wait_for_url("**/portal/requests")
    return page
