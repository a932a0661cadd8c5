"""Investigators see only their agencies' referrals: service, console pages and CLI.

Planted routing (demo agencies): ordinary → example-icac-south (US-TX), urgent →
example-icac-west (US-CA), linked → example-agency-gb, informational → national-queue.
"""

from __future__ import annotations

import base64
import re
import secrets
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from brightline.accounts import AccountRole
from brightline.accounts.models import Account
from brightline.clearinghouse.analysis_models import Referral
from brightline.clearinghouse.analysis_store import analyse_intake, analysis_queue
from brightline.clearinghouse.investigators import (
    assign_agency,
    investigator_scope,
    list_assignments,
    unassign_agency,
)
from brightline.clearinghouse.routing import demo_router
from brightline.cli.main import cli
from brightline.errors import InvalidInput, NotFound
from brightline.review import AuditAction, query_audit
from tests.clearinghouse_analysis.conftest import AS_OF, Planted
from tests.web.conftest import NAMES, form_fields, login

INVESTIGATOR = NAMES[AccountRole.INVESTIGATOR]
WEST = "example-icac-west"
SOUTH = "example-icac-south"


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'/console/clearinghouse/reports/(\d+)"', html)]


@pytest.fixture
def analysed(
    sessions: sessionmaker[Session], planted: Planted, accounts: dict[AccountRole, str]
) -> Planted:
    with sessions.begin() as session:
        analyse_intake(session=session, as_of=AS_OF, router=demo_router())
    return planted


def test_assignments_are_checked_and_audited(
    sessions: sessionmaker[Session], analysed: Planted
) -> None:
    known = {WEST, SOUTH}
    with sessions.begin() as session:
        assert assign_agency(
            session=session, username=INVESTIGATOR, agency_id=WEST, actor="admin-1",
            known_agencies=known,
        )  # fmt: skip
        assert not assign_agency(
            session=session, username=INVESTIGATOR.upper(), agency_id=WEST, actor="admin-1"
        )
        for username, agency, error in (
            ("nobody", WEST, NotFound),
            (NAMES[AccountRole.LEAD], WEST, InvalidInput),  # leads see everything already
            (NAMES[AccountRole.REVIEWER], WEST, InvalidInput),
            (INVESTIGATOR, "example-icac-nowhere", NotFound),
            (INVESTIGATOR, "Not An Id", InvalidInput),
        ):
            with pytest.raises(error):
                assign_agency(
                    session=session, username=username, agency_id=agency, actor="admin-1",
                    known_agencies=known,
                )  # fmt: skip
        account = session.scalars(select(Account).where(Account.username == INVESTIGATOR)).one()
        scope = investigator_scope(
            session=session, account_id=account.id, role=AccountRole.INVESTIGATOR
        )
        assert scope == frozenset({WEST})
        assert investigator_scope(session=session, account_id=1, role=AccountRole.LEAD) is None
        queue = analysis_queue(session=session, scope=scope)
        assert [row.report_id for row in queue] == [analysed.urgent]
        assert [r.agency_id for r in queue[0].referrals] == [WEST]
        assert [(a.username, a.agency_id) for a in list_assignments(session=session)] == [
            (INVESTIGATOR, WEST)
        ]
        assert unassign_agency(session=session, username=INVESTIGATOR, agency_id=WEST, actor="a")
        assert not unassign_agency(
            session=session, username=INVESTIGATOR, agency_id=WEST, actor="a"
        )
        assert analysis_queue(session=session, scope=frozenset()) == []
        audited = query_audit(session=session, action=AuditAction.SETTING_CHANGE)
        changes = [row.detail for row in audited if row.object_id == str(account.id)]
        assert any("agency_assigned" in d for d in changes)
        assert any("agency_unassigned" in d for d in changes)


