"""Staff download a production from the console's request page (both databases): leads and
admins only, with the CSRF token, each download in the chain of custody, the request's history
and the audit log before a byte is sent; auditors and other roles are refused and leave no
record; a package the vault cannot read is not served and leaves no record either."""

from __future__ import annotations

import hashlib
import json
import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from brightline.accounts import AccountRole
from brightline.custody import custody_key, verify_custody
from brightline.custody.models import CustodyEvent, CustodyRecord
from brightline.evidence import EvidenceStore
from brightline.legal import LegalContext, build_production, load_legal_settings, verify_request
from brightline.legal.models import EventKind, RequestEvent
from brightline.legal.production_models import ProductionDownload
from brightline.review import AuditAction, query_audit
from brightline.settings import Settings
from brightline.storage import create_engine_for, session_factory
from tests.web.conftest import NAMES, login
from tests.web.legal_seed import seed_requests

_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def _built_production(settings: Settings, request_id: int) -> tuple[int, str]:
    """Verify the request and build a production (not delivered); its id and package ref."""
    engine = create_engine_for(settings.database_url)
    context = LegalContext(settings=load_legal_settings(), custody_key=custody_key(settings))
    try:
        with session_factory(engine).begin() as session:
            verify_request(
                session=session, context=context, request_id=request_id, actor="staff-0001"
            )
            built = build_production(
                session=session,
                context=context,
                store=EvidenceStore.from_settings(settings),
                request_id=request_id,
                actor="staff-0001",
            )
            return built.id, built.package_ref
    finally:
        engine.dispose()


def _records(settings: Settings) -> tuple[list[tuple[str, str | None, str]], int, int]:
    """The custody entries that are downloads (event, object, actor), the download rows, and
    the request-history download events; with the log verified."""
    engine = create_engine_for(settings.database_url)
    try:
        with session_factory(engine)() as session:
            assert verify_custody(session=session, key=custody_key(settings)).ok
            entries = session.execute(
                select(CustodyRecord.event, CustodyRecord.object_ref, CustodyRecord.actor)
                .where(CustodyRecord.reason.like("production % downloaded"))
                .order_by(CustodyRecord.seq)
            ).all()
            rows = session.scalar(select(func.count()).select_from(ProductionDownload))
            events = session.scalar(
                select(func.count())
                .select_from(RequestEvent)
                .where(RequestEvent.kind == EventKind.PRODUCTION_DOWNLOADED.value)
            )
            return [tuple(entry) for entry in entries], int(rows or 0), int(events or 0)
    finally:
        engine.dispose()


def _downloads_audited(settings: Settings) -> list[str]:
    engine = create_engine_for(settings.database_url)
    try:
        with session_factory(engine).begin() as session:
            return [
                row.actor
                for row in query_audit(session=session, action=AuditAction.LEGAL_ACTION)
                if json.loads(row.detail).get("action") == "download_production"
            ]
    finally:
        engine.dispose()


def _page_token(client: TestClient, path: str) -> tuple[str, str]:
    page = client.get(path, follow_redirects=True)
    assert page.status_code == 200, page.text
    token = _CSRF.search(page.text)
    return page.text, token.group(1) if token else ""


def test_leads_and_admins_download_with_custody_first_and_others_are_refused(
    client: TestClient, settings: Settings
) -> None:
    seeded = seed_requests(settings)
    production_id, package_ref = _built_production(settings, seeded.preservation)
    page_path = f"/console/legal/requests/{seeded.preservation}"
    url = f"{page_path}/productions/{production_id}/download"

    # Refused: no CSRF token; roles that may not open evidence (even with their token); a
    # production under another request. None of them leaves a record.
    login(client, NAMES[AccountRole.LEAD])
    assert client.post(url, data={}).status_code == 403
    for role in (AccountRole.AUDITOR, AccountRole.REVIEWER, AccountRole.INVESTIGATOR):
        login(client, NAMES[role])
        page, token = _page_token(client, "/console")
        if role is AccountRole.AUDITOR:
            page, token = _page_token(client, page_path)
            assert f'action="{url}"' not in page
        assert client.post(url, data={"csrf_token": token}).status_code == 403, role
    login(client, NAMES[AccountRole.LEAD])
    page, token = _page_token(client, page_path)
    elsewhere = f"/console/legal/requests/{seeded.overdue}/productions/{production_id}/download"
    assert client.post(elsewhere, data={"csrf_token": token}).status_code == 404
    assert _records(settings) == ([], 0, 0)
    assert _downloads_audited(settings) == []

    # A lead downloads a built (not yet delivered) production, then an admin.
    assert f'action="{url}"' in page
    answer = client.post(url, data={"csrf_token": token})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert answer.headers["Cache-Control"] == "no-store"
    filename = f"brightline-production-{seeded.preservation}-{production_id}.zip"
    assert answer.headers["content-disposition"] == f'attachment; filename="{filename}"'
    assert f"sha256:{hashlib.sha256(answer.content).hexdigest()}" == package_ref
    login(client, NAMES[AccountRole.ADMIN])
    _page, token = _page_token(client, page_path)
    assert client.post(url, data={"csrf_token": token}).status_code == 200
    exported = CustodyEvent.EXPORTED.value
    assert _records(settings) == (
        [
            (exported, package_ref, f"console:{NAMES[AccountRole.LEAD]}"),
            (exported, package_ref, f"console:{NAMES[AccountRole.ADMIN]}"),
        ],
        2,
        2,
    )
    assert _downloads_audited(settings) == [NAMES[AccountRole.LEAD], NAMES[AccountRole.ADMIN]]
    row = client.get(page_path).text.split(f'data-production="{production_id}"')[1]
    assert "<td>2</td>" in row.split("</tr>")[0]  # the downloads column

    # A package the vault cannot read is not served, and the refused download is not recorded.
    store = EvidenceStore.from_settings(settings)
    assert store.storage.delete(f"objects/{package_ref.removeprefix('sha256:')}")
    assert client.post(url, data={"csrf_token": token}).status_code == 404
    assert len(_records(settings)[0]) == 2
    assert len(_downloads_audited(settings)) == 2
