"""The investigator pages: the clearinghouse's analysed reports, queued per agency.

Thin handlers over :mod:`brightline.clearinghouse.analysis_store`. These pages show scores,
their explanations, links between reports with the evidence for each, clusters, bundles and
referrals, and files by their hashes and known/new status. A file's media is shown the way the
review console shows an item's: a small, greyscale preview blurred on the server, and an
unblurred (still reduced) view only after the investigator reveals it on purpose; the reveal
counts toward their daily exposure and cap, is audited, and enters the chain of custody when
the file is preserved evidence. Every page view and every feedback is written to the console's
audit log, in the same transaction.

An investigator sees only the referrals of the agencies assigned to their account
(``brightline clearinghouse investigator assign``): another agency's report or referral is
answered 404, exactly like one that does not exist, and an investigator with no agency sees an
empty queue with a notice. Leads and admins see every agency.
"""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from brightline.accounts import AccountRole, use_form_key
from brightline.clearinghouse.analysis_models import ClosingReason, ReferralStatus
from brightline.clearinghouse.analysis_store import (
    agencies,
    analysis_queue,
    dashboard_facts,
    latest_run_id,
    record_feedback,
    report_analysis,
)
from brightline.clearinghouse.dashboard import (
    Dashboard,
    DurationSummary,
    build_dashboard,
    describe_duration,
    write_dashboard_csv,
)
from brightline.clearinghouse.investigators import investigator_scope
from brightline.clearinghouse.models import FILE_ID_LENGTH, IntakeFile
from brightline.errors import Conflict, InvalidInput, NotFound
from brightline.evidence.retention import record_access_if_preserved
from brightline.http.state import ServiceState
from brightline.review import AuditAction, audit
from brightline.review.reveals import count_exposure
from brightline.storage.base import utcnow
from brightline.web import media
from brightline.web.charts import Bar, column_chart, horizontal_bar_chart
from brightline.web.pages import (
    Grant,
    RowId,
    StateDep,
    _media_response,
    _page,
    _recent_grant,
    _redirect,
    _reveal_id,
    in_vault,
    vault_bytes,
)
from brightline.web.reports import _form_key_unused
from brightline.web.security import (
    PREFIX,
    ConsoleRoute,
    PageError,
    Viewer,
    checked_form,
    require,
    wants_json,
)

INVESTIGATORS = frozenset({AccountRole.ADMIN, AccountRole.LEAD, AccountRole.INVESTIGATOR})
"""Who works the clearinghouse queue (leads and admins oversee it)."""
QUEUE_PAGE_ROWS = 200
FILE_REVEAL = "clearinghouse_file"
"""The audit object type of a revealed intake file (its grant, like an item's reveal)."""

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

InvestigatorDep = Annotated[Viewer, Depends(require(INVESTIGATORS))]
InvestigatorFormDep = Annotated[Viewer, Depends(checked_form(INVESTIGATORS))]
FileId = Annotated[str, Path(min_length=1, max_length=FILE_ID_LENGTH)]


def viewer_scope(session: Session, viewer: Viewer) -> frozenset[str] | None:
    """The agencies this viewer may see (None: every agency)."""
    return investigator_scope(session=session, account_id=viewer.account_id, role=viewer.role)


@router.get("/clearinghouse")
def queue_page(
    state: StateDep,
    viewer: InvestigatorDep,
    agency: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """Analysed reports most urgent first (tier, then score), optionally one agency's."""
    with state.transaction() as session:
        scope = viewer_scope(session, viewer)
        known = agencies(session=session, scope=scope)
        if agency and agency not in known:
            raise InvalidInput("no referrals to that agency")
        rows = analysis_queue(
            session=session, agency=agency or None, limit=QUEUE_PAGE_ROWS, scope=scope
        )
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
            scope=None if scope is None else sorted(scope),
        )


@router.get("/clearinghouse/reports/{report_id}")
def report_page(
    report_id: RowId,
    state: StateDep,
    viewer: InvestigatorDep,
    saved: int = 0,
    show: Annotated[str, Query(max_length=FILE_ID_LENGTH)] = "",
) -> Response:
    """One report's analysis: score explained, links with evidence, referrals and feedback;
    files blurred, except ``show`` when the viewer revealed it in the last two minutes (the
    reveal form's answer without JavaScript)."""
    with state.transaction() as session:
        shown = report_analysis(
            session=session, report_id=report_id, scope=viewer_scope(session, viewer)
        )
        shown_grant = None
        if show:
            row = _recent_grant(
                session,
                viewer,
                _reveal_id(session, viewer, show, FILE_REVEAL),
                full_resolution=False,
                now=utcnow(),
                object_type=FILE_REVEAL,
            )
            shown_grant = row.id if row is not None else None
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
            shown_file=show if shown_grant is not None else "",
            shown_grant=shown_grant,
        )


