"""Reminders, escalations and pages: nothing passes a deadline without an escalation first.

Each pending deadline of an open request has escalation points at fractions of the time it
allows (``LegalSettings.escalation_points``: a reminder half-way, an escalation at four-fifths
by default) and an overdue level once it passes. :func:`due_escalations` records the highest
level each deadline has reached, once (a unique row per request, deadline, due time and level),
so it can run as often as wanted (every few minutes from a timer: ``brightline legal
escalate``); a run that comes late records the level reached, not every level it missed.

Emergency requests are handled first, and every escalation of one pages the on-call role (a
recorded ``paged`` event, and the :class:`~brightline.legal.hooks.Pager` if one is configured).

A preservation request whose period ends without renewal is not overdue: it **expires**
(status ``expired``), and its legal holds are recorded as released at their end, in the chain of
custody, by the same run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from brightline.evidence.models import LegalHold
from brightline.evidence.retention import EXPIRY_ACTOR, release_hold
from brightline.legal.deadlines import as_utc, escalation_points
from brightline.legal.hooks import DurablePager, LegalContext
from brightline.legal.models import (
    OPEN_STATUSES,
    DeadlineKind,
    Escalation,
    EscalationLevel,
    EventKind,
    FlagCode,
    LegalRequest,
    RequestAccount,
    RequestStatus,
    RequestType,
)
from brightline.legal.records import (
    Deadline,
    is_overdue,
    pending_deadlines,
    raise_flag,
    record_event,
    refresh_next_deadline,
)
from brightline.storage.base import utcnow

logger = logging.getLogger(__name__)

CLOCK_ACTOR = "system:legal-clock"


def urgency_order() -> tuple[ColumnElement[Any], ...]:
    """ORDER BY terms: open requests before closed ones, emergency requests first among
    them, then the nearest deadline, then the oldest."""
    return (
        LegalRequest.status.not_in([status.value for status in OPEN_STATUSES]),
        case((LegalRequest.type == RequestType.EMERGENCY.value, 0), else_=1),
        LegalRequest.next_due_at.is_(None),
        LegalRequest.next_due_at.asc(),
        LegalRequest.id.asc(),
    )


def page_on_call(
    session: Session,
    context: LegalContext,
    request: LegalRequest,
    *,
    message: str,
    at: datetime,
    actor: str,
) -> bool:
    """Page the on-call role about ``request``; always recorded, True if the pager took it.

    ``message`` holds ids, levels and times only. A pager that fails is flagged for staff and
    never undoes what the page is about.
    """
    role = context.settings.on_call_role
    delivered: bool | None = None
    pager = context.pager
    if pager is not None:
        try:
            if isinstance(pager, DurablePager):
                # A savepoint: a refused enqueue must not spoil the request's transaction.
                with session.begin_nested():
                    pager.page_in(
                        session=session, role=role, request_id=request.id, message=message, at=at
                    )
            else:
                pager.page(role=role, request_id=request.id, message=message)
            delivered = True
        except Exception as exc:  # a plugin may raise anything; the request must go on
            logger.warning("paging %s failed for legal request %d: %s", role, request.id,
                           type(exc).__name__)  # fmt: skip
            delivered = False
    record_event(
        session,
        request,
        EventKind.PAGED,
        actor=actor,
        at=at,
        details={"role": role, "pager": context.pager is not None, "delivered": delivered},
    )
    if delivered is False:
        raise_flag(
            session,
            request,
            FlagCode.PAGE_FAILED,
            f"paging the {role} role failed: call them",
            at=at,
            actor=actor,
        )
    return bool(delivered)


@dataclass(slots=True)
class EscalationPass:
    """What one run of :func:`due_escalations` did."""

    recorded: list[Escalation] = field(default_factory=list)
    """The escalations recorded by this run, emergency requests first."""
    overdue: list[int] = field(default_factory=list)
    """Open requests with a deadline to act that has passed (each has an overdue escalation)."""
    expired: list[int] = field(default_factory=list)
    """Preservation requests whose period ended without renewal in this run."""
    released_holds: list[int] = field(default_factory=list)


def _level_reached(
    deadline: Deadline, fractions: tuple[float, ...], now: datetime
) -> tuple[int, EscalationLevel] | None:
    if deadline.due_at <= now:
        return len(fractions) + 1, EscalationLevel.OVERDUE
    reached = [
        number
        for number, point in enumerate(
            escalation_points(deadline.started_at, deadline.due_at, fractions), start=1
        )
        if point <= now
    ]
    if not reached:
        return None
    level = reached[-1]
    return level, EscalationLevel.REMINDER if level == 1 else EscalationLevel.ESCALATION


def _expire(
    session: Session, context: LegalContext, request: LegalRequest, now: datetime
) -> list[int]:
    """End a preservation request whose period ran out; record its holds' end. Hold ids."""
    previous = request.status
    request.status = RequestStatus.EXPIRED.value
    request.closed_at = request.preserve_until
    request.closed_by = CLOCK_ACTOR
    refresh_next_deadline(request)
    record_event(
        session,
        request,
        EventKind.STATUS,
        actor=CLOCK_ACTOR,
        at=now,
        from_status=previous,
        to_status=request.status,
    )
    released = []
    hold_ids = session.scalars(
        select(RequestAccount.hold_id)
        .where(RequestAccount.request_id == request.id, RequestAccount.hold_id.is_not(None))
        .order_by(RequestAccount.hold_id)
    ).all()
    for hold_id in hold_ids:
        hold = session.get(LegalHold, hold_id) if hold_id is not None else None
        if hold is None or hold.released_at is not None or hold.expires_at > now:
            continue  # already ended, or renewed by hand past this request: left as it is
        release_hold(
            session=session,
            custody_key=context.custody_key,
            hold_id=hold.id,
            actor=EXPIRY_ACTOR,
            reason=f"preservation request {request.id} ended without renewal",
            now=now,
        )
        record_event(
            session,
            request,
            EventKind.HOLD_RELEASED,
            actor=EXPIRY_ACTOR,
            at=now,
            details={"hold": hold.id},
        )
        released.append(hold.id)
    return released


