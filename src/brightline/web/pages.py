"""The console's pages and forms: thin handlers over the review core and accounts services.

Each handler opens one transaction; a refusal raised inside rolls everything back and is shown
as a page with its status (409 for a stale claim, an already-decided job, the daily cap). A
decision is announced only from the database afterwards (``?decision=<id>``, shown only if its
status is ``applied``), so the console never says "done" for something that was not applied.
"""

from __future__ import annotations

import io
import logging
import secrets
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from brightline.accounts import (
    Account,
    AccountRole,
    SignInRefused,
    authenticate,
    end_session,
    org_wellness,
    reset_preferences,
    set_org_wellness,
    set_preferences,
    start_session,
    use_form_key,
)
from brightline.accounts import wellness as wellness_settings
from brightline.clearinghouse_client.outbox import failed_case_ids
from brightline.errors import Conflict, InvalidInput, NotFound, StorageError
from brightline.evidence.retention import record_access_if_preserved
from brightline.http.state import ServiceState, service_state
from brightline.review import (
    AuditAction,
    AuditEntry,
    Case,
    Decision,
    DecisionKind,
    DecisionStatus,
    FileAnnotation,
    Item,
    Job,
    JobStatus,
    Queue,
    Subject,
    audit,
    bank_precision,
    claim_job,
    claim_next,
    decide,
    export_audit_csv,
    exposure,
    get_case,
    job_items,
    query_audit,
    queue_depths,
    record_download,
    record_reveal,
    release,
    renew,
    skip,
    timeline,
)
from brightline.review.audit import MAX_AUDIT_ROWS
from brightline.review.models import EntryDispute, Exposure, ItemMatch
from brightline.review.text_cases import is_text_item
from brightline.storage.base import utcnow
from brightline.web import media
from brightline.web.security import (
    ADMINS,
    AUDITORS,
    BANK_HEALTH,
    EVERYONE,
    LOGIN_COOKIE,
    ORIGINALS,
    PREFIX,
    REVIEWERS,
    SESSION_COOKIE,
    TEAM,
    ConsoleRoute,
    PageError,
    Viewer,
    check_origin,
    checked_form,
    require,
    set_cookie,
    wants_json,
)
from brightline.web.templating import render
from brightline.web.text_items import TextItemView, load_text_view

log = logging.getLogger(__name__)

GRANT_SECONDS = 120
"""How long after a recorded reveal its unblurred view may be fetched."""
AUDIT_PAGE_ROWS = 500
AUDIT_EXPORT_ROWS = MAX_AUDIT_ROWS - 1
"""Rows one CSV export may hold: one more is fetched, so a cut export is refused, not sent."""
CLASSIFICATIONS = ("A1", "A2", "B1", "B2")
_STATIC = {"console.css": "text/css", "console.js": "text/javascript"}

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

StateDep = Annotated[ServiceState, Depends(service_state)]
AnyoneDep = Annotated[Viewer, Depends(require(EVERYONE))]
ReviewerDep = Annotated[Viewer, Depends(require(REVIEWERS))]
ReviewFormDep = Annotated[Viewer, Depends(checked_form(REVIEWERS))]
OriginalsFormDep = Annotated[Viewer, Depends(checked_form(ORIGINALS))]
AnyoneFormDep = Annotated[Viewer, Depends(checked_form(EVERYONE))]
AdminFormDep = Annotated[Viewer, Depends(checked_form(ADMINS))]


MAX_ID = 2**63 - 1
"""Ids are 64-bit in both databases. A larger number is refused as malformed (400) before it
reaches a driver: SQLite's raises OverflowError on it (a 500), PostgreSQL's a DataError."""
RowId = Annotated[int, Path(le=MAX_ID)]
Grant = Annotated[int, Query(le=MAX_ID)]
OptionalRowId = Annotated[int | None, Query(le=MAX_ID)]


def _form_key() -> str:
    return secrets.token_urlsafe(24)