# ------------------------------------------------------------------- a report's files, blurred


def _report_file(session: Session, viewer: Viewer, report_id: int, file_id: str) -> IntakeFile:
    """The file of a report this viewer may see: another agency's report is answered 404
    exactly like a missing one (the report page's rule), and so is a file of another report."""
    report_analysis(session=session, report_id=report_id, scope=viewer_scope(session, viewer))
    received = session.scalars(
        select(IntakeFile).where(IntakeFile.report_id == report_id, IntakeFile.file_id == file_id)
    ).one_or_none()
    if received is None:
        raise NotFound(f"no such file in clearinghouse report {report_id}")
    return received


def _shown(data: bytes | None, *, size: int, greyscale: bool, blur_radius: int | None) -> bytes:
    """A reduced PNG of the file: a video's first frame, an image, or a grey tile. Uploads keep
    no type, so it is read from the bytes; a video itself is never sent, only its still."""
    media_type = media.sniffed_media_type(data) if data is not None else ""
    return media.reduced(data, media_type, size=size, greyscale=greyscale, blur_radius=blur_radius)


@router.get("/clearinghouse/reports/{report_id}/files/{file_id}/preview")
def file_preview(
    report_id: RowId, file_id: FileId, state: StateDep, viewer: InvestigatorDep
) -> Response:
    """Blurred, small, greyscale: made on the server, so nothing sharper reaches the browser."""
    care = viewer.wellness
    with state.transaction() as session:
        received = _report_file(session, viewer, report_id, file_id)
        data = vault_bytes(state, received.vault_ref, f"clearinghouse file {received.id}")
    body = _shown(data, size=care.preview_size, greyscale=True, blur_radius=care.blur_radius)
    return _media_response(body, "image/png")


@router.post("/clearinghouse/reports/{report_id}/files/{file_id}/reveal")
def file_reveal(
    request: Request,
    report_id: RowId,
    file_id: FileId,
    state: StateDep,
    viewer: InvestigatorFormDep,
) -> Response:
    """Count the reveal toward the viewer's daily exposure (refused at the cap), audit it, record
    it in the chain of custody if the file is preserved evidence, then hand out its view URL."""
    care = viewer.wellness
    with state.transaction() as session:
        received = _report_file(session, viewer, report_id, file_id)
        if not in_vault(state, received.vault_ref):
            raise Conflict(
                "this file is not in the evidence store, so there is nothing to reveal; "
                "work from its hashes"
            )
        now = utcnow()
        count = count_exposure(
            session=session, reviewer=viewer.username, daily_cap=care.daily_cap, now=now
        )
        audit(
            session=session,
            actor=viewer.username,
            action=AuditAction.REVEAL,
            object_type=FILE_REVEAL,
            object_id=file_id,
            detail={"full_resolution": False, "reveals_today": count, "report_id": report_id},
            at=now,
        )
        record_access_if_preserved(
            session=session,
            custody_key=state.custody_key,
            ref=received.vault_ref,
            actor=f"console:{viewer.username}",
            reason="investigator reveal",
        )
        grant = _reveal_id(session, viewer, file_id, FILE_REVEAL)
    if wants_json(request):
        return JSONResponse(
            {
                "view_url": (
                    f"{PREFIX}/clearinghouse/reports/{report_id}/files/{file_id}/view?grant={grant}"
                ),
                "video": False,
                "reveals_today": count,
                "daily_cap": care.daily_cap,
                "break_prompt": count % care.break_every == 0,
                "reblur_seconds": care.auto_reblur_seconds,
            }
        )
    return _redirect(f"/clearinghouse/reports/{report_id}?show={file_id}#file-{file_id}")


@router.get("/clearinghouse/reports/{report_id}/files/{file_id}/view")
def file_view(
    report_id: RowId, file_id: FileId, state: StateDep, viewer: InvestigatorDep, grant: Grant = 0
) -> Response:
    """The revealed view (reduced, greyscale as the viewer prefers): only for a reveal of this
    file the viewer recorded in the last two minutes."""
    care = viewer.wellness
    with state.transaction() as session:
        received = _report_file(session, viewer, report_id, file_id)
        row = _recent_grant(
            session, viewer, grant, full_resolution=False, now=utcnow(), object_type=FILE_REVEAL
        )
        if row is None or row.object_id != file_id:
            raise PageError(403, "reveal the file first (each view is recorded)")
        data = vault_bytes(state, received.vault_ref, f"clearinghouse file {received.id}")
    body = _shown(data, size=care.preview_size, greyscale=care.greyscale, blur_radius=None)
    return _media_response(body, "image/png")


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
            scope=viewer_scope(session, viewer),
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


