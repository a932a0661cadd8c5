"""The console's legal-request pages (both databases): list order and overdue marks, the detail
page, role checks, CSRF and one-time form keys, audit rows, and staff verifying a preservation
request, building and delivering a production with the chain of custody intact."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from brightline.accounts import AccountRole
from brightline.custody import custody_key, verify_custody
from brightline.legal import list_productions
from brightline.review import AuditAction, query_audit
from brightline.settings import Settings
from brightline.storage import create_engine_for, session_factory
from tests.web.conftest import NAMES, login
from tests.web.legal_seed import seed_requests


def form_fields(html: str, form_id: str) -> dict[str, str]:
    """The hidden fields (CSRF token, one-time key) of one form on the page."""
    start = html.index(f'id="{form_id}"')
    form = html[start : html.index("</form>", start)]
    return dict(re.findall(r'name="(csrf_token|form_key)" value="([^"]*)"', form))


def _audit(settings: Settings, action: AuditAction) -> list[tuple[str, str, str]]:
    engine = create_engine_for(settings.database_url)
    try:
        with session_factory(engine).begin() as session:
            return [
                (row.actor, row.object_type, row.object_id)
                for row in query_audit(session=session, action=action)
            ]
    finally:
        engine.dispose()


def test_list_order_bad_forms_and_roles(client: TestClient, settings: Settings) -> None:
    seeded = seed_requests(settings)
    login(client, NAMES[AccountRole.LEAD])
    page = client.get("/console/legal/requests").text
    order = [int(n) for n in re.findall(r'data-request="(\d+)"', page)]
    assert order[0] == seeded.emergency
    assert set(order) == {seeded.emergency, seeded.overdue, seeded.preservation}
    row = page[page.index(f'data-request="{seeded.overdue}"') :].split("</tr>")[0]
    assert "overdue" in row
    assert 'href="/console/legal/requests"' in client.get("/console/legal").text
    assert (NAMES[AccountRole.LEAD], "legal_requests", "list") in _audit(
        settings, AuditAction.LEGAL_VIEW
    )

    # Bad forms are refused with a reason, and change nothing.
    base = f"/console/legal/requests/{seeded.overdue}"
    page = client.get(base).text
    fields = form_fields(page, "transition-form")
    answer = client.post(f"{base}/transition", data={**fields, "to": "rejected"})
    assert answer.status_code == 400
    assert "with a reason" in answer.text
    answer = client.post(f"{base}/transition", data={**fields, "to": "nonsense"})
    assert answer.status_code == 400
    answer = client.post(f"{base}/productions", data=form_fields(page, "note-form"))
    assert answer.status_code == 409
    assert "verify it before producing" in answer.text
    no_csrf = client.post(f"{base}/note", data={"form_key": "k" * 32, "body": "x"})
    assert no_csrf.status_code == 403
    assert client.get("/console/legal/requests/999999").status_code == 404

    # Who sees the pages, and who may act.
    readers = {AccountRole.ADMIN, AccountRole.LEAD, AccountRole.AUDITOR}
    for role in AccountRole:
        login(client, NAMES[role])
        for path in ("/console/legal/requests", f"/console/legal/requests/{seeded.preservation}"):
            assert client.get(path).status_code == (200 if role in readers else 403), role
        if role not in readers:
            continue
        page = client.get(f"/console/legal/requests/{seeded.preservation}").text
        acts = role is not AccountRole.AUDITOR
        assert ('id="verify-form"' in page) is acts
        # Even with a valid token, an auditor's form is refused.
        token = re.search(r'name="csrf_token" value="([^"]*)"', page)
        data = {"csrf_token": token.group(1) if token else "", "form_key": role.value * 8}
        answer = client.post(f"/console/legal/requests/{seeded.preservation}/note",
                             data={**data, "body": "synthetic note"})  # fmt: skip
        assert answer.status_code == (303 if acts else 403), (role, answer.text)


def test_verify_build_deliver_from_the_console(client: TestClient, settings: Settings) -> None:
    seeded = seed_requests(settings)
    login(client, NAMES[AccountRole.LEAD])
    base = f"/console/legal/requests/{seeded.preservation}"
    page = client.get(base).text
    answer = client.post(f"{base}/verify", data=form_fields(page, "verify-form"))
    assert answer.status_code == 303, answer.text
    # The same form again: its one-time key was spent, nothing is applied twice.
    replay = client.post(f"{base}/verify", data=form_fields(page, "verify-form"))
    assert replay.status_code == 409
    page = client.get(base).text
    assert '<dd id="request-status">verified</dd>' in page
    assert "hold_placed" in page

    answer = client.post(f"{base}/productions", data=form_fields(page, "build-form"))
    assert answer.status_code == 303, answer.text
    page = client.get(base).text
    assert '<dd id="request-status">in_progress</dd>' in page
    assert 'class="production-status">built<' in page
    deliver = re.search(r'action="(/console/legal/requests/\d+/productions/\d+/deliver)"', page)
    assert deliver is not None
    start = page.index(deliver.group(1))
    fields = dict(re.findall(r'name="(csrf_token|form_key)" value="([^"]*)"', page[start:])[:2])
    answer = client.post(deliver.group(1), data=fields)
    assert answer.status_code == 303, answer.text
    page = client.get(base).text
    assert '<dd id="request-status">partially_produced</dd>' in page  # no export hook
    assert 'class="production-status">delivered<' in page

    # A production of another request is not found under this one.
    assert client.post(
        f"/console/legal/requests/{seeded.overdue}/productions/1/deliver", data=fields
    ).status_code in (404, 409)
    actions = list(_audit(settings, AuditAction.LEGAL_ACTION))
    assert len(actions) == 3
    engine = create_engine_for(settings.database_url)
    try:
        with session_factory(engine).begin() as session:
            (production,) = list_productions(session=session, request_id=seeded.preservation)
            assert production.delivered
            assert not production.complete
            assert verify_custody(session=session, key=custody_key(settings)).ok
    finally:
        engine.dispose()