def _page(session: Session, viewer: Viewer, name: str, **context: Any) -> HTMLResponse:
    """Render a page with what every page shows: who is signed in, their exposure today, and
    the cases whose report submission failed (a report the law requires is stuck)."""
    today = exposure(session=session, reviewer=viewer.username, day=viewer.today)
    reveals = today.reveals if today is not None else 0
    care = viewer.wellness
    return HTMLResponse(
        render(
            name,
            viewer=viewer,
            reveals_today=reveals,
            daily_cap=care.daily_cap,
            break_due=reveals >= care.break_every,
            may_review=viewer.may(REVIEWERS),
            # Investigators reveal clearinghouse files, which count toward the same cap.
            shows_exposure=viewer.may(REVIEWERS) or viewer.role is AccountRole.INVESTIGATOR,
            may_audit=viewer.may(AUDITORS),
            may_banks=viewer.may(BANK_HEALTH),
            may_admin=viewer.may(ADMINS),
            may_originals=viewer.may(ORIGINALS),
            failed_report_cases=failed_case_ids(session=session),
            new_form_key=_form_key,
            **context,
        )
    )


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}{path}", status_code=303)


# --- static files and sign-in -----------------------------------------------------------------


@router.get("/static/{name}")
def static(name: str) -> Response:
    """The console's own CSS and JS (hand-written; no third-party code)."""
    if name not in _STATIC:
        raise PageError(404, "no such file")
    body = resources.files("brightline.web").joinpath("static", name).read_bytes()
    response = Response(body, media_type=_STATIC[name])
    response.headers["Cache-Control"] = "no-cache"
    return response


@router.get("/")
def home(viewer: AnyoneDep) -> RedirectResponse:
    if viewer.role.value == "investigator":
        return _redirect("/clearinghouse")
    return _redirect(
        "/queues" if viewer.may(REVIEWERS) else "/audit" if viewer.may(AUDITORS) else "/banks"
    )


def _safe_next(target: str) -> str:
    """Only a path inside the console: never an open redirect to another site."""
    if target.startswith(f"{PREFIX}/") and not target.startswith("//") and "\\" not in target:
        return target
    return f"{PREFIX}/"


def _login_form(
    request: Request, next: str, message: str | None = None, status: int = 200
) -> HTMLResponse:
    """The sign-in form with a fresh double-submit token, in the form and in its cookie."""
    token = secrets.token_urlsafe(24)
    response = HTMLResponse(
        render("login.html", login_token=token, next=_safe_next(next), message=message),
        status_code=status,
    )
    set_cookie(request, response, LOGIN_COOKIE, token, f"{PREFIX}/login")
    return response


@router.get("/login")
def login_page(request: Request, next: str = "") -> HTMLResponse:
    return _login_form(request, next)


@router.post("/login")
def login(
    request: Request,
    state: StateDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    login_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    check_origin(request)
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie.encode(), login_token.encode()):
        raise PageError(403, "refused: the sign-in form is out of date or forged; reload it")
    refused: SignInRefused | None = None
    with state.transaction() as session:
        # The refusal is caught inside the transaction so that the failure count commits.
        try:
            account_id = authenticate(session=session, username=username, password=password).id
        except SignInRefused as exc:
            refused = exc
    if refused is not None:
        return _login_form(request, next, str(refused), status=401)
    with state.transaction() as session:
        token = start_session(session=session, account_id=account_id)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_cookie(request, response, SESSION_COOKIE, token, PREFIX)
    response.delete_cookie(LOGIN_COOKIE, path=f"{PREFIX}/login")
    return response


@router.post("/logout")
def logout(request: Request, state: StateDep, _viewer: AnyoneFormDep) -> Response:
    with state.transaction() as session:
        end_session(session=session, token=request.cookies.get(SESSION_COOKIE, ""))
    response = _redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


# --- queues, claims ---------------------------------------------------------------------------