def due_escalations(
    *, session: Session, context: LegalContext, now: datetime | None = None
) -> EscalationPass:
    """Record every reminder, escalation and overdue notice due by ``now``; expire ended
    preservation requests. Run it every few minutes: it is idempotent."""
    when = as_utc(now) if now is not None else utcnow()
    fractions = context.settings.escalation_points
    result = EscalationPass()
    open_requests = session.scalars(
        select(LegalRequest)
        .where(LegalRequest.status.in_(OPEN_STATUSES))
        .order_by(*urgency_order())
        .with_for_update()
    ).all()
    for request in open_requests:
        for deadline in pending_deadlines(request):
            if deadline.kind is DeadlineKind.PRESERVATION_ENDS and deadline.due_at <= when:
                result.released_holds.extend(_expire(session, context, request, when))
                result.expired.append(request.id)
                break
            reached = _level_reached(deadline, fractions, when)
            if reached is None:
                continue
            level, name = reached
            recorded = session.scalar(
                select(func.max(Escalation.level)).where(
                    Escalation.request_id == request.id,
                    Escalation.deadline == deadline.kind.value,
                    Escalation.due_at == deadline.due_at,
                )
            )
            if recorded is not None and recorded >= level:
                continue
            escalation = Escalation(
                request_id=request.id,
                deadline=deadline.kind.value,
                due_at=deadline.due_at,
                level=level,
                name=name.value,
                recorded_at=when,
                paged=False,
            )
            session.add(escalation)
            session.flush()
            record_event(
                session,
                request,
                EventKind.ESCALATED,
                actor=CLOCK_ACTOR,
                at=when,
                details={
                    "escalation": escalation.id,
                    "deadline": deadline.kind.value,
                    "level": level,
                    "name": name.value,
                    "due_at": deadline.due_at.isoformat(),
                },
            )
            if request.is_emergency:
                page_on_call(
                    session,
                    context,
                    request,
                    message=(
                        f"emergency legal request {request.id}: {name.value} on its "
                        f"{deadline.kind.value} deadline, due {deadline.due_at.isoformat()}"
                    ),
                    at=when,
                    actor=CLOCK_ACTOR,
                )
                escalation.paged = True
            result.recorded.append(escalation)
        if request.is_open and is_overdue(request, when):
            result.overdue.append(request.id)
    session.flush()
    if result.recorded or result.expired:
        logger.info(
            "legal escalations: %d recorded, %d overdue, %d expired",
            len(result.recorded),
            len(result.overdue),
            len(result.expired),
        )
    return result
