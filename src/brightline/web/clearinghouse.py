"""The investigator pages: the clearinghouse's analysed reports, queued per agency.

Thin handlers over :mod:`brightline.clearinghouse.analysis_store`. These pages show scores,
their explanations, links between reports with the evidence for each, clusters, bundles and
referrals, and files only by their hashes and known/new status: **no media at all**, so an
investigator triaging the queue is never exposed to the material itself. Every page view and
every feedback is written to the console's audit log, in the same transaction.

Not done: an investigator is not limited to their own agency (accounts have no agency yet);
every role allowed here sees every agency's queue.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import Response

from brightline.accounts import AccountRole, use_form_key
from brightline.clearinghouse.analysis_models import ClosingReason, ReferralStatus
from brightline.clearinghouse.analysis_store import (
    agencies,
    analysis_queue,
    record_feedback,
    report_analysis,
)
from brightline.errors import InvalidInput
from brightline.review import AuditAction, audit
from brightline.web.pages import RowId, StateDep, _page, _redirect
from brightline.web.reports import _form_key_unused
from brightline.web.security import PREFIX, ConsoleRoute, Viewer, checked_form, require

INVESTIGATORS = frozenset({AccountRole.ADMIN, AccountRole.LEAD, AccountRole.INVESTIGATOR})
"""Who works the clearinghouse queue (leads and admins oversee it)."""
QUEUE_PAGE_ROWS = 200

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

InvestigatorDep = Annotated[Viewer, Depends(require(INVESTIGATORS))]
InvestigatorFormDep = Annotated[Viewer, Depends(checked_form(INVESTIGATORS))]


@router.get("/clearinghouse")
def queue_page(
    state: StateDep,
    viewer: InvestigatorDep,
    agency: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """Analysed reports most urgent first (tier, then score), optionally one agency's."""
    with state.transaction() as session:
        known = agencies(session=session)
        if agency and agency not in known:
            raise InvalidInput("no referrals to that agency")
        rows = analysis_queue(session=session, agency=agency or None, limit=QUEUE_PAGE_ROWS)
        audit(
            session=session,
            actor=viewer.username,
            action=AuditAction.CLEARINGHOUSE_VIEW,
            object_type="clearinghouse_queue",
            object_id=agency or "all",
            detail={"rows": len(rows)},
        )
        return _page(
            session,
            viewer,
            "clearinghouse_queue.html",
            rows=rows,
            agencies=known,
            agency=agency,
        )


@router.get("/clearinghouse/reports/{report_id}")
def report_page(
    report_id: RowId, state: StateDep, viewer: InvestigatorDep, saved: int = 0
) -> Response:
    """One report's analysis: score explained, links with evidence, referrals and feedback."""
    with state.transaction() as session:
        shown = report_analysis(session=session, report_id=report_id)
        audit(
            session=session,
            actor=viewer.username,
            action=AuditAction.CLEARINGHOUSE_VIEW,
            object_type="clearinghouse_report",
            object_id=report_id,
        )
        return _page(
            session,
            viewer,
            "clearinghouse_report.html",
            shown=shown,
            statuses=[s.value for s in ReferralStatus],
            closing_reasons=[r.value for r in ClosingReason],
            saved=saved,
        )


@router.post("/clearinghouse/referrals/{referral_id}/feedback")
def referral_feedback(
    referral_id: RowId,
    state: StateDep,
    viewer: InvestigatorFormDep,
    form_key: Annotated[str, Form()] = "",
    status: Annotated[str, Form(max_length=64)] = "",
    reason: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Record an agency's status (and closing reason) on a referral, audited, exactly once."""
    with state.transaction() as session:
        _form_key_unused(session, form_key)
        referral = record_feedback(
            session=session,
            referral_id=referral_id,
            status=status,
            reason=reason or None,
            actor=viewer.username,
        )
        audit(
            session=session,
            actor=viewer.username,
            action=AuditAction.REFERRAL_FEEDBACK,
            object_type="clearinghouse_referral",
            object_id=referral.id,
            detail={
                "report_id": referral.report_id,
                "status": referral.status,
                "closing_reason": referral.closing_reason,
            },
        )
        report_id = referral.report_id
        use_form_key(session=session, account_id=viewer.account_id, form_key=form_key)
    return _redirect(f"/clearinghouse/reports/{report_id}?saved={referral_id}#referrals")
