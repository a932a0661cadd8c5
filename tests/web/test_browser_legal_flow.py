"""The whole legal-process flow in one browser run against one real server (Debian's chromium,
Playwright, uvicorn, a real SMTP server): an officer signs in to the portal with a mailed code
and sends a preservation request; a lead verifies it (the account's evidence is held), builds a
production and delivers it; the officer downloads it; and the chain of custody, verified at the
end, shows the hold, the production and the download in that order.

Each step has its own, more thorough test (test_portal_browser, test_browser_legal, test_portal);
this one checks that they fit together: what one actor does is what the next one sees.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from brightline.accounts import AccountRole
from brightline.custody import custody_key
from brightline.custody.models import CustodyEvent, CustodyRecord
from brightline.custody.verify import verify_custody
from brightline.evidence.models import HeldObject, LegalHold, Preservation, PreservedObject
from brightline.legal.models import EventKind, RequestAccount, RequestEvent
from brightline.legal.production_models import Production
from brightline.settings import Settings
from brightline.storage import create_engine_for, session_factory
from tests.legal.smtp import Inbox
from tests.web.conftest import CHROMIUM, NAMES, sign_in
from tests.web.legal_seed import seed_preserved_account
from tests.web.portal_helpers import PDF, portal_browser_sign_in, seed_portal

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists() and os.environ.get("CI") != "true",
        reason=f"no chromium at {CHROMIUM} (apt-get install chromium; `make test` installs it)",
    ),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

pytest.importorskip("playwright.sync_api")
pytest.importorskip("aiosmtpd.controller")

REFERENCE = "EX-FLOW-0001"


def _submit_preservation_request(page: Any, base_url: str, account: str) -> int:
    """Send a preservation request naming ``account`` with a PDF attached; its id."""
    page.click("text=Submit a new request")
    page.wait_for_selector("#new-request")
    page.select_option("select[name=type]", "preservation")
    page.fill("input[name=external_reference]", REFERENCE)
    page.fill("textarea[name=legal_basis]", "18 U.S.C. 2703(f) (synthetic test request)")
    page.fill("textarea[name=accounts]", account)
    page.set_input_files(
        "input[name=attachments]",
        files=[{"name": "letter.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    page.click("#new-request button[type=submit]")
    page.wait_for_selector("#received")
    assert "letter.pdf" in page.inner_text("#attachments")
    path = page.url.removeprefix(base_url).partition("?")[0]
    assert path.startswith("/portal/requests/"), page.url
    return int(path.rsplit("/", 1)[1])


def _held_refs(session: Session, request_id: int) -> set[str]:
    """What the request's legal holds cover, from the vault's own tables."""
    holds = session.scalars(
        select(RequestAccount.hold_id).where(RequestAccount.request_id == request_id)
    ).all()
    assert len(holds) == 1
    assert holds[0] is not None
    hold = session.get(LegalHold, holds[0])
    assert hold is not None
    assert hold.released_at is None
    return set(session.scalars(select(HeldObject.ref).where(HeldObject.hold_id == hold.id)))


def _preserved_refs(session: Session, report_id: int) -> set[str]:
    return set(
        session.scalars(
            select(PreservedObject.ref)
            .join(Preservation, Preservation.id == PreservedObject.preservation_id)
            .where(Preservation.report_id == report_id)
        )
    )


def _check_package(data: bytes) -> dict[str, Any]:
    """Every file of the zip is listed in its manifest with the right SHA-256 and size, and
    nothing is missing; the manifest."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        manifest = json.loads(package.read("manifest.json"))
        listed = {member["path"]: member for member in manifest["members"]}
        assert set(package.namelist()) == {*listed, "manifest.json", "custody.jsonl"}
        for path, member in listed.items():
            content = package.read(path)
            assert hashlib.sha256(content).hexdigest() == member["sha256"], path
            assert len(content) == member["size"], path
    return dict(manifest)