_NOTICES = {
    "empty": "Nothing to claim in that queue right now.",
    "released": "The job went back to its queue.",
    "skipped": "Skipped: the job will not be offered to you again.",
    "second_opinion": "Sent for a second opinion: someone else will decide it.",
}


def _team_exposure(session: Session, day: date) -> list[Exposure]:
    return list(
        session.scalars(select(Exposure).where(Exposure.day == day).order_by(Exposure.reviewer))
    )


@router.get("/queues")
def queues(
    state: StateDep,
    viewer: ReviewerDep,
    decision: OptionalRowId = None,
    notice: str = "",
) -> HTMLResponse:
    now = utcnow()
    with state.transaction() as session:
        applied = None
        if decision is not None:
            found = session.get(Decision, decision)
            if (
                found is not None
                and found.decided_by == viewer.username
                and found.status == DecisionStatus.APPLIED.value
            ):
                applied = found
        mine = list(
            session.scalars(
                select(Job).where(
                    Job.locked_by == viewer.username,
                    Job.locked_until > now,
                    Job.status == JobStatus.OPEN.value,
                )
            )
        )
        return _page(
            session,
            viewer,
            "queues.html",
            depths=queue_depths(session=session, now=now),
            applied=applied,
            notice=_NOTICES.get(notice),
            mine=mine,
            team=_team_exposure(session, viewer.today) if viewer.may(TEAM) else None,
        )


@router.post("/queues/{queue_name}/claim")
def claim_from_queue(queue_name: str, state: StateDep, viewer: ReviewFormDep) -> Response:
    with state.transaction() as session:
        claim = claim_next(session=session, queue_name=queue_name, reviewer=viewer.username)
    if claim is None:
        return _redirect("/queues?notice=empty")
    return _redirect(f"/jobs/{claim.job_id}")


# --- the job (case) page ----------------------------------------------------------------------


def _held_by(job: Job, username: str, now: datetime) -> bool:
    return (
        job.status == JobStatus.OPEN.value
        and job.locked_by == username
        and job.locked_until is not None
        and job.locked_until > now
    )


def _renew_if_held(session: Session, job: Job, viewer: Viewer, now: datetime) -> bool:
    """Whether the viewer holds the job; if so, their claim is renewed from now.

    Opening the job or revealing one of its items is activity: the claim must not lapse under
    a reviewer still working on it. ``job`` reloads with the new expiry.
    """
    if not _held_by(job, viewer.username, now) or job.lock_token is None:
        return False
    try:
        renew(
            session=session, job_id=job.id, reviewer=viewer.username, token=job.lock_token, now=now
        )
    except Conflict:  # decided or released in another tab a moment ago
        return False
    return True


@router.get("/jobs/{job_id}")
def job_page(
    job_id: RowId, state: StateDep, viewer: ReviewerDep, show: OptionalRowId = None
) -> Response:
    now = utcnow()
    with state.transaction() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"no job with id {job_id}")
        held = _renew_if_held(session, job, viewer, now)
        items = job_items(session=session, job_id=job_id)
        matches: dict[int, list[ItemMatch]] = {item.id: [] for item in items}
        for match in session.scalars(
            select(ItemMatch).where(ItemMatch.item_id.in_(list(matches))).order_by(ItemMatch.id)
        ):
            matches[match.item_id].append(match)
        subjects: list[tuple[Subject, int]] = []
        for case_id in dict.fromkeys(item.case_id for item in items):
            case = get_case(session=session, case_id=case_id)
            subject = session.get(Subject, case.subject_id)
            if subject is not None:
                subjects.append((subject, case.id))
        history = timeline(session=session, subject_id=subjects[0][0].id) if subjects else []
        decisions = list(
            session.scalars(select(Decision).where(Decision.job_id == job_id).order_by(Decision.id))
        )
        shown = (
            _recent_grant(
                session, viewer, _reveal_id(session, viewer, show), full_resolution=False, now=now
            )
            if show is not None
            else None
        )
        # A text item's document is read only for the reveal the viewer just recorded.
        text_views: dict[int, TextItemView | None] = {
            item.id: load_text_view(state.evidence, item)
            for item in items
            if shown is not None and item.id == show and is_text_item(item)
        }
        queue = session.get(Queue, job.queue_id)
        return _page(
            session,
            viewer,
            "job.html",
            job=job,
            queue=queue,
            items=items,
            matches=matches,
            subjects=subjects,
            history=history,
            decisions=decisions,
            held=held,
            lock_token=job.lock_token if held else None,
            held_by_other=(
                job.status == JobStatus.OPEN.value
                and not held
                and job.locked_until is not None
                and job.locked_until > now
            ),
            shown_grant=shown.id if shown is not None else None,
            shown_item=show if shown is not None else None,
            classifications=CLASSIFICATIONS,
            annotations=[a.value for a in FileAnnotation],
            is_video=media.is_video,
            is_text=is_text_item,
            text_views=text_views,
        )


