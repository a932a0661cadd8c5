"""The console's legal-request pages: the list (``/console/legal/requests``) and one request
(``/console/legal/requests/{id}``) with the forms staff work it with.

Who may do what: leads and admins (``LEGAL_STAFF``) work requests (verify, move along the
workflow with a reason, assign, add notes, build, deliver and download productions); auditors
may read the pages (oversight) but every form is refused to them, the download too (it opens
evidence); reviewers and investigators see neither (legal process names accounts and people
outside their work). Each page view is in the audit log (``legal_view``), each action as
``legal_action`` with the action's code, and the services record the request history and the
chain of custody as they always do (a download is in the custody log before a byte is sent).
Every form carries the CSRF token, and every form that changes the request a one-time key, so
a double click or a replay applies nothing twice.

The pages call the legal services directly, with the hooks configured in the environment
(:func:`brightline.legal.platform_hooks.legal_context`): verifying a preservation request
from here holds and snapshots exactly as ``brightline legal request verify`` does.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response
from sqlalchemy.orm import Session

from brightline.accounts import AccountRole, use_form_key
from brightline.errors import InvalidInput, NotFound
from brightline.legal import (
    TRANSITIONS,
    LegalContext,
    RequestStatus,
    add_note,
    assign_request,
    build_production,
    deliver_production,
    get_production,
    list_productions,
    list_requests,
    load_legal_settings,
    request_detail,
    transition_request,
)
from brightline.legal.platform_hooks import legal_context
from brightline.legal.productions import ProductionRead, open_production_for_download
from brightline.review import AuditAction, audit
from brightline.review.audit import DetailValue
from brightline.storage.base import utcnow
from brightline.web.pages import RowId, StateDep, _page, _redirect
from brightline.web.security import PREFIX, ConsoleRoute, Viewer, checked_form, require

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

LEGAL_READERS = frozenset({AccountRole.ADMIN, AccountRole.LEAD, AccountRole.AUDITOR})
"""Who may see legal requests: the oversight roles of the accountability page."""
LEGAL_STAFF = frozenset({AccountRole.ADMIN, AccountRole.LEAD})
"""Who may act on them (auditors read, never act)."""
ReaderDep = Annotated[Viewer, Depends(require(LEGAL_READERS))]
StaffFormDep = Annotated[Viewer, Depends(checked_form(LEGAL_STAFF))]
FormText = Annotated[str, Form()]


def _context(state: StateDep) -> LegalContext:
    return legal_context(load_legal_settings(), state.custody_key)


def _audit(
    session: Session,
    viewer: Viewer,
    kind: AuditAction,
    object_type: str,
    object_id: str,
    **detail: DetailValue,
) -> None:
    audit(
        session=session,
        actor=viewer.username,
        action=kind,
        object_type=object_type,
        object_id=object_id,
        detail=detail,
    )


@router.get("/legal/requests")
def requests_page(state: StateDep, viewer: ReaderDep, show: str = "open") -> Response:
    """Open requests first (emergency first, then the nearest deadline), overdue marked."""
    settings = load_legal_settings()
    with state.transaction() as session:
        listed = list_requests(session=session, open_only=show != "all")
        _audit(session, viewer, AuditAction.LEGAL_VIEW, "legal_requests", "list",
               rows=len(listed), show="all" if show == "all" else "open")  # fmt: skip
        return _page(
            session,
            viewer,
            "legal_requests.html",
            requests=listed,
            show="all" if show == "all" else "open",
            zone=settings.timezone,
        )


@router.get("/legal/requests/{request_id}")
def request_page(request_id: RowId, state: StateDep, viewer: ReaderDep) -> Response:
    """Everything about one request, and (for leads and admins) the forms to work it."""
    with state.transaction() as session:
        detail = request_detail(session=session, request_id=request_id)
        productions = list_productions(session=session, request_id=request_id)
        _audit(session, viewer, AuditAction.LEGAL_VIEW, "legal_request", str(request_id))
        status = RequestStatus(detail.summary.request.status)
        return _page(
            session,
            viewer,
            "legal_request.html",
            detail=detail,
            item=detail.summary,
            request=detail.summary.request,
            productions=productions,
            may_act=viewer.may(LEGAL_STAFF),
            moves=sorted(s.value for s in TRANSITIONS[status] if s is not RequestStatus.VERIFIED),
            may_verify=RequestStatus.VERIFIED in TRANSITIONS[status],
            may_build=status in (RequestStatus.VERIFIED, RequestStatus.IN_PROGRESS),
        )


def _done(session: Session, viewer: Viewer, form_key: str, request_id: int, action: str,
          **detail: DetailValue) -> Response:  # fmt: skip
    """Record the action, spend the form key (last: a refused action leaves the form usable)."""
    _audit(session, viewer, AuditAction.LEGAL_ACTION, "legal_request", str(request_id),
           action=action, **detail)  # fmt: skip
    use_form_key(session=session, account_id=viewer.account_id, form_key=form_key)
    return _redirect(f"/legal/requests/{request_id}?done={action}")


@router.post("/legal/requests/{request_id}/verify")
def verify(
    request_id: RowId, state: StateDep, viewer: StaffFormDep, form_key: FormText = ""
) -> Response:
    """Verify the request; a preservation request places its legal holds at once."""
    context = _context(state)
    with state.transaction() as session:
        transition_request(
            session=session,
            context=context,
            request_id=request_id,
            to=RequestStatus.VERIFIED,
            actor=viewer.username,
            now=utcnow(),
        )
        return _done(session, viewer, form_key, request_id, "verify")


@router.post("/legal/requests/{request_id}/transition")
def transition(
    request_id: RowId,
    state: StateDep,
    viewer: StaffFormDep,
    to: FormText = "",
    reason: FormText = "",
    form_key: FormText = "",
) -> Response:
    """Move the request along the workflow (rejecting or withdrawing needs a reason)."""
    try:
        target = RequestStatus(to)
    except ValueError:
        raise InvalidInput("choose a status to move the request to") from None
    context = _context(state)
    with state.transaction() as session:
        transition_request(
            session=session,
            context=context,
            request_id=request_id,
            to=target,
            actor=viewer.username,
            reason=reason or None,
            now=utcnow(),
        )
        return _done(session, viewer, form_key, request_id, "transition", to=target.value)


@router.post("/legal/requests/{request_id}/assign")
def assign(
    request_id: RowId,
    state: StateDep,
    viewer: StaffFormDep,
    assignee: FormText = "",
    form_key: FormText = "",
) -> Response:
    """Assign the request to a staff name (empty: unassign)."""
    with state.transaction() as session:
        assign_request(
            session=session,
            request_id=request_id,
            assignee=assignee.strip() or None,
            actor=viewer.username,
            now=utcnow(),
        )
        return _done(session, viewer, form_key, request_id, "assign",
                     assigned=bool(assignee.strip()))  # fmt: skip


@router.post("/legal/requests/{request_id}/note")
def note(
    request_id: RowId,
    state: StateDep,
    viewer: StaffFormDep,
    body: FormText = "",
    form_key: FormText = "",
) -> Response:
    """Add a note (kept, never edited)."""
    with state.transaction() as session:
        added = add_note(
            session=session, request_id=request_id, author=viewer.username, body=body, now=utcnow()
        )
        return _done(session, viewer, form_key, request_id, "note", note=added.id)


@router.post("/legal/requests/{request_id}/productions")
def build(
    request_id: RowId, state: StateDep, viewer: StaffFormDep, form_key: FormText = ""
) -> Response:
    """Build a production from the vault and the platform export hook (sealed in the vault)."""
    context = _context(state)
    with state.transaction() as session:
        built = build_production(
            session=session,
            context=context,
            store=state.evidence,
            request_id=request_id,
            actor=viewer.username,
            now=utcnow(),
        )
        return _done(session, viewer, form_key, request_id, "build_production",
                     production=built.id, complete=built.complete)  # fmt: skip


@router.post("/legal/requests/{request_id}/productions/{production_id}/deliver")
def deliver(
    request_id: RowId,
    production_id: RowId,
    state: StateDep,
    viewer: StaffFormDep,
    rolling: FormText = "",
    form_key: FormText = "",
) -> Response:
    """Make a production available to the agency; unless rolling, close the request."""
    context = _context(state)
    with state.transaction() as session:
        _production_of(session, request_id, production_id)
        delivered = deliver_production(
            session=session,
            context=context,
            production_id=production_id,
            actor=viewer.username,
            now=utcnow(),
            final=rolling != "on",
        )
        return _done(session, viewer, form_key, request_id, "deliver_production",
                     production=delivered.id, rolling=rolling == "on")  # fmt: skip


@router.post("/legal/requests/{request_id}/productions/{production_id}/download")
def download(
    request_id: RowId, production_id: RowId, state: StateDep, viewer: StaffFormDep
) -> Response:
    """A production's zip, delivered or not (staff check a package before delivering it).

    Opening a package is a view of evidence: the download is written to the chain of custody
    (actor ``console:<username>``, the package's and manifest's digests), to the request's
    history and to the audit log, and committed, before a byte is sent, as the portal and
    ``brightline legal production download`` do. Auditors read the pages but do not open
    evidence: like every form here, this one is refused to them. No one-time key: downloading
    twice is two downloads, and both are recorded.
    """
    context = _context(state)
    with state.transaction() as session:
        _production_of(session, request_id, production_id)
        filename, data = open_production_for_download(
            session=session,
            context=context,
            store=state.evidence,
            production_id=production_id,
            agency_id=None,
            officer_id=None,
            actor=f"console:{viewer.username}",
            now=utcnow(),
        )
        _audit(session, viewer, AuditAction.LEGAL_ACTION, "legal_request", str(request_id),
               action="download_production", production=production_id)  # fmt: skip
    response = Response(data, media_type="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _production_of(session: Session, request_id: int, production_id: int) -> ProductionRead:
    """The production, only if it belongs to this request (the URL names both)."""
    found = get_production(session=session, production_id=production_id)
    if found.request_id != request_id:
        raise NotFound(f"request {request_id} has no production {production_id}")
    return found
