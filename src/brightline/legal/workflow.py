"""The life of a request: verify, work, answer or close, with a reason where one is owed.

::

    received ──► verified ──► in_progress ──► produced
        │            │             ├────────► partially_produced
        │            │             │
        └────────────┴─────────────┴───────► rejected (reason) · withdrawn (reason)

    preservation requests also end as expired when their period runs out (the clock does that)

Anything else is refused with Conflict naming the request, where it is and where it may go.
Verifying starts the response clock; verifying a preservation request preserves at once
(:mod:`brightline.legal.preservation`). Withdrawing or rejecting a request releases its running
legal holds; producing does not (what was produced stays held until its hold ends).

Every change is one event in the request's append-only history; service functions take a
keyword-only ``session`` and never commit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from brightline.errors import Conflict, InvalidInput, NotFound
from brightline.legal.deadlines import as_utc
from brightline.legal.hooks import LegalContext
from brightline.legal.models import (
    EventKind,
    LegalRequest,
    RequestFlag,
    RequestNote,
    RequestStatus,
    RequestType,
)
from brightline.legal.preservation import (
    place_request_holds,
    preservation_period,
    release_request_holds,
    renew_request_holds,
    snapshot_accounts,
)
from brightline.legal.records import (
    clean_text,
    load_request,
    record_event,
    refresh_next_deadline,
    required_text,
)
from brightline.storage.base import utcnow

logger = logging.getLogger(__name__)

S = RequestStatus
TRANSITIONS: Mapping[RequestStatus, frozenset[RequestStatus]] = {
    S.RECEIVED: frozenset({S.VERIFIED, S.REJECTED, S.WITHDRAWN}),
    S.VERIFIED: frozenset({S.IN_PROGRESS, S.REJECTED, S.WITHDRAWN}),
    S.IN_PROGRESS: frozenset({S.PRODUCED, S.PARTIALLY_PRODUCED, S.REJECTED, S.WITHDRAWN}),
    S.PRODUCED: frozenset(),
    S.PARTIALLY_PRODUCED: frozenset(),
    S.REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.EXPIRED: frozenset(),
}
"""Where each status may go by hand (``expired`` is reached only by the clock)."""
REASON_REQUIRED = frozenset({S.REJECTED, S.WITHDRAWN})
RELEASES_HOLDS = frozenset({S.REJECTED, S.WITHDRAWN})
MAX_REASON = 2000


def _check_transition(request: LegalRequest, to: RequestStatus) -> None:
    current = RequestStatus(request.status)
    allowed = TRANSITIONS[current]
    if to in allowed:
        return
    if not allowed:
        raise Conflict(f"request {request.id} is {current.value}: it is closed")
    options = ", ".join(sorted(status.value for status in allowed))
    raise Conflict(
        f"request {request.id} is {current.value}: it cannot become {to.value} "
        f"(it may become {options})"
    )


def verify_request(
    *,
    session: Session,
    context: LegalContext,
    request_id: int,
    actor: str,
    now: datetime | None = None,
) -> LegalRequest:
    """Staff confirm the process is genuine and in force; its response clock starts.

    A preservation request preserves in the same transaction: legal holds on everything already
    preserved for the named accounts, a snapshot asked of the platform, and flags for accounts
    with nothing to hold.
    """
    when = as_utc(now) if now is not None else utcnow()
    clean_actor = required_text("actor", actor, 200)
    request = load_request(session, request_id, for_update=True)
    _check_transition(request, S.VERIFIED)
    request.status = S.VERIFIED.value
    request.verified_at = when
    request.verified_by = clean_actor
    settings = context.settings
    clock = settings.clock(RequestType(request.type))
    if clock.respond is not None:
        request.respond_due_at = settings.calendar.add(when, clock.respond)
    if request.type == RequestType.PRESERVATION:
        request.preserve_from = when
        request.preserve_until = preservation_period(when, settings.preservation_days)
        request.max_renewals = settings.preservation_renewals
    refresh_next_deadline(request)
    record_event(
        session,
        request,
        EventKind.STATUS,
        actor=clean_actor,
        at=when,
        from_status=S.RECEIVED.value,
        to_status=S.VERIFIED.value,
        details={"next_due_at": request.next_due_at.isoformat() if request.next_due_at else None},
    )
    session.flush()
    if request.type == RequestType.PRESERVATION:
        place_request_holds(session, context, request, actor=clean_actor, at=when)
        snapshot_accounts(session, context, request, actor=clean_actor, at=when)
    session.flush()
    logger.info("legal request %d verified", request.id)
    return request


def transition_request(
    *,
    session: Session,
    context: LegalContext,
    request_id: int,
    to: RequestStatus,
    actor: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> LegalRequest:
    """Move a request along the workflow (``verified`` goes through :func:`verify_request`)."""
    if to is S.VERIFIED:
        return verify_request(
            session=session, context=context, request_id=request_id, actor=actor, now=now
        )
    when = as_utc(now) if now is not None else utcnow()
    clean_actor = required_text("actor", actor, 200)
    clean_reason = clean_text("reason", reason, MAX_REASON, required=False, multiline=True)
    if to in REASON_REQUIRED and clean_reason is None:
        raise InvalidInput(f"a request is {to.value} only with a reason")
    if to is S.EXPIRED:
        raise Conflict("only the clock expires a preservation request (when its period ends)")
    request = load_request(session, request_id, for_update=True)
    _check_transition(request, to)
    previous = request.status
    request.status = to.value
    if to is S.IN_PROGRESS:
        request.started_at = when
    elif not request.is_open:
        request.closed_at = when
        request.closed_by = clean_actor
        request.close_reason = clean_reason
    refresh_next_deadline(request)
    record_event(
        session,
        request,
        EventKind.STATUS,
        actor=clean_actor,
        at=when,
        from_status=previous,
        to_status=to.value,
    )
    session.flush()
    if to in RELEASES_HOLDS:
        release_request_holds(
            session,
            context,
            request,
            actor=clean_actor,
            reason=f"legal request {request.id} {to.value}: {clean_reason}"[:MAX_REASON],
            at=when,
        )
    session.flush()
    logger.info("legal request %d: %s -> %s", request.id, previous, to.value)
    return request


def renew_preservation(
    *,
    session: Session,
    context: LegalContext,
    request_id: int,
    actor: str,
    now: datetime | None = None,
) -> LegalRequest:
    """Extend a verified preservation request by another period from its current end, and its
    holds with it (§ 2703(f): once). Refused once the period has ended: a new request is due."""
    when = as_utc(now) if now is not None else utcnow()
    clean_actor = required_text("actor", actor, 200)
    request = load_request(session, request_id, for_update=True)
    if request.type != RequestType.PRESERVATION:
        raise Conflict(f"request {request.id} is a {request.type}: only preservation renews")
    if not request.is_open:
        raise Conflict(f"request {request.id} is {request.status}: it is closed")
    if request.preserve_until is None or request.verified_at is None:
        raise Conflict(f"request {request.id} is not verified yet: verify it first")
    if request.preserve_until <= when:
        raise Conflict(
            f"request {request.id}'s preservation period has ended; a new request is due"
        )
    if request.renewals >= request.max_renewals:
        raise Conflict(
            f"request {request.id} was already renewed {request.renewals} time(s), the most allowed"
        )
    request.renewals += 1
    request.preserve_from = request.preserve_until
    request.preserve_until = preservation_period(
        request.preserve_until, context.settings.preservation_days
    )
    refresh_next_deadline(request)
    record_event(
        session,
        request,
        EventKind.RENEWED,
        actor=clean_actor,
        at=when,
        details={
            "renewals": request.renewals,
            "preserve_until": request.preserve_until.isoformat(),
        },
    )
    session.flush()
    renew_request_holds(session, context, request, actor=clean_actor, at=when)
    session.flush()
    logger.info("legal request %d renewed (%d)", request.id, request.renewals)
    return request


def assign_request(
    *,
    session: Session,
    request_id: int,
    assignee: str | None,
    actor: str,
    now: datetime | None = None,
) -> LegalRequest:
    """Give an open request to a staff member (``None`` unassigns it)."""
    when = as_utc(now) if now is not None else utcnow()
    clean_actor = required_text("actor", actor, 200)
    clean_assignee = clean_text("assignee", assignee, 200, required=False)
    request = load_request(session, request_id, for_update=True)
    if not request.is_open:
        raise Conflict(f"request {request.id} is {request.status}: it is closed")
    request.assignee = clean_assignee
    record_event(
        session,
        request,
        EventKind.ASSIGNED,
        actor=clean_actor,
        at=when,
        details={"assigned": clean_assignee is not None},
    )
    session.flush()
    return request


def add_note(
    *,
    session: Session,
    request_id: int,
    author: str,
    body: str,
    now: datetime | None = None,
) -> RequestNote:
    """A staff note on a request (kept, never edited); allowed on closed requests too."""
    when = as_utc(now) if now is not None else utcnow()
    clean_author = required_text("author", author, 200)
    text = required_text("note", body, 10_000, multiline=True)
    request = load_request(session, request_id)
    note = RequestNote(request_id=request.id, at=when, author=clean_author, body=text)
    session.add(note)
    session.flush()
    record_event(
        session, request, EventKind.NOTE, actor=clean_author, at=when, details={"note": note.id}
    )
    session.flush()
    return note


def resolve_flag(
    *, session: Session, flag_id: int, actor: str, now: datetime | None = None
) -> RequestFlag:
    """Staff dealt with a flag (found the account, snapshotted by hand)."""
    when = as_utc(now) if now is not None else utcnow()
    clean_actor = required_text("actor", actor, 200)
    flag = session.get(RequestFlag, flag_id, with_for_update=True)
    if flag is None:
        raise NotFound(f"no flag with id {flag_id}")
    if flag.resolved_at is not None:
        raise Conflict(f"flag {flag_id} is already resolved")
    flag.resolved_at = when
    flag.resolved_by = clean_actor
    request = load_request(session, flag.request_id)
    record_event(
        session,
        request,
        EventKind.FLAG_RESOLVED,
        actor=clean_actor,
        at=when,
        details={"flag": flag.id, "code": flag.code},
    )
    session.flush()
    return flag
