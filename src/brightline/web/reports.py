"""The console's case page: a case's items, its reports and their receipts, and *File report*.

Filing calls :func:`brightline.reports.filing.file_report` (media check, enrichment, build,
audit, outbox) in one transaction with the form's one-time key, so a report is queued exactly
when the form is accepted, and a refused filing (missing media, an enrichment failure, missing
fields) leaves nothing behind and can be sent again once fixed. A filing is announced only from
the database afterwards (``?filed=<report id>``), like a decision.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import Response
from sqlalchemy.orm import Session

from brightline.accounts import use_form_key
from brightline.accounts.models import UsedFormKey
from brightline.errors import Conflict, InvalidInput, StorageError
from brightline.reports import IncidentType, enricher_from_settings, reportable_items
from brightline.reports.filing import ReportOverview, case_reports, file_report, media_missing
from brightline.review import Subject, case_items, get_case
from brightline.storage.base import utcnow
from brightline.web.pages import (
    OptionalRowId,
    ReviewerDep,
    ReviewFormDep,
    RowId,
    StateDep,
    _page,
    _redirect,
)
from brightline.web.security import PREFIX, TEAM, ConsoleRoute, PageError

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


def _item_reports(reports: list[ReportOverview]) -> dict[int, list[ReportOverview]]:
    """Item id → every report that carried it, oldest first (failed ones included)."""
    found: dict[int, list[ReportOverview]] = {}
    for report in reports:
        for item_id in report.item_ids:
            found.setdefault(item_id, []).append(report)
    return found


def _just_filed(reports: list[ReportOverview], filed: int | None) -> ReportOverview | None:
    """The report named by ``?filed=``, only if the database shows it built on this case."""
    if filed is None:
        return None
    return next((report for report in reports if report.report_id == filed), None)


@router.get("/cases/{case_id}")
def case_page(
    case_id: RowId, state: StateDep, viewer: ReviewerDep, filed: OptionalRowId = None
) -> Response:
    """One case: its items, its reports with their receipts, and the *File report* form."""
    with state.transaction() as session:
        case = get_case(session=session, case_id=case_id)
        subject = session.get(Subject, case.subject_id)
        reportable = reportable_items(session=session, case_id=case_id)
        media_unknown = False
        try:
            missing = set(media_missing(items=reportable, media=state.evidence))
        except StorageError:
            missing, media_unknown = set(), True
        reports = case_reports(session=session, case_id=case_id)
        return _page(
            session,
            viewer,
            "case.html",
            case=case,
            subject=subject,
            items=case_items(session=session, case_id=case_id),
            reportable_ids=[item.id for item in reportable],
            missing_media=sorted(missing),
            media_unknown=media_unknown,
            reports=reports,
            failed_reports=[report for report in reports if report.failed],
            item_reports=_item_reports(reports),
            retryable=[
                report
                for report in reports
                if report.failed
                and report.submission is not None
                and any(item.id in report.item_ids for item in reportable)
            ],
            just_filed=_just_filed(reports, filed),
            incident_types=list(IncidentType),
            may_omit=viewer.may(TEAM),
        )


def _form_key_unused(session: Session, form_key: str) -> None:
    """Refuse a replayed form before the platform is asked anything (cheap and read-only);
    :func:`use_form_key` at the end is what makes it exactly once."""
    if form_key and session.get(UsedFormKey, form_key) is not None:
        raise Conflict(
            "this form was already submitted (a double click, a reload or a replayed request); "
            "it was not applied again"
        )


@router.post("/cases/{case_id}/report")
def file_case_report(
    case_id: RowId,
    state: StateDep,
    viewer: ReviewFormDep,
    form_key: Annotated[str, Form()] = "",
    incident_type: Annotated[str, Form()] = "",
    allow_missing_media: Annotated[str, Form()] = "",
) -> Response:
    """Build the case's report and queue it (roles that may decide; omitting items whose
    media is missing is for leads and admins, and is recorded)."""
    allow = allow_missing_media == "on"
    if allow and not viewer.may(TEAM):
        raise PageError(403, "only leads and admins may file a report without missing media")
    try:
        chosen = IncidentType[incident_type]
    except KeyError:
        raise InvalidInput("choose an incident type") from None
    enricher = enricher_from_settings(state.settings.enrichment)
    with state.transaction() as session:
        _form_key_unused(session, form_key)
        filed = file_report(
            session=session,
            case_id=case_id,
            incident_type=chosen,
            actor=viewer.username,
            reporter=state.settings.reporter,
            enricher=enricher,
            media=state.evidence,
            now=utcnow(),
            allow_missing_media=allow,
        )
        # Last, so that a refused filing leaves the form usable once the cause is fixed.
        use_form_key(session=session, account_id=viewer.account_id, form_key=form_key)
    return _redirect(f"/cases/{case_id}?filed={filed.report_id}#reports")
