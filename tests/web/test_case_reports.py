"""The console's case page: filing a report, receipts, failure banners, roles and forms.

Runs in process on SQLite and PostgreSQL. Everything is synthetic: generated images,
placeholder users, the test enrichment plugin's context.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from brightline.accounts import AccountRole
from brightline.http import create_app
from brightline.review import AuditAction, query_audit
from brightline.settings import Settings
from brightline.storage import create_engine_for, session_factory
from tests.reports import plugins
from tests.web.conftest import NAMES, form_fields, login
from tests.web.reporting import (
    case_id_of,
    confirm,
    fail_submission,
    reporting_settings,
    seed_reportable,
    unset_media,
)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings that can report: reporter details and the test enrichment plugin."""
    return reporting_settings(tmp_path, database_url)


def _file_form(client: TestClient, case_id: int) -> dict[str, str]:
    page = client.get(f"/console/cases/{case_id}")
    assert page.status_code == 200, page.text
    return form_fields(page.text, f"/console/cases/{case_id}/report")


def _file(
    client: TestClient, case_id: int, fields: dict[str, str], **extra: str
) -> tuple[int, str]:
    answer = client.post(
        f"/console/cases/{case_id}/report",
        data={**fields, "incident_type": "CHILD_PORNOGRAPHY", **extra},
    )
    return answer.status_code, answer.headers.get("location", answer.text)


def _audit(settings: Settings, action: AuditAction) -> list[tuple[str, str, dict[str, object]]]:
    engine = create_engine_for(settings.database_url)
    with session_factory(engine)() as session:
        rows = [
            (row.actor, row.object_id, json.loads(row.detail))
            for row in query_audit(session=session, action=action)
        ]
    engine.dispose()
    return rows


def test_a_reviewer_files_a_report_and_sees_it_queued(
    client: TestClient, settings: Settings
) -> None:
    seeded = seed_reportable(settings)
    case_id = case_id_of(settings, seeded.item_ids[0])
    login(client, NAMES[AccountRole.REVIEWER])

    before = client.get(f"/console/cases/{case_id}")
    assert "Nothing to report" in before.text  # nothing confirmed yet
    assert "file-report-form" not in before.text

    confirm(settings, seeded)
    fields = _file_form(client, case_id)
    page = client.get(f"/console/cases/{case_id}").text
    assert "2 confirmed items not yet in a report" in page
    assert "allow_missing_media" not in page
    for kind in ("CHILD_PORNOGRAPHY", "ONLINE_ENTICEMENT"):
        assert f'value="{kind}"' in page

    plugins.REQUESTS.clear()
    status, location = _file(client, case_id, fields)
    assert status == 303
    match = re.fullmatch(rf"/console/cases/{case_id}\?filed=(\d+)#reports", location)
    assert match is not None
    report_id = int(match.group(1))
    assert plugins.REQUESTS[0].item_ids == tuple(seeded.item_ids)

    shown = client.get(location.split("#")[0]).text
    assert f"Report {report_id} built with 2 items and queued for submission" in shown
    assert f'id="report-{report_id}" class="status-queued"' in shown
    assert f"report {report_id}: queued" in shown
    assert "Nothing to report" in shown
    assert f"item {seeded.item_ids[0]} → -" in shown
    assert "report-failed" not in shown

    ((actor, object_id, detail),) = _audit(settings, AuditAction.REPORT_BUILD)
    assert actor == NAMES[AccountRole.REVIEWER]
    assert object_id == str(report_id)
    assert detail["enrichment"] == "PluginEnricher"

    # The same form again: refused, and nothing is filed twice.
    status, body = _file(client, case_id, fields)
    assert status == 409
    assert "already submitted" in body
    assert len(_audit(settings, AuditAction.REPORT_BUILD)) == 1


def test_a_filed_notice_is_shown_only_for_a_report_of_this_case(
    client: TestClient, settings: Settings
) -> None:
    seeded = seed_reportable(settings)
    case_id = case_id_of(settings, seeded.item_ids[0])
    login(client, NAMES[AccountRole.REVIEWER])
    page = client.get(f"/console/cases/{case_id}?filed=77").text
    assert 'id="filed"' not in page


def test_roles_and_forged_forms_are_refused(client: TestClient, settings: Settings) -> None:
    seeded = seed_reportable(settings)
    confirm(settings, seeded)
    case_id = case_id_of(settings, seeded.item_ids[0])

    login(client, NAMES[AccountRole.AUDITOR])
    assert client.get(f"/console/cases/{case_id}").status_code == 403
    auditor_csrf = form_fields(client.get("/console/audit").text, "/console/logout")
    refused = client.post(
        f"/console/cases/{case_id}/report",
        data={**auditor_csrf, "form_key": "k" * 24, "incident_type": "CHILD_PORNOGRAPHY"},
    )
    assert refused.status_code == 403

    login(client, NAMES[AccountRole.REVIEWER])
    fields = _file_form(client, case_id)
    forged = {**fields, "csrf_token": "forged"}
    assert _file(client, case_id, forged)[0] == 403
    cross_site = client.post(
        f"/console/cases/{case_id}/report",
        data={**fields, "incident_type": "CHILD_PORNOGRAPHY"},
        headers={"Origin": "https://elsewhere.example.org"},
    )
    assert cross_site.status_code == 403
    status, body = _file(client, case_id, fields, incident_type="Not a type")
    assert status == 400
    assert "choose an incident type" in body
    assert _audit(settings, AuditAction.REPORT_BUILD) == []

    # None of the refusals used up the form: it still files.
    assert _file(client, case_id, fields)[0] == 303


