"""Nothing passes a deadline without an escalation first: the clock is advanced (both DBs)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from brightline.evidence.store import EvidenceStore
from brightline.legal import (
    Escalation,
    LegalRequest,
    LegalSettings,
    RequestStatus,
    RequestType,
    due_escalations,
    pending_deadlines,
    transition_request,
)
from brightline.legal.models import RequestEvent
from tests.legal.helpers import T0, RecordingPager, context, make_sender, new_request, submit

S = RequestStatus
LONDON = LegalSettings(timezone="Europe/London")


def test_advancing_the_clock_escalates_before_every_deadline(
    session: Session, store: EvidenceStore
) -> None:
    """One request of each type, some with a date stated on the process; each is verified
    once its verification reminder is recorded, and some are never answered. The clock runs
    past every deadline in small steps, as a timer running `legal escalate` would."""
    pager = RecordingPager()
    ctx = context(LONDON, pager=pager)
    sender = make_sender(session)
    requests = [
        submit(session, ctx, store, new_request(sender, kind=kind), now=T0) for kind in RequestType
    ]
    requests.append(
        submit(session, ctx, store,
               new_request(sender, kind=RequestType.COURT_ORDER,
                           stated_due_at=T0 + timedelta(days=3)), now=T0)
    )  # fmt: skip
    seen: dict[tuple[int, str, object], str] = {}  # deadline -> what happened first
    now = T0
    end = T0 + timedelta(days=95)  # past the preservation period and the longest response
    while now <= end:
        before = {
            (request.id, deadline.kind.value, deadline.due_at)
            for request in requests
            for deadline in pending_deadlines(request)
        }
        result = due_escalations(session=session, context=ctx, now=now)
        for escalation in result.recorded:
            key = (escalation.request_id, escalation.deadline, escalation.due_at)
            seen.setdefault(key, escalation.name)
            assert key in before
        for request in requests:
            if request.status == S.RECEIVED and any(
                e.request_id == request.id and e.deadline == "verify" for e in result.recorded
            ):
                transition_request(session=session, context=ctx, request_id=request.id,
                                   to=S.VERIFIED, actor="staff-1", now=now)  # fmt: skip
        emergency_open = any(r.is_emergency and r.is_open for r in requests)
        now += timedelta(minutes=5) if emergency_open else timedelta(hours=4)
        if emergency_open and now > T0 + timedelta(hours=8):
            emergency = next(r for r in requests if r.is_emergency)
            for step in (S.IN_PROGRESS, S.PRODUCED):
                transition_request(session=session, context=ctx, request_id=emergency.id,
                                   to=step, actor="staff-1", now=now)  # fmt: skip

    rows = session.scalars(select(Escalation).order_by(Escalation.id)).all()
    deadlines = {(row.request_id, row.deadline, row.due_at) for row in rows}
    assert len(deadlines) >= 2 * len(RequestType) + 1  # verify + respond/ends (+ stated)
    for key in deadlines:
        first = [row for row in rows if (row.request_id, row.deadline, row.due_at) == key]
        assert first[0].name == "reminder", key  # the first thing recorded is a reminder
        assert first[0].recorded_at < key[2], key  # and it came before the deadline
        assert seen[key] == "reminder"
        overdue = [row for row in first if row.name == "overdue"]
        if overdue:
            assert any(row.recorded_at < key[2] and row.name == "escalation" for row in first)
    overdue_kinds = {(row.request_id, row.deadline) for row in rows if row.name == "overdue"}
    assert overdue_kinds  # unanswered requests did go overdue, after being escalated
    assert all(deadline != "preservation_ends" for _id, deadline in overdue_kinds)
    preservation = next(r for r in requests if r.type == RequestType.PRESERVATION)
    assert preservation.status == S.EXPIRED
    emergency = next(r for r in requests if r.is_emergency)
    paged = session.scalars(
        select(RequestEvent).where(
            RequestEvent.request_id == emergency.id, RequestEvent.kind == "paged"
        )
    ).all()
    emergency_escalations = [row for row in rows if row.request_id == emergency.id]
    assert len(paged) == 1 + len(emergency_escalations)  # on receipt, then every escalation
    assert all(row.paged for row in emergency_escalations)
    assert len(pager.pages) == len(paged)


def test_escalation_is_idempotent_and_a_late_run_records_the_level_reached(
    session: Session, store: EvidenceStore
) -> None:
    ctx = context()
    sender = make_sender(session)
    request = submit(session, ctx, store, new_request(sender, kind=RequestType.SUBPOENA))
    allowed = request.verify_due_at - request.received_at
    assert due_escalations(session=session, context=ctx, now=T0).recorded == []
    late = request.received_at + allowed * 0.9  # past both points: only the escalation
    first = due_escalations(session=session, context=ctx, now=late)
    assert [(e.name, e.level) for e in first.recorded] == [("escalation", 2)]
    assert due_escalations(session=session, context=ctx, now=late).recorded == []
    overdue = due_escalations(session=session, context=ctx, now=request.verify_due_at)
    assert [(e.name, e.level) for e in overdue.recorded] == [("overdue", 3)]
    assert overdue.overdue == [request.id]
    again = due_escalations(session=session, context=ctx, now=request.verify_due_at + allowed)
    assert again.recorded == []
    assert again.overdue == [request.id]


def test_a_failing_pager_is_flagged_and_the_escalation_still_recorded(
    session: Session, store: EvidenceStore
) -> None:
    ctx = context(pager=RecordingPager(fail=True))
    sender = make_sender(session)
    request = submit(session, ctx, store, new_request(sender, kind=RequestType.EMERGENCY))
    result = due_escalations(session=session, context=ctx, now=T0 + timedelta(minutes=45))
    assert [e.request_id for e in result.recorded] == [request.id]
    flags = session.scalars(
        select(RequestEvent.details).where(
            RequestEvent.request_id == request.id, RequestEvent.kind == "flagged"
        )
    ).all()
    failed = [details for details in flags if '"code":"page_failed"' in details]
    assert len(failed) == 2  # on receipt and on the escalation


def test_every_open_request_has_a_next_deadline(session: Session, store: EvidenceStore) -> None:
    ctx = context()
    sender = make_sender(session)
    for kind in RequestType:
        request = submit(session, ctx, store, new_request(sender, kind=kind))
        assert request.next_due_at == request.verify_due_at
        transition_request(session=session, context=ctx, request_id=request.id, to=S.VERIFIED,
                           actor="s", now=T0 + timedelta(minutes=10))  # fmt: skip
        assert request.next_due_at is not None
        assert request.next_due_at > T0 + timedelta(minutes=10)
    open_requests = session.scalars(select(LegalRequest)).all()
    assert all(pending_deadlines(request) for request in open_requests)
