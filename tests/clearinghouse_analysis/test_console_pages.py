"""The investigator pages: queue and report shown to the right roles, media only blurred,
audited."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from brightline.accounts import AccountRole
from brightline.clearinghouse.analysis_models import Referral
from brightline.clearinghouse.analysis_store import agencies, analyse_intake
from brightline.clearinghouse.investigators import assign_agency
from brightline.clearinghouse.routing import demo_router
from brightline.review import AuditAction, query_audit
from tests.clearinghouse_analysis.conftest import AS_OF, Planted
from tests.web.conftest import NAMES, form_fields, login

INVESTIGATOR = NAMES[AccountRole.INVESTIGATOR]
MEDIA = re.compile(r"<(img|video|audio|picture|canvas|object|embed|iframe)\b|/items/", re.I)
MEDIA_IMG = re.compile(r'<img class="preview blurred" src="[^"]+/preview"[^>]*>')


@pytest.fixture
def analysed(
    sessions: sessionmaker[Session], planted: Planted, accounts: dict[AccountRole, str]
) -> Planted:
    """The planted reports analysed, and every routed agency assigned to the investigator."""
    with sessions.begin() as session:
        analyse_intake(session=session, as_of=AS_OF, router=demo_router())
        for agency in agencies(session=session):
            assign_agency(session=session, username=INVESTIGATOR, agency_id=agency, actor="test")
    return planted


def _audited(sessions: sessionmaker[Session], action: AuditAction) -> list[tuple[str, str, str]]:
    with sessions.begin() as session:
        rows = query_audit(session=session, action=action)
        return [(row.actor, row.object_type, row.object_id) for row in rows]


def test_investigator_sees_the_queue_most_urgent_first_without_media(
    client: TestClient, analysed: Planted, sessions: sessionmaker[Session]
) -> None:
    login(client, INVESTIGATOR)
    home = client.get("/console/")
    assert home.headers["location"] == "/console/clearinghouse"
    page = client.get("/console/clearinghouse")
    assert page.status_code == 200
    ids = [int(i) for i in re.findall(r'/console/clearinghouse/reports/(\d+)"', page.text)]
    assert ids[0] == analysed.urgent
    assert set(ids) == analysed.finished
    assert not MEDIA.search(page.text)
    assert 'href="/console/clearinghouse"' in page.text  # the nav link
    west = client.get("/console/clearinghouse", params={"agency": "example-icac-west"})
    assert re.findall(r'/console/clearinghouse/reports/(\d+)"', west.text) == [str(analysed.urgent)]
    unknown = client.get("/console/clearinghouse", params={"agency": "nobody"})
    assert unknown.status_code == 400
    assert _audited(sessions, AuditAction.CLEARINGHOUSE_VIEW) == [
        (INVESTIGATOR, "clearinghouse_queue", "all"),
        (INVESTIGATOR, "clearinghouse_queue", "example-icac-west"),
    ]


def test_the_report_page_explains_the_score_and_the_links(
    client: TestClient, analysed: Planted, sessions: sessionmaker[Session]
) -> None:
    login(client, INVESTIGATOR)
    page = client.get(f"/console/clearinghouse/reports/{analysed.urgent}")
    assert page.status_code == 200
    text = page.text
    assert "the provider escalated the report" in text
    assert "a file is annotated infant" in text
    assert "shared.user@example.org" in text  # the link's evidence
    assert f'/console/clearinghouse/reports/{analysed.linked}"' in text
    assert "example-icac-west" in text
    assert "placeholder escalation text" not in text  # the provider's words stay in the report
    # Media only as the server-blurred preview of each file; nothing sharper until a reveal.
    files = re.findall(r'<tr id="file-([0-9a-f]+)"', text)
    assert files
    assert re.findall(r'<img[^>]*\ssrc="([^"]+)"', text) == [
        f"/console/clearinghouse/reports/{analysed.urgent}/files/{f}/preview" for f in files
    ]
    assert not MEDIA.search(MEDIA_IMG.sub("", text))
    assert "/view?grant=" not in text
    assert client.get("/console/clearinghouse/reports/999999").status_code == 404
    assert (INVESTIGATOR, "clearinghouse_report", str(analysed.urgent)) in _audited(
        sessions, AuditAction.CLEARINGHOUSE_VIEW
    )


def test_roles_are_enforced(client: TestClient, analysed: Planted) -> None:
    """Leads and admins oversee the queue; reviewers and auditors never reach it."""
    assert client.get("/console/clearinghouse").status_code == 303  # signed out: to sign-in
    allowed = {AccountRole.ADMIN: True, AccountRole.LEAD: True}
    allowed |= {AccountRole.REVIEWER: False, AccountRole.AUDITOR: False}
    for role, may in allowed.items():
        browser = login(TestClient(client.app, follow_redirects=False), NAMES[role])
        expected = 200 if may else 403
        assert browser.get("/console/clearinghouse").status_code == expected, role
        report = browser.get(f"/console/clearinghouse/reports/{analysed.urgent}")
        assert report.status_code == expected, role
        assert ('href="/console/clearinghouse"' in report.text) is may


def test_feedback_through_the_form_is_recorded_once_and_audited(
    client: TestClient, analysed: Planted, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        referral_id = session.scalars(
            select(Referral.id).where(Referral.report_id == analysed.urgent)
        ).one()
    login(client, INVESTIGATOR)
    page = client.get(f"/console/clearinghouse/reports/{analysed.urgent}")
    action = f"/console/clearinghouse/referrals/{referral_id}/feedback"
    fields = form_fields(page.text, action)
    refused = client.post(action, data={**fields, "status": "closed"})
    assert refused.status_code == 400
    assert "closing reason" in refused.text
    forged = client.post(action, data={"form_key": "x", "status": "arrest"})
    assert forged.status_code == 403
    fields = form_fields(client.get(page.url).text, action)
    done = client.post(action, data={**fields, "status": "closed", "reason": "unable_to_locate"})
    assert done.status_code == 303
    assert done.headers["location"].startswith(
        f"/console/clearinghouse/reports/{analysed.urgent}?saved={referral_id}"
    )
    again = client.post(action, data={**fields, "status": "arrest"})
    assert again.status_code == 409
    with sessions.begin() as session:
        stored = session.get(Referral, referral_id)
        assert stored is not None
        assert (stored.status, stored.closing_reason, stored.feedback_by) == (
            "closed",
            "unable_to_locate",
            INVESTIGATOR,
        )
    assert _audited(sessions, AuditAction.REFERRAL_FEEDBACK) == [
        (INVESTIGATOR, "clearinghouse_referral", str(referral_id))
    ]
    shown = client.get(done.headers["location"])
    assert f"Feedback recorded on referral {referral_id}" in shown.text