def test_missing_media_is_named_and_only_leads_may_file_without_it(
    client: TestClient, settings: Settings
) -> None:
    seeded = seed_reportable(settings, count=3)
    confirm(settings, seeded)
    case_id = case_id_of(settings, seeded.item_ids[0])
    missing = seeded.item_ids[1]
    unset_media(settings, missing)

    login(client, NAMES[AccountRole.REVIEWER])
    page = client.get(f"/console/cases/{case_id}").text
    assert f"The media of item {missing} is missing from the evidence vault" in page
    assert "ask a lead or an admin" in page
    fields = _file_form(client, case_id)
    status, body = _file(client, case_id, fields)
    assert status == 409
    assert f"the media of item(s) {missing} is missing" in body
    assert _file(client, case_id, fields, allow_missing_media="on")[0] == 403

    login(client, NAMES[AccountRole.LEAD])
    lead_page = client.get(f"/console/cases/{case_id}").text
    assert 'name="allow_missing_media"' in lead_page
    fields = _file_form(client, case_id)
    status, location = _file(client, case_id, fields, allow_missing_media="on")
    assert status == 303, location
    shown = client.get(location.split("#")[0]).text
    assert "built with 2 items" in shown
    assert f'id="case-item-{missing}"' in shown

    ((actor, object_id, detail),) = _audit(settings, AuditAction.REPORT_OMIT)
    assert actor == NAMES[AccountRole.LEAD]
    assert object_id == str(missing)
    assert detail["cause"] == "media_missing"


def test_without_an_enricher_the_missing_context_is_listed(
    accounts: dict[AccountRole, str], tmp_path: Path, database_url: str
) -> None:
    settings = reporting_settings(tmp_path, database_url, plugin=None)
    seeded = seed_reportable(settings)
    confirm(settings, seeded)
    case_id = case_id_of(settings, seeded.item_ids[0])
    with TestClient(create_app(settings), follow_redirects=False) as client:
        login(client, accounts[AccountRole.ADMIN])
        status, body = _file(client, case_id, _file_form(client, case_id))
    assert status == 400
    assert "context.internet_details" in body


def test_a_failed_submission_shows_on_the_case_and_on_every_page(
    client: TestClient, settings: Settings
) -> None:
    seeded = seed_reportable(settings)
    confirm(settings, seeded)
    case_id = case_id_of(settings, seeded.item_ids[0])
    login(client, NAMES[AccountRole.REVIEWER])
    _, location = _file(client, case_id, _file_form(client, case_id))
    report_id = int(location.split("filed=")[1].split("#")[0])
    assert "reports-failed-banner" not in client.get("/console/queues").text

    fail_submission(settings, report_id)
    queues = client.get("/console/queues").text
    assert 'id="reports-failed-banner"' in queues
    assert f'<a href="/console/cases/{case_id}#reports">{case_id}</a>' in queues
    case_page = client.get(f"/console/cases/{case_id}").text
    assert f'id="report-failed-{report_id}"' in case_page
    assert "AuthenticationFailed: 2000 authentication required" in case_page
    assert "brightline reports retry" in case_page
    assert f"report {report_id}: failed" in case_page
    # Its items are reportable again, with a warning not to report them twice.
    assert 'id="retry-first"' in case_page
    subject_page = client.get(f"/console/subjects/{seeded.subject_id}").text
    assert f'href="/console/cases/{case_id}"' in subject_page
    assert "report failed" in subject_page

    # Auditors see the banner too, without links to pages they cannot open.
    login(client, NAMES[AccountRole.AUDITOR])
    audit_page = client.get("/console/audit").text
    assert 'id="reports-failed-banner"' in audit_page
    assert f'href="/console/cases/{case_id}' not in audit_page


def test_the_job_page_links_its_case(client: TestClient, settings: Settings) -> None:
    seeded = seed_reportable(settings, count=1)
    case_id = case_id_of(settings, seeded.item_ids[0])
    login(client, NAMES[AccountRole.REVIEWER])
    page = client.get(f"/console/jobs/{seeded.job_ids[0]}").text
    assert f'<a href="/console/cases/{case_id}">case {case_id}</a>' in page
    assert client.get("/console/cases/999999").status_code == 404


def test_the_queue_page_stays_quiet_without_failures(client: TestClient) -> None:
    login(client, NAMES[AccountRole.REVIEWER])
    page = client.get("/console/queues").text
    assert "reports-failed-banner" not in page
