"""The console's queue of discovered term variants: who sees it, evidence shown, accept and reject
forms (CSRF, one-time form keys), audit rows, and what a decision does to the term list."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from brightline.accounts import AccountRole
from brightline.review import AuditAction, query_audit
from brightline.settings import Settings
from brightline.storage import create_engine_for, session_factory
from brightline.text.discovery import Candidate, Method
from brightline.text.models import CandidateStatus
from brightline.text.term_banks import (
    add_term,
    create_list,
    list_candidates,
    queue_candidates,
    terms_at,
)
from tests.web.conftest import NAMES, form_fields, login

NASTY_TAG = "<script>zorb</script>"


def _engine(settings: Settings) -> Engine:
    return create_engine_for(settings.database_url)


def _seed(settings: Settings) -> dict[str, int]:
    """A list with one seed tag and three pending candidates (one of them with markup)."""
    engine = _engine(settings)
    try:
        with session_factory(engine).begin() as session:
            create_list(session=session, name="coded", actor="test")
            add_term(session=session, list_name="coded", text="zorblax", mode="hashtag",
                     actor="test")  # fmt: skip
            queue_candidates(
                session=session,
                list_name="coded",
                candidates=[
                    Candidate("z0rblax", 1, 0.09, {Method.COOCCURRENCE: 3, Method.SPELLING: 1},
                              {"posts": 4, "accounts": 4, "relation": "same", "npmi": 0.91}),
                    Candidate("mivadu", 2, 0.05, {Method.GRAPH: 1},
                              {"posts": 8, "neighbours": 2, "pagerank": 0.459}),
                    Candidate(NASTY_TAG, 3, 0.01, {Method.GRAPH: 9}, {"posts": 3}),
                ],
            )  # fmt: skip
            return {item.tag: item.id for item in list_candidates(session=session)}
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_only_leads_and_admins_see_the_queue(client: TestClient) -> None:
    for role in AccountRole:
        login(client, NAMES[role])
        allowed = role in {AccountRole.ADMIN, AccountRole.LEAD}
        answer = client.get("/console/text/candidates")
        assert answer.status_code == (200 if allowed else 403), (role, answer.text)
        page = client.get("/console/preferences").text
        assert ('href="/console/text/candidates"' in page) is allowed
    client.cookies.clear()
    answer = client.get("/console/text/candidates")
    assert answer.status_code in (303, 307)


def test_accept_and_reject_from_the_console(client: TestClient, settings: Settings) -> None:
    ids = _seed(settings)
    login(client, NAMES[AccountRole.LEAD])
    answer = client.get("/console/text/candidates")
    assert answer.status_code == 200
    page = answer.text
    assert page.index("z0rblax") < page.index("mivadu")  # best score first
    assert "cooccurrence: 3" in page
    assert "spelling: 1" in page
    assert "spelling relation: same" in page
    assert "co-occurring tags: 2" in page
    assert "<script>zorb" not in page
    assert "&lt;script&gt;zorb" in page
    assert "style=" not in page

    action = f"/console/text/candidates/{ids['z0rblax']}/accept"
    fields = form_fields(page, action)
    refused = client.post(action, data={"form_key": fields["form_key"], "mode": "hashtag"})
    assert refused.status_code == 403  # no CSRF token
    accepted = client.post(action, data={**fields, "mode": "hashtag", "weight": "2",
                                         "reason": "a spelling variant"})  # fmt: skip
    assert accepted.status_code == 303, accepted.text
    assert accepted.headers["location"].startswith(
        f"/console/text/candidates?decided={ids['z0rblax']}"
    )
    again = client.post(action, data={**fields, "mode": "hashtag", "weight": "2"})
    assert again.status_code == 409
    assert "already submitted" in again.text

    reject_action = f"/console/text/candidates/{ids['mivadu']}/reject"
    reject_fields = form_fields(page, reject_action)
    rejected = client.post(reject_action, data={**reject_fields, "reason": "a context tag"})
    assert rejected.status_code == 303, rejected.text

    bad_action = f"/console/text/candidates/{ids[NASTY_TAG]}/accept"
    bad = client.post(bad_action, data={**form_fields(page, bad_action), "weight": "heavy"})
    assert bad.status_code == 400
    assert "weight must be a number" in bad.text

    after = client.get(f"/console/text/candidates?list=coded&decided={ids['mivadu']}").text
    assert "Decision recorded on candidate" in after
    assert "z0rblax" not in after
    assert "mivadu" not in after
    assert client.get("/console/text/candidates?list=missing").status_code == 400

    engine = _engine(settings)
    try:
        with session_factory(engine).begin() as session:
            bank, rows = terms_at(session=session, list_name="coded")
            assert bank.version == 2
            added = rows[-1]
            assert (added.text, added.mode, added.weight, added.source_ref) == (
                "z0rblax", "hashtag", 2.0, f"candidate:{ids['z0rblax']}",
            )  # fmt: skip
            assert added.added_by == NAMES[AccountRole.LEAD]
            decided = {item.tag: item for item in list_candidates(session=session, status=None)}
            assert decided["mivadu"].status is CandidateStatus.REJECTED
            assert decided["mivadu"].reason == "a context tag"
            rows_audited = query_audit(session=session, action=AuditAction.TERM_CANDIDATE_DECIDE)
            assert [(row.object_id, row.reason) for row in rows_audited] == [
                (str(ids["z0rblax"]), "a spelling variant"),
                (str(ids["mivadu"]), "a context tag"),
            ]
            assert "z0rblax" not in rows_audited[0].detail  # ids and codes only
            views = query_audit(session=session, action=AuditAction.TERM_CANDIDATES_VIEW)
            assert len(views) == 2
    finally:
        engine.dispose()
