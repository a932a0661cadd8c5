"""The legal-process accountability page and its CSV, through the console (both databases):
roles, audit rows, escaped SVG charts, no account holders' data."""

from __future__ import annotations

import csv
import io
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from brightline.accounts import AccountRole
from brightline.evidence.store import EvidenceStore
from brightline.legal import RequestStatus, RequestType, transition_request
from brightline.review import AuditAction, query_audit
from brightline.settings import Settings
from brightline.storage import create_engine_for, session_factory, upgrade_database
from brightline.web.charts import Bar, horizontal_bar_chart
from tests.legal.helpers import context, make_sender, new_request, submit
from tests.web.conftest import NAMES, login

CTX = context()
NASTY_AGENCY = 'Example <script>alert("x")</script> & Sheriff'


def _seed(settings: Settings) -> None:
    """A produced subpoena and an open emergency request, naming placeholder accounts that must
    never appear on the page."""
    engine = create_engine_for(settings.database_url)
    store = EvidenceStore(settings.home / "legal-vault", secrets.token_bytes(32), chunk_size=1024)
    now = datetime.now(UTC) - timedelta(days=2)
    try:
        upgrade_database(engine)
        with session_factory(engine).begin() as session:
            plain = make_sender(session)
            produced = submit(
                session, CTX, store,
                new_request(plain, kind=RequestType.SUBPOENA, reference="ECSO-0001",
                            accounts=[("example", "user-secret-0001")]),
                now=now,
            )  # fmt: skip
            for to, hours in (("verified", 2), ("in_progress", 3), ("produced", 30)):
                transition_request(
                    session=session, context=CTX, request_id=produced.id,
                    to=RequestStatus(to), actor="staff-0002", now=now + timedelta(hours=hours),
                )  # fmt: skip
            submit(
                session, CTX, store,
                new_request(plain, kind=RequestType.EMERGENCY, reference="ECSO-0002",
                            accounts=[("example", "user-secret-0002")]),
                now=now,
            )  # fmt: skip
    finally:
        engine.dispose()


def _audit_rows(settings: Settings, action: AuditAction) -> list[tuple[str, str, str]]:
    engine = create_engine_for(settings.database_url)
    try:
        with session_factory(engine).begin() as session:
            return [
                (row.actor, row.object_type, row.object_id)
                for row in query_audit(session=session, action=action)
            ]
    finally:
        engine.dispose()


@pytest.mark.parametrize("role", list(AccountRole))
def test_only_oversight_roles_see_the_page(client: TestClient, role: AccountRole) -> None:
    login(client, NAMES[role])
    allowed = role in {AccountRole.ADMIN, AccountRole.LEAD, AccountRole.AUDITOR}
    for path in ("/console/legal", "/console/legal/export.csv"):
        answer = client.get(path)
        assert answer.status_code == (200 if allowed else 403), (path, answer.text)
    page = client.get("/console/preferences").text
    assert ('href="/console/legal"' in page) is allowed


def test_the_page_needs_a_session(client: TestClient) -> None:
    answer = client.get("/console/legal")
    assert answer.status_code in (303, 307)
    assert "/console/login" in answer.headers["location"]


def test_an_empty_database_says_no_data(client: TestClient, settings: Settings) -> None:
    login(client, NAMES[AccountRole.AUDITOR])
    page = client.get("/console/legal")
    assert page.status_code == 200
    assert "No data: no legal process received yet." in page.text
    assert "No open requests." in page.text
    assert page.text.count("<svg") == 3
    assert _audit_rows(settings, AuditAction.LEGAL_VIEW) == [
        (NAMES[AccountRole.AUDITOR], "legal_dashboard", "page")
    ]


def test_charts_tables_and_open_work_without_account_holders(
    client: TestClient, settings: Settings
) -> None:
    _seed(settings)
    login(client, NAMES[AccountRole.LEAD])
    answer = client.get("/console/legal")
    assert answer.status_code == 200
    page = answer.text
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 3
    assert '<rect x="210"' in page
    assert 'class="bar type-subpoena"' in page
    assert '<title id="chart-received-title">Requests received per month and type</title>' in page
    assert "1d 4h" in page  # verified after 2 hours, produced 28 hours later
    assert "ECSO-0002" in page
    assert "emergency" in page
    assert '<p id="open-counts"><b>1</b> open, <b>1</b> overdue' in page
    assert "user-secret" not in page
    assert "<script>alert" not in page
    assert "style=" not in page  # the CSP allows no inline style
    assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_agency_names_are_escaped_in_tables_and_charts(
    client: TestClient, settings: Settings
) -> None:
    engine = create_engine_for(settings.database_url)
    store = EvidenceStore(settings.home / "legal-vault", secrets.token_bytes(32), chunk_size=1024)
    try:
        with session_factory(engine).begin() as session:
            plain = make_sender(session, name=NASTY_AGENCY, domain="sheriff-two.example")
            submit(session, CTX, store, new_request(plain, kind=RequestType.SUBPOENA),
                   now=datetime.now(UTC) - timedelta(hours=1))  # fmt: skip
    finally:
        engine.dispose()
    login(client, NAMES[AccountRole.ADMIN])
    page = client.get("/console/legal").text
    assert "<script>alert" not in page
    assert "Example &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Sheriff" in page


def test_the_csv_export_is_recorded(client: TestClient, settings: Settings) -> None:
    _seed(settings)
    login(client, NAMES[AccountRole.AUDITOR])
    answer = client.get("/console/legal/export.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "brightline-legal.csv" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert {row["type"] for row in rows} == {"subpoena", "emergency"}
    subpoena = next(row for row in rows if row["type"] == "subpoena")
    assert (subpoena["acknowledge_median_hours"], subpoena["produce_median_hours"]) == (
        "2.00",
        "28.00",
    )
    assert "user-secret" not in answer.text
    assert (NAMES[AccountRole.AUDITOR], "legal_dashboard", "csv") in _audit_rows(
        settings, AuditAction.DOWNLOAD
    )


def test_chart_text_is_escaped_and_no_data_is_not_a_zero_bar() -> None:
    chart = horizontal_bar_chart(
        'A <title> & "quotes"',
        [Bar("2026-12 <b>x</b>", 2.0, "2", "type-subpoena"), Bar("2026-11", None, "no data")],
        chart_id="chart-test",
    )
    assert "<b>" not in chart
    assert "2026-12 &lt;b&gt;x&lt;/b&gt;" in chart
    assert "A &lt;title&gt; &amp; &#34;quotes&#34;" in chart
    assert chart.count("<rect") == 1
    assert ">no data</text>" in chart
