"""The console's review queue of discovered term variants (``/console/text/candidates``).

``brightline text discover --bank NAME --queue`` puts candidate spellings and code words of a
term list's tags here; a lead or an admin accepts one (it joins the list, a new version, with the
candidate as its provenance) or rejects it (remembered: never proposed again for that list).
Each candidate shows why it was proposed: its fused score, its rank in each discovery method and
the counts behind them, never any post. Every view and every decision is in the audit log, in
the same transaction; the audit rows hold ids and codes, the tag only in the decision itself.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from brightline.accounts import AccountRole, use_form_key
from brightline.errors import InvalidInput
from brightline.review import AuditAction, audit
from brightline.text.models import CandidateStatus
from brightline.text.term_banks import (
    CandidateRead,
    accept_candidate,
    list_candidates,
    list_lists,
    reject_candidate,
)
from brightline.text.terms import MatchMode
from brightline.web.pages import RowId, StateDep, _page, _redirect
from brightline.web.reports import _form_key_unused
from brightline.web.security import PREFIX, ConsoleRoute, Viewer, checked_form, require

TERM_CURATORS = frozenset({AccountRole.ADMIN, AccountRole.LEAD})
"""Who sees the queue and decides: a term list changes what every later scan flags for review."""
QUEUE_PAGE_ROWS = 200
EVIDENCE_SHOWN = (
    ("accounts", "accounts using it"),
    ("posts", "posts"),
    ("seed_accounts_using", "seed users using it"),
    ("posts_with_seed", "posts with a seed"),
    ("npmi", "NPMI"),
    ("pagerank", "PageRank"),
    ("neighbours", "co-occurring tags"),
    ("relation", "spelling relation"),
    ("similarity", "spelling similarity"),
    ("nearest_seed_skeleton", "nearest seed (folded)"),
    ("first_seen", "first seen"),
    ("last_seen", "last seen"),
)
"""The evidence discovery records, in the order and words the page shows them."""

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

CuratorDep = Annotated[Viewer, Depends(require(TERM_CURATORS))]
CuratorFormDep = Annotated[Viewer, Depends(checked_form(TERM_CURATORS))]


def _by_list(rows: list[CandidateRead]) -> dict[str, list[CandidateRead]]:
    grouped: dict[str, list[CandidateRead]] = {}
    for row in rows:
        grouped.setdefault(row.list_name, []).append(row)
    return grouped


@router.get("/text/candidates")
def candidates_page(
    state: StateDep,
    viewer: CuratorDep,
    list_name: Annotated[str, Query(alias="list", max_length=100)] = "",
    decided: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> Response:
    """Pending candidates per term list, best first, with their evidence and decision forms."""
    with state.transaction() as session:
        lists = list_lists(session=session)
        if list_name and list_name not in {item.name for item in lists}:
            raise InvalidInput("no term list with that name")
        rows = list_candidates(
            session=session,
            list_name=list_name or None,
            status=CandidateStatus.PENDING,
            limit=QUEUE_PAGE_ROWS,
        )
        audit(
            session=session,
            actor=viewer.username,
            action=AuditAction.TERM_CANDIDATES_VIEW,
            object_type="term_candidates",
            object_id="all" if not list_name else "list",
            detail={"rows": len(rows)},
        )
        return _page(
            session,
            viewer,
            "text_candidates.html",
            grouped=_by_list(rows),
            lists=lists,
            list_name=list_name,
            evidence_shown=EVIDENCE_SHOWN,
            modes=[mode.value for mode in MatchMode],
            decided=decided,
            anchor=_anchor,
        )


def _audit_decision(session: Session, viewer: Viewer, decided: CandidateRead) -> None:
    detail: dict[str, int | str | None] = {"status": decided.status.value}
    if decided.term_id is not None:
        detail["term_id"] = decided.term_id
    audit(
        session=session,
        actor=viewer.username,
        action=AuditAction.TERM_CANDIDATE_DECIDE,
        object_type="term_candidate",
        object_id=decided.id,
        reason=decided.reason,
        detail=detail,
    )


@router.post("/text/candidates/{candidate_id}/accept")
def accept(
    candidate_id: RowId,
    state: StateDep,
    viewer: CuratorFormDep,
    form_key: Annotated[str, Form()] = "",
    mode: Annotated[str, Form(max_length=16)] = MatchMode.HASHTAG.value,
    weight: Annotated[str, Form(max_length=32)] = "1",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Add the candidate's tag to its list (a new version), audited, exactly once."""
    try:
        number = float(weight)
    except ValueError:
        raise InvalidInput("the weight must be a number") from None
    with state.transaction() as session:
        _form_key_unused(session, form_key)
        decided = accept_candidate(
            session=session,
            candidate_id=candidate_id,
            actor=viewer.username,
            reason=reason or None,
            mode=mode,
            weight=number,
        )
        _audit_decision(session, viewer, decided)
        use_form_key(session=session, account_id=viewer.account_id, form_key=form_key)
        name = decided.list_name
    return _redirect(f"/text/candidates?decided={candidate_id}#list-{_anchor(name)}")


@router.post("/text/candidates/{candidate_id}/reject")
def reject(
    candidate_id: RowId,
    state: StateDep,
    viewer: CuratorFormDep,
    form_key: Annotated[str, Form()] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Reject the candidate (remembered for its list), audited, exactly once."""
    with state.transaction() as session:
        _form_key_unused(session, form_key)
        decided = reject_candidate(
            session=session, candidate_id=candidate_id, actor=viewer.username, reason=reason
        )
        _audit_decision(session, viewer, decided)
        use_form_key(session=session, account_id=viewer.account_id, form_key=form_key)
        name = decided.list_name
    return _redirect(f"/text/candidates?decided={candidate_id}#list-{_anchor(name)}")


def _anchor(name: str) -> str:
    """A fragment id for a list's section (the template builds the same one)."""
    return "".join(char if char.isascii() and char.isalnum() else "-" for char in name)
