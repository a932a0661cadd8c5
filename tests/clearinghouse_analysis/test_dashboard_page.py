"""The clearinghouse dashboard page and its CSV: charts with their tables, roles, an
investigator's agencies only, every view and export audited, no media."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from brightline.accounts import AccountRole
from brightline.clearinghouse.analysis_store import analyse_intake, dashboard_facts
from brightline.clearinghouse.dashboard import build_dashboard
from brightline.clearinghouse.intake import finish_report
from brightline.clearinghouse.investigators import assign_agency
from brightline.clearinghouse.models import IntakeProvider
from brightline.clearinghouse.routing import demo_router
from brightline.review import AuditAction, query_audit
from brightline.web.charts import Bar, column_chart
from tests.clearinghouse_analysis.conftest import AS_OF, Planted
from tests.web.conftest import NAMES, login

INVESTIGATOR = NAMES[AccountRole.INVESTIGATOR]
MEDIA = re.compile(r"<(img|video|audio|picture|canvas|object|embed|iframe)\b|/items/", re.I)


@pytest.fixture
def analysed(
    sessions: sessionmaker[Session], planted: Planted, accounts: dict[AccountRole, str]
) -> Planted:
    with sessions.begin() as session:
        analyse_intake(session=session, as_of=AS_OF, router=demo_router())
    return planted


def _csv(text: str) -> dict[tuple[str, str], str]:
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["section", "key", "value"]
    return {(section, key): value for section, key, value in rows[1:]}


def test_lead_sees_every_agency_charts_and_csv(
    client: TestClient, sessions: sessionmaker[Session], analysed: Planted
) -> None:
    """The stored facts add up, a lead sees every agency, other roles are refused."""
    with sessions.begin() as session:
        board = build_dashboard(dashboard_facts(session=session))
    assert board.reports == 4
    assert dict(board.per_provider) == {"esp-one": 2, "esp-two": 2}
    assert dict(board.per_tier)["immediate"] == 1
    assert dict(board.per_agency) == {
        "example-icac-west": 1,
        "example-icac-south": 1,
        "example-agency-gb": 1,
        "national-queue": 1,
    }
    assert (board.files, board.files_unchecked) == (3, 3)
    assert board.incident_to_report.count == 4
    assert board.report_to_referral.count == 4

    assert client.get("/console/clearinghouse/dashboard").status_code == 303  # to sign-in
    for role in (AccountRole.REVIEWER, AccountRole.AUDITOR):
        browser = login(TestClient(client.app, follow_redirects=False), NAMES[role])
        assert browser.get("/console/clearinghouse/dashboard").status_code == 403, role
        assert browser.get("/console/clearinghouse/dashboard.csv").status_code == 403, role
    login(client, NAMES[AccountRole.LEAD])
    page = client.get("/console/clearinghouse/dashboard")
    assert page.status_code == 200
    text = page.text
    for chart in ("per-day", "per-tier", "per-provider", "per-agency", "durations", "files"):
        assert f'id="chart-{chart}"' in text
    assert 'href="/console/clearinghouse/dashboard"' in text  # the nav link
    assert "every agency" in text
    assert "example-agency-gb" in text
    assert not MEDIA.search(text)
    assert "<script" not in text.split("</head>")[1]
    exported = client.get("/console/clearinghouse/dashboard.csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    figures = _csv(exported.text)
    assert figures[("total", "reports")] == "4"
    assert figures[("agency", "example-agency-gb")] == "1"
    assert figures[("files", "unchecked")] == "3"
    with sessions.begin() as session:
        views = query_audit(session=session, action=AuditAction.CLEARINGHOUSE_VIEW)
        downloads = query_audit(session=session, action=AuditAction.DOWNLOAD)
        assert [(r.object_type, r.object_id) for r in views] == [("clearinghouse_dashboard", "all")]
        assert [(r.object_type, r.object_id) for r in downloads] == [
            ("clearinghouse_dashboard", "all")
        ]


def test_investigator_sees_only_their_agencies_figures(
    client: TestClient, sessions: sessionmaker[Session], analysed: Planted
) -> None:
    login(client, INVESTIGATOR)
    empty = client.get("/console/clearinghouse/dashboard")
    assert empty.status_code == 200
    assert 'id="no-agency"' in empty.text
    assert (
        _csv(client.get("/console/clearinghouse/dashboard.csv").text)[("total", "reports")] == "0"
    )
    with sessions.begin() as session:
        assign_agency(
            session=session, username=INVESTIGATOR, agency_id="example-icac-west", actor="t"
        )
    page = client.get("/console/clearinghouse/dashboard")
    assert "your agencies only (example-icac-west)" in page.text
    assert "example-agency-gb" not in page.text
    assert "esp-two" not in page.text  # the west report came from esp-one
    figures = _csv(client.get("/console/clearinghouse/dashboard.csv").text)
    assert figures[("total", "reports")] == "1"
    assert figures[("tier", "immediate")] == "1"
    assert {key for section, key in figures if section == "agency"} == {"example-icac-west"}
    with sessions.begin() as session:
        views = query_audit(session=session, action=AuditAction.CLEARINGHOUSE_VIEW)
        assert {(r.actor, r.object_id) for r in views} == {(INVESTIGATOR, "own_agencies")}


def test_column_chart_escapes_and_skips_empty_columns() -> None:
    drawn = str(
        column_chart(
            "per <day>",
            [Bar("<b>a</b>", 3.0, "3"), Bar("b", 0.0, "0"), Bar("c", None, "no data")],
            chart_id="c1",
        )
    )
    assert drawn.count("<rect") == 1
    assert "<b>" not in drawn
    assert "&lt;b&gt;a&lt;/b&gt;" in drawn
    assert "per &lt;day&gt;" in drawn
    assert "no data" in str(column_chart("t", [], chart_id="c2"))


def test_figures_are_rebuilt_after_the_next_analysis_run(
    client: TestClient, sessions: sessionmaker[Session], analysed: Planted
) -> None:
    """Kept per run: a report finished since is counted once an analysis run has stored it,
    not before (the stored analysis does not have it yet)."""
    login(client, NAMES[AccountRole.LEAD])

    def reports() -> str:
        return _csv(client.get("/console/clearinghouse/dashboard.csv").text)[("total", "reports")]

    assert reports() == "4"
    with sessions.begin() as session:
        provider = session.scalars(select(IntakeProvider).where(IntakeProvider.name == "esp-one"))
        finish_report(session=session, provider=provider.one(), report_id=analysed.unfinished)
    assert reports() == "4"
    with sessions.begin() as session:
        analyse_intake(session=session, as_of=AS_OF, router=demo_router())
    assert reports() == "5"