@router.post("/jobs/{job_id}/claim")
def claim_this_job(job_id: RowId, state: StateDep, viewer: ReviewFormDep) -> Response:
    with state.transaction() as session:
        claim_job(session=session, job_id=job_id, reviewer=viewer.username)
    return _redirect(f"/jobs/{job_id}")


@router.post("/jobs/{job_id}/decide")
def decide_job(
    job_id: RowId,
    state: StateDep,
    viewer: ReviewFormDep,
    form_key: Annotated[str, Form()] = "",
    lock_token: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    classification: Annotated[str, Form()] = "",
    annotations: Annotated[list[str] | None, Form()] = None,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Apply a decision exactly once: the form key is the review core's idempotency key."""
    if len(form_key) < 16 or len(form_key) > 64:
        raise InvalidInput("the form is missing its key; reload the page and try again")
    try:
        chosen = DecisionKind(kind)
    except ValueError:
        raise InvalidInput(
            "choose a decision: confirm, false positive, escalate or second opinion"
        ) from None
    key = f"console:{form_key}"
    with state.transaction() as session:
        earlier = session.scalar(select(Decision).where(Decision.idempotency_key == key))
        if earlier is not None:
            raise Conflict(
                f"this decision form was already submitted: decision {earlier.id} "
                f"({earlier.kind}) is {earlier.status}; it was not applied again"
            )
        final = chosen is not DecisionKind.SECOND_OPINION
        decision = decide(
            session=session,
            job_id=job_id,
            reviewer=viewer.username,
            lock_token=lock_token,
            kind=chosen,
            idempotency_key=key,
            classification=(classification or None)
            if chosen in {DecisionKind.CONFIRM, DecisionKind.ESCALATE}
            else None,
            annotations=(annotations or []) if final else [],
            reason=reason or None,
        )
        decision_id = decision.id
    if chosen is DecisionKind.SECOND_OPINION:
        return _redirect("/queues?notice=second_opinion")
    return _redirect(f"/queues?decision={decision_id}")


@router.post("/jobs/{job_id}/skip")
def skip_job(
    job_id: RowId,
    state: StateDep,
    viewer: ReviewFormDep,
    form_key: Annotated[str, Form()] = "",
    lock_token: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    with state.transaction() as session:
        use_form_key(session=session, account_id=viewer.account_id, form_key=form_key)
        skip(
            session=session,
            job_id=job_id,
            reviewer=viewer.username,
            token=lock_token,
            reason=reason,
        )
    return _redirect("/queues?notice=skipped")


@router.post("/jobs/{job_id}/release")
def release_job(
    job_id: RowId,
    state: StateDep,
    viewer: ReviewFormDep,
    form_key: Annotated[str, Form()] = "",
    lock_token: Annotated[str, Form()] = "",
) -> Response:
    with state.transaction() as session:
        use_form_key(session=session, account_id=viewer.account_id, form_key=form_key)
        release(session=session, job_id=job_id, reviewer=viewer.username, token=lock_token)
    return _redirect("/queues?notice=released")


# --- media: previews, reveals, originals ------------------------------------------------------


def _item(session: Session, item_id: int) -> Item:
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(f"no item with id {item_id}")
    return item


def vault_bytes(state: ServiceState, ref: str | None, what: str) -> bytes | None:
    """Media for a preview or view (None if there is none or it cannot be read or verified:
    the viewer gets a grey tile and still has the matches or hashes). ``what`` names it in the
    log by id, never by content."""
    if not ref:
        return None
    try:
        return state.evidence.read(ref)
    except (NotFound, InvalidInput, StorageError, OSError) as exc:
        log.warning("media of %s unavailable: %s", what, type(exc).__name__)
        return None


def in_vault(state: ServiceState, ref: str | None) -> bool:
    """Whether the vault holds ``ref``: a reveal of nothing must not count as a view."""
    try:
        return ref is not None and state.evidence.exists(ref)
    except InvalidInput:  # a malformed reference names no file
        return False
    except OSError as exc:  # e.g. the vault's permissions: not the same as a missing file
        raise StorageError(f"cannot read the evidence vault: {exc.strerror}") from None


def _media_bytes(state: ServiceState, item: Item) -> bytes | None:
    return vault_bytes(state, item.media_ref, f"item {item.id}")


def _revealable(state: ServiceState, item: Item) -> Item:
    """The item, if it has a file to show: a reveal of nothing must not count as a person
    having viewed it (``viewed_by_person`` becomes a report's ``fileViewedByEsp``)."""
    if not in_vault(state, item.media_ref):
        raise Conflict(
            "this item's media is not in the evidence store, so there is nothing to reveal; "
            "decide from the matches"
        )
    return item


def _original_bytes(state: ServiceState, item: Item) -> bytes:
    """The item's verified original; a refusal says why (missing, tampered, wrong key)."""
    if not item.media_ref:
        raise NotFound("this item's media is not in the evidence store")
    return state.evidence.read(item.media_ref)


def _media_response(body: bytes, media_type: str) -> Response:
    response = Response(body, media_type=media_type)
    response.headers["Cache-Control"] = "no-store, private"
    return response


@router.get("/items/{item_id}/preview")
def preview(item_id: RowId, state: StateDep, viewer: ReviewerDep) -> Response:
    """Blurred, small, greyscale: made on the server, so nothing sharper reaches the browser."""
    care = viewer.wellness
    with state.transaction() as session:
        item = _item(session, item_id)
        media_type = item.media_type
        data = _media_bytes(state, item)
    body = media.reduced(
        data, media_type, size=care.preview_size, greyscale=True, blur_radius=care.blur_radius
    )
    return _media_response(body, "image/png")


def _recent_grant(
    session: Session,
    viewer: Viewer,
    grant: int | None,
    *,
    full_resolution: bool,
    now: datetime,
    object_type: str = "item",
) -> AuditEntry | None:
    """The viewer's own recent reveal of this kind, as recorded in the audit log, or None.

    ``object_type`` is ``item`` here; the investigator pages reveal ``clearinghouse_file``s."""
    if grant is None:
        return None
    row = session.get(AuditEntry, grant)
    if (
        row is None
        or row.actor != viewer.username
        or row.action != AuditAction.REVEAL.value
        or row.object_type != object_type
        or row.at < now - timedelta(seconds=GRANT_SECONDS)
        or (f'"full_resolution":{"true" if full_resolution else "false"}' not in row.detail)
    ):
        return None
    return row


def _reveal_id(
    session: Session, viewer: Viewer, item_id: int | str, object_type: str = "item"
) -> int | None:
    """The audit id of the viewer's latest reveal of the item (its grant), if any."""
    found = session.scalar(
        select(func.max(AuditEntry.id)).where(
            AuditEntry.actor == viewer.username,
            AuditEntry.action == AuditAction.REVEAL.value,
            AuditEntry.object_type == object_type,
            AuditEntry.object_id == str(item_id),
        )
    )
    return int(found) if found is not None else None


def _latest_reveal(session: Session, viewer: Viewer, item_id: int) -> int:
    found = _reveal_id(session, viewer, item_id)
    if found is None:  # the reveal was just written in this transaction
        raise NotFound(f"no reveal of item {item_id}")
    return found


def _record_custody_access(
    state: ServiceState, session: Session, item: Item, viewer: Viewer, reason: str
) -> None:
    """A view of media that is also preserved evidence goes into the chain of custody too."""
    record_access_if_preserved(
        session=session,
        custody_key=state.custody_key,
        ref=item.media_ref,
        actor=f"console:{viewer.username}",
        reason=reason.strip()[:2000],
    )


@router.post("/items/{item_id}/reveal")
def reveal(request: Request, item_id: RowId, state: StateDep, viewer: ReviewFormDep) -> Response:
    """Record the reveal (exposure, ``viewed_by_person``, audit), then hand out its view URL."""
    care = viewer.wellness
    with state.transaction() as session:
        item = _revealable(state, _item(session, item_id))
        job_id, video = item.job_id, media.is_video(item.media_type)
        count = record_reveal(
            session=session, item_id=item_id, reviewer=viewer.username, daily_cap=care.daily_cap
        )
        _record_custody_access(state, session, item, viewer, "reviewer reveal")
        grant = _latest_reveal(session, viewer, item_id)
        job = session.get(Job, job_id)
        if job is not None:
            _renew_if_held(session, job, viewer, utcnow())
    if wants_json(request):
        return JSONResponse(
            {
                "view_url": f"{PREFIX}/items/{item_id}/view?grant={grant}",
                "video": video,
                "reveals_today": count,
                "daily_cap": care.daily_cap,
                "break_prompt": count % care.break_every == 0,
                "reblur_seconds": care.auto_reblur_seconds,
            }
        )
    return _redirect(f"/jobs/{job_id}?show={item_id}#item-{item_id}")


@router.get("/items/{item_id}/view")
def view(item_id: RowId, state: StateDep, viewer: ReviewerDep, grant: Grant = 0) -> Response:
    """The revealed view: only for a reveal the viewer recorded in the last two minutes."""
    care = viewer.wellness
    with state.transaction() as session:
        row = _recent_grant(session, viewer, grant, full_resolution=False, now=utcnow())
        if row is None or row.object_id != str(item_id):
            raise PageError(403, "reveal the item first (each view is recorded)")
        item = _item(session, item_id)
        media_type = item.media_type
        data = _media_bytes(state, item)
    if media.is_video(media_type) and data is not None:
        return _media_response(data, media.safe_media_type(media_type))
    body = media.reduced(
        data, media_type, size=care.preview_size, greyscale=care.greyscale, blur_radius=None
    )
    return _media_response(body, "image/png")


def _reason(reason: str) -> str:
    if not reason.strip():
        raise InvalidInput("opening or downloading an original needs a reason")
    return reason.strip()


@router.post("/items/{item_id}/original")
def open_original(
    item_id: RowId,
    state: StateDep,
    viewer: OriginalsFormDep,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Admins and leads only, with a reason: recorded as a full-resolution reveal."""
    care = viewer.wellness
    with state.transaction() as session:
        item = _revealable(state, _item(session, item_id))
        record_reveal(
            session=session,
            item_id=item_id,
            reviewer=viewer.username,
            full_resolution=True,
            reason=_reason(reason),
            daily_cap=care.daily_cap,
        )
        _record_custody_access(state, session, item, viewer, f"original opened: {reason}")
        grant = _latest_reveal(session, viewer, item_id)
    return _redirect(f"/items/{item_id}/original?grant={grant}")


@router.get("/items/{item_id}/original")
def original(
    item_id: RowId,
    state: StateDep,
    viewer: Annotated[Viewer, Depends(require(ORIGINALS))],
    grant: Grant = 0,
) -> Response:
    with state.transaction() as session:
        row = _recent_grant(session, viewer, grant, full_resolution=True, now=utcnow())
        if row is None or row.object_id != str(item_id):
            raise PageError(403, "open the original from the job page, with a reason")
        item = _item(session, item_id)
        media_type = item.media_type
        data = _original_bytes(state, item)
    response = _media_response(data, media.safe_media_type(media_type))
    response.headers["Content-Disposition"] = f'inline; filename="item-{item_id}"'
    return response


@router.post("/items/{item_id}/download")
def download(
    item_id: RowId,
    state: StateDep,
    viewer: OriginalsFormDep,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Admins and leads only, with a reason (audited; a download is not a view)."""
    with state.transaction() as session:
        item = _item(session, item_id)
        record_download(
            session=session, item_id=item_id, actor=viewer.username, reason=_reason(reason)
        )
        _record_custody_access(state, session, item, viewer, f"downloaded: {reason}")
        data = _original_bytes(state, item)
    response = _media_response(data, "application/octet-stream")
    response.headers["Content-Disposition"] = f'attachment; filename="item-{item_id}"'
    return response


# --- subjects, banks --------------------------------------------------------------------------


@router.get("/subjects/{subject_id}")
def subject_page(subject_id: RowId, state: StateDep, viewer: ReviewerDep) -> Response:
    """One platform user's context and decision timeline, across all their cases."""
    with state.transaction() as session:
        subject = session.get(Subject, subject_id)
        if subject is None:
            raise NotFound(f"no subject with id {subject_id}")
        return _page(
            session,
            viewer,
            "subject.html",
            subject=subject,
            cases=list(
                session.scalars(select(Case).where(Case.subject_id == subject_id).order_by(Case.id))
            ),
            history=timeline(session=session, subject_id=subject_id),
        )


@router.get("/banks")
def banks_page(
    state: StateDep, viewer: Annotated[Viewer, Depends(require(BANK_HEALTH))]
) -> Response:
    with state.transaction() as session:
        disputed = dict(
            session.execute(
                select(
                    EntryDispute.bank_id, func.count(func.distinct(EntryDispute.entry_id))
                ).group_by(EntryDispute.bank_id)
            ).all()
        )
        return _page(
            session, viewer, "banks.html", banks=bank_precision(session=session), disputed=disputed
        )


# --- audit ------------------------------------------------------------------------------------


def _day(value: str, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"{name} must be a date (YYYY-MM-DD)") from None


def _audit_rows(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    since: str,
    until: str,
    limit: int,
    newest_first: bool = False,
) -> list[AuditEntry]:
    chosen = None
    if action:
        try:
            chosen = AuditAction(action)
        except ValueError:
            raise InvalidInput(f"unknown audit action {action!r}") from None
    end = _day(until, "until")
    return query_audit(
        session=session,
        actor=actor.strip() or None,
        action=chosen,
        since=_day(since, "since"),
        until=end + timedelta(days=1) if end else None,
        object_type=object_type.strip() or None,
        object_id=object_id.strip() or None,
        limit=limit,
        newest_first=newest_first,
    )


AuditViewerDep = Annotated[Viewer, Depends(require(AUDITORS))]


@router.get("/audit")
def audit_page(
    request: Request,
    state: StateDep,
    viewer: AuditViewerDep,
    actor: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    since: str = "",
    until: str = "",
) -> Response:
    filters = {
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "since": since,
        "until": until,
    }
    with state.transaction() as session:
        rows = _audit_rows(session, limit=AUDIT_PAGE_ROWS + 1, newest_first=True, **filters)
        return _page(
            session,
            viewer,
            "audit.html",
            rows=rows[:AUDIT_PAGE_ROWS],
            truncated=len(rows) > AUDIT_PAGE_ROWS,
            filters=filters,
            actions=[a.value for a in AuditAction],
            csv_query=str(request.url.query),
        )


@router.get("/audit.csv")
def audit_csv(
    state: StateDep,
    viewer: AuditViewerDep,
    actor: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    since: str = "",
    until: str = "",
) -> Response:
    """The filtered log as CSV; the export itself is recorded (a download of the log)."""
    with state.transaction() as session:
        rows = _audit_rows(
            session,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            since=since,
            until=until,
            limit=AUDIT_EXPORT_ROWS + 1,
        )
        if len(rows) > AUDIT_EXPORT_ROWS:
            raise InvalidInput(
                f"more than {AUDIT_EXPORT_ROWS} rows match: narrow the filters (dates, actor) "
                "and export in parts"
            )
        out = io.StringIO()
        count = export_audit_csv(rows, out)
        audit(
            session=session,
            actor=viewer.username,
            action=AuditAction.DOWNLOAD,
            object_type="audit_log",
            object_id="csv",
            detail={"rows": count},
        )
    response = Response(out.getvalue(), media_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="brightline-audit.csv"'
    return response


# --- preferences and organisation settings ----------------------------------------------------


@router.get("/preferences")
def preferences_page(state: StateDep, viewer: AnyoneDep, saved: int = 0) -> Response:
    with state.transaction() as session:
        return _page(
            session,
            viewer,
            "preferences.html",
            saved=bool(saved),
            org=wellness_settings.combine(org_wellness(session=session), {}),
        )


@router.post("/preferences")
def save_preferences(
    state: StateDep,
    viewer: AnyoneFormDep,
    form_key: Annotated[str, Form()] = "",
    blur_radius: Annotated[str, Form()] = "",
    auto_reblur_seconds: Annotated[str, Form()] = "",
    greyscale: Annotated[str, Form()] = "off",
    reset: Annotated[str, Form()] = "",
) -> Response:
    with state.transaction() as session:
        use_form_key(session=session, account_id=viewer.account_id, form_key=form_key)
        if reset:
            reset_preferences(session=session, account_id=viewer.account_id)
        else:
            set_preferences(
                session=session,
                account_id=viewer.account_id,
                changes={
                    "blur_radius": blur_radius,
                    "auto_reblur_seconds": auto_reblur_seconds,
                    "greyscale": greyscale,
                },
            )
    return _redirect("/preferences?saved=1")


@router.get("/settings")
def settings_page(
    state: StateDep, viewer: Annotated[Viewer, Depends(require(ADMINS))], saved: int = 0
) -> Response:
    with state.transaction() as session:
        org = wellness_settings.combine(org_wellness(session=session), {})
        accounts = list(session.scalars(select(Account).order_by(Account.username)))
        return _page(
            session,
            viewer,
            "settings.html",
            org=org,
            accounts=accounts,
            saved=bool(saved),
            now=utcnow(),
        )


@router.post("/settings")
def save_settings(
    state: StateDep,
    viewer: AdminFormDep,
    form_key: Annotated[str, Form()] = "",
    blur_radius: Annotated[str, Form()] = "",
    auto_reblur_seconds: Annotated[str, Form()] = "",
    preview_size: Annotated[str, Form()] = "",
    daily_cap: Annotated[str, Form()] = "",
    break_every: Annotated[str, Form()] = "",
    greyscale: Annotated[str, Form()] = "off",
) -> Response:
    with state.transaction() as session:
        use_form_key(session=session, account_id=viewer.account_id, form_key=form_key)
        set_org_wellness(
            session=session,
            actor=viewer.username,
            changes={
                "blur_radius": blur_radius,
                "auto_reblur_seconds": auto_reblur_seconds,
                "preview_size": preview_size,
                "daily_cap": daily_cap,
                "break_every": break_every,
                "greyscale": greyscale,
            },
        )
    return _redirect("/settings?saved=1")