def test_an_investigator_sees_only_their_agencies(
    client: TestClient, sessions: sessionmaker[Session], analysed: Planted
) -> None:
    login(client, INVESTIGATOR)
    empty = client.get("/console/clearinghouse")
    assert empty.status_code == 200
    assert _ids(empty.text) == []
    assert 'id="no-agency"' in empty.text
    assert client.get(f"/console/clearinghouse/reports/{analysed.urgent}").status_code == 404

    with sessions.begin() as session:
        for agency in (WEST, SOUTH):
            assign_agency(session=session, username=INVESTIGATOR, agency_id=agency, actor="t")
        west_referral, gb_referral = (
            session.scalars(select(Referral.id).where(Referral.report_id == report_id)).one()
            for report_id in (analysed.urgent, analysed.linked)
        )
    page = client.get("/console/clearinghouse")
    assert set(_ids(page.text)) == {analysed.urgent, analysed.ordinary}
    assert 'id="no-agency"' not in page.text
    assert "example-agency-gb" not in page.text  # not in the agency filter either
    assert (
        client.get("/console/clearinghouse", params={"agency": "national-queue"}).status_code == 400
    )
    own = client.get(f"/console/clearinghouse/reports/{analysed.urgent}")
    assert own.status_code == 200
    other = client.get(f"/console/clearinghouse/reports/{analysed.linked}")
    assert other.status_code == 404
    missing = client.get("/console/clearinghouse/reports/999999")
    assert other.text.replace(str(analysed.linked), "N") == missing.text.replace("999999", "N")

    # Feedback on another agency's referral is refused as if it did not exist.
    fields = form_fields(own.text, f"/console/clearinghouse/referrals/{west_referral}/feedback")
    forged = client.post(
        f"/console/clearinghouse/referrals/{gb_referral}/feedback",
        data={**fields, "status": "arrest"},
    )
    assert forged.status_code == 404
    with sessions.begin() as session:
        stored = session.get(Referral, gb_referral)
        assert stored is not None
        assert stored.feedback_at is None

    lead = login(TestClient(client.app, follow_redirects=False), NAMES[AccountRole.LEAD])
    assert set(_ids(lead.get("/console/clearinghouse").text)) == analysed.finished
    assert lead.get(f"/console/clearinghouse/reports/{analysed.linked}").status_code == 200


def test_investigator_commands(
    database_url: str, tmp_path: Path, sessions: sessionmaker[Session], analysed: Planted
) -> None:
    env = {
        "BRIGHTLINE_DATABASE_URL": database_url,
        "BRIGHTLINE_HOME": str(tmp_path),
        "BRIGHTLINE_EVIDENCE_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, ["clearinghouse", "investigator", *args], env=env)
        return result.exit_code, result.output

    assert run("assign", INVESTIGATOR, WEST, "--by", "admin-1") == (
        0,
        f"assigned {WEST} to {INVESTIGATOR}\n",
    )
    assert run("assign", INVESTIGATOR, "national-queue")[0] == 0
    assert run("assign", INVESTIGATOR, WEST)[1] == f"already assigned {WEST} to {INVESTIGATOR}\n"
    for bad in (
        ("assign", "nobody", WEST),
        ("assign", NAMES[AccountRole.AUDITOR], WEST),
        ("assign", INVESTIGATOR, "example-nowhere"),
        ("list", "nobody"),
    ):
        code, output = run(*bad)
        assert code == 2, bad
        assert output.startswith("brightline: error:")
        assert len(output.strip().splitlines()) == 1
    code, listed = run("list")
    assert code == 0
    assert [line.split("\t")[:2] for line in listed.splitlines()] == [
        [INVESTIGATOR, WEST],
        [INVESTIGATOR, "national-queue"],
    ]
    assert listed.splitlines()[0].split("\t")[2] == "admin-1"
    assert run("unassign", INVESTIGATOR, WEST) == (0, f"unassigned {WEST} from {INVESTIGATOR}\n")
    assert run("list", INVESTIGATOR)[1].count("\n") == 1