def test_a_request_sent_in_the_portal_is_held_produced_delivered_and_downloaded(
    inbox: Inbox, browser: Any, base_url: str, settings: Settings
) -> None:
    officer = seed_portal(settings).ours
    account = seed_preserved_account(settings)
    engine = create_engine_for(settings.database_url)
    with session_factory(engine)() as session:
        seeded_head = session.scalar(select(CustodyRecord.seq).order_by(CustodyRecord.seq.desc()))
        evidence = _preserved_refs(session, account.report_id)
    assert evidence  # media, report XML and case record

    # 1. The officer signs in with the mailed code and sends the request.
    portal = portal_browser_sign_in(browser, base_url, inbox, officer.email)
    request_id = _submit_preservation_request(
        portal, base_url, f"{account.service}:{account.platform_user_id}"
    )

    # 2. A lead verifies it (the account's evidence is held at once), builds and delivers.
    console: Any = sign_in(browser, base_url, AccountRole.LEAD)
    console.goto(f"{base_url}/console/legal/requests/{request_id}")
    assert console.inner_text("#request-status") == "received"
    console.click("#verify")
    console.wait_for_url("**?done=verify")
    assert console.inner_text("#request-status") == "verified"
    with session_factory(engine)() as session:
        assert _held_refs(session, request_id) == evidence
    console.click("#build-production")
    console.wait_for_url("**?done=build_production")
    console.click("#productions button.deliver-production")
    console.wait_for_url("**?done=deliver_production")
    assert console.inner_text("#productions .production-status") == "delivered"
    assert console.inner_text("#request-status") == "partially_produced"
    with session_factory(engine)() as session:
        production = session.scalars(
            select(Production).where(Production.request_id == request_id)
        ).one()
        production_id, package_ref = production.id, production.package_ref

    # 3. The officer finds the delivered production on the request and downloads it.
    portal.goto(f"{base_url}/portal/requests/{request_id}")
    row = portal.locator(f'#productions tr[data-production="{production_id}"]')
    with portal.expect_download() as started:
        row.locator("button[type=submit]").click()
    download = started.value
    assert download.suggested_filename == f"brightline-production-{request_id}-{production_id}.zip"
    data = Path(download.path()).read_bytes()
    assert f"sha256:{hashlib.sha256(data).hexdigest()}" == package_ref
    assert row.locator("td.detail").inner_text() == package_ref.removeprefix("sha256:")
    manifest = _check_package(data)
    assert manifest["legal_request_id"] == request_id
    assert manifest["external_reference"] == REFERENCE
    produced = {m["ref"] for m in manifest["members"] if m["source"] == "vault"}
    assert produced == evidence

    # 4. The chain is intact and records the hold, the production and the download, in order.
    with session_factory(engine)() as session:
        verification = verify_custody(session=session, key=custody_key(settings))
        assert verification.ok, verification.problems
        entries = session.scalars(
            select(CustodyRecord)
            .where(CustodyRecord.seq > (seeded_head or 0))
            .order_by(CustodyRecord.seq)
        ).all()
        delivered_at = session.scalars(
            select(RequestEvent.at).where(
                RequestEvent.request_id == request_id,
                RequestEvent.kind == EventKind.PRODUCTION_DELIVERED.value,
            )
        ).one()
    engine.dispose()
    steps = [(entry.event, entry.object_ref, entry.actor) for entry in entries]
    lead = NAMES[AccountRole.LEAD]
    held = [(CustodyEvent.HELD.value, ref, lead) for ref in sorted(evidence)]
    exported = [(CustodyEvent.EXPORTED.value, ref, lead) for ref in evidence]
    sealed = (CustodyEvent.PRESERVED.value, package_ref, lead)
    downloaded = (CustodyEvent.EXPORTED.value, package_ref, f"officer:{officer.handle}")
    assert sorted(steps[: len(held)]) == held
    assert sorted(steps[len(held) : len(held) + len(exported)]) == sorted(exported)
    assert steps[len(held) + len(exported) :] == [sealed, downloaded]
    # Delivery moves no evidence, so it is in the request's history, not the custody log:
    # between the sealing of the package and its download.
    assert entries[-2].at <= delivered_at <= entries[-1].at
    assert json.loads(entries[-1].details)["production"] == production_id