# ------------------------------------------------------------------------------ the dashboard


def _dashboard(state: ServiceState, session: Session, viewer: Viewer) -> Dashboard:
    """The figures this viewer may see: an investigator's agencies only (their reports and
    their referrals), every agency for leads and admins; built once per analysis run."""
    scope = None if (agencies := viewer_scope(session, viewer)) is None else sorted(agencies)
    return state.dashboards.get(
        latest_run_id(session=session),
        scope,
        lambda: build_dashboard(dashboard_facts(session=session), scope=scope),
    )


def _percent(value: float | None) -> str:
    return "no data" if value is None else f"{value:.1%}"


def _counts(pairs: tuple[tuple[str, int], ...], css: str = "") -> list[Bar]:
    return [Bar(name, float(n), str(n), f"{css}{name}" if css else "") for name, n in pairs]


def _duration_bars(dashboard: Dashboard) -> list[Bar]:
    def hours(summary: DurationSummary, which: str) -> Bar:
        value = summary.median if which == "median" else summary.p90
        label = (
            "incident to report"
            if summary is dashboard.incident_to_report
            else "report to referral"
        )
        return Bar(
            f"{label} ({which})",
            None if value is None else value.total_seconds() / 3600,
            describe_duration(value),
        )

    return [
        hours(summary, which)
        for summary in (dashboard.incident_to_report, dashboard.report_to_referral)
        for which in ("median", "p90")
    ]


def _dashboard_charts(dashboard: Dashboard) -> list[tuple[str, Markup]]:
    per_day = [Bar(day.isoformat(), float(n), str(n)) for day, n in dashboard.per_day]
    files = [
        Bar("known", float(dashboard.files_known), str(dashboard.files_known), "novelty-known"),
        Bar("new", float(dashboard.files_new), str(dashboard.files_new), "novelty-new"),
        Bar(
            "unchecked",
            float(dashboard.files_unchecked),
            str(dashboard.files_unchecked),
            "novelty-unchecked",
        ),
    ]
    return [
        ("Reports per day", column_chart(
            "Reports received per day (UTC)", per_day, chart_id="chart-per-day"
        )),
        ("Reports per tier", horizontal_bar_chart(
            "Reports per tier", _counts(dashboard.per_tier, "tier-"), chart_id="chart-per-tier"
        )),
        ("Reports per provider", horizontal_bar_chart(
            "Reports per provider", _counts(dashboard.per_provider), chart_id="chart-per-provider"
        )),
        ("Referrals per agency", horizontal_bar_chart(
            "Referrals per agency", _counts(dashboard.per_agency), chart_id="chart-per-agency"
        )),
        ("Time taken (hours)", horizontal_bar_chart(
            "Median and 90th percentile times", _duration_bars(dashboard),
            chart_id="chart-durations",
        )),
        ("Files: known, new, unchecked", horizontal_bar_chart(
            "Files by known or new", files, chart_id="chart-files"
        )),
    ]  # fmt: skip


def _scope_id(dashboard: Dashboard) -> str:
    return "all" if dashboard.scope is None else "own_agencies"


@router.get("/clearinghouse/dashboard")
def dashboard_page(state: StateDep, viewer: InvestigatorDep) -> Response:
    """Reports per day, provider, tier and agency, times, new/known share, duplicate and
    bundle rates, as charts with their tables; audited."""
    with state.transaction() as session:
        dashboard = _dashboard(state, session, viewer)
        audit(
            session=session,
            actor=viewer.username,
            action=AuditAction.CLEARINGHOUSE_VIEW,
            object_type="clearinghouse_dashboard",
            object_id=_scope_id(dashboard),
            detail={"reports": dashboard.reports},
        )
        return _page(
            session,
            viewer,
            "clearinghouse_dashboard.html",
            dashboard=dashboard,
            charts=_dashboard_charts(dashboard),
            duration=describe_duration,
            percent=_percent,
        )


@router.get("/clearinghouse/dashboard.csv")
def dashboard_csv(state: StateDep, viewer: InvestigatorDep) -> Response:
    """The dashboard's figures as CSV (durations in hours, rates 0-1); the export is recorded."""
    out = io.StringIO()
    with state.transaction() as session:
        dashboard = _dashboard(state, session, viewer)
        count = write_dashboard_csv(dashboard, out)
        audit(
            session=session,
            actor=viewer.username,
            action=AuditAction.DOWNLOAD,
            object_type="clearinghouse_dashboard",
            object_id=_scope_id(dashboard),
            detail={"rows": count},
        )
    response = Response(out.getvalue(), media_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="brightline-clearinghouse.csv"'
    return response
