"""Every workflow transition and every forbidden one; assignment, notes, deadlines (both DBs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from brightline.errors import Conflict, InvalidInput, NotFound
from brightline.evidence.store import EvidenceStore
from brightline.legal import (
    TRANSITIONS,
    DeadlineKind,
    LegalRequest,
    RequestStatus,
    RequestType,
    add_note,
    assign_request,
    due_escalations,
    list_requests,
    next_deadline,
    request_detail,
    transition_request,
)
from brightline.legal.models import RequestEvent
from tests.legal.helpers import T0, RecordingPager, context, make_sender, new_request, submit

S = RequestStatus
PATHS: dict[RequestStatus, list[RequestStatus]] = {
    S.RECEIVED: [],
    S.VERIFIED: [S.VERIFIED],
    S.IN_PROGRESS: [S.VERIFIED, S.IN_PROGRESS],
    S.PRODUCED: [S.VERIFIED, S.IN_PROGRESS, S.PRODUCED],
    S.PARTIALLY_PRODUCED: [S.VERIFIED, S.IN_PROGRESS, S.PARTIALLY_PRODUCED],
    S.REJECTED: [S.REJECTED],
    S.WITHDRAWN: [S.WITHDRAWN],
}
CTX = context()


def _request_in(session: Session, store: EvidenceStore, status: RequestStatus) -> LegalRequest:
    sender = make_sender(session)
    if status is S.EXPIRED:
        request = submit(session, CTX, store, new_request(sender, kind=RequestType.PRESERVATION))
        transition_request(
            session=session, context=CTX, request_id=request.id, to=S.VERIFIED, actor="staff-1",
            now=T0,
        )  # fmt: skip
        assert request.preserve_until is not None
        due_escalations(session=session, context=CTX, now=request.preserve_until)
    else:
        request = submit(session, CTX, store, new_request(sender, kind=RequestType.SUBPOENA))
        for step in PATHS[status]:
            transition_request(
                session=session, context=CTX, request_id=request.id, to=step, actor="staff-1",
                reason="synthetic reason", now=T0 + timedelta(minutes=1),
            )  # fmt: skip
    assert request.status == status
    return request


@pytest.mark.parametrize("start", list(RequestStatus))
def test_every_transition_from_each_status(
    session: Session, store: EvidenceStore, start: RequestStatus
) -> None:
    for target in RequestStatus:
        request = _request_in(session, store, start)
        before = session.scalar(
            select(RequestEvent.id).where(RequestEvent.request_id == request.id).order_by(
                RequestEvent.id.desc()
            ).limit(1)
        )  # fmt: skip

        def move(target: RequestStatus = target, request: LegalRequest = request) -> None:
            transition_request(
                session=session, context=CTX, request_id=request.id, to=target, actor="staff-2",
                reason="synthetic reason", now=T0 + timedelta(hours=1),
            )  # fmt: skip

        if target in TRANSITIONS[start]:
            move()
            assert request.status == target
            event = session.scalars(
                select(RequestEvent).where(
                    RequestEvent.request_id == request.id, RequestEvent.kind == "status"
                ).order_by(RequestEvent.id.desc())
            ).first()  # fmt: skip
            assert event is not None
            assert (event.from_status, event.to_status) == (start.value, target.value)
            assert event.actor == "staff-2"
            if not request.is_open:
                assert request.closed_at == T0 + timedelta(hours=1)
                assert next_deadline(request) is None
        else:
            expected = (
                "only the clock"
                if target is S.EXPIRED
                else f"request {request.id} is {start.value}"
            )
            with pytest.raises(Conflict, match=expected):
                move()
            assert request.status == start
            after = session.scalar(
                select(RequestEvent.id).where(RequestEvent.request_id == request.id).order_by(
                    RequestEvent.id.desc()
                ).limit(1)
            )  # fmt: skip
            assert after == before  # a refused transition records nothing


def test_the_transition_table_is_the_documented_workflow() -> None:
    assert TRANSITIONS[S.RECEIVED] == {S.VERIFIED, S.REJECTED, S.WITHDRAWN}
    assert TRANSITIONS[S.VERIFIED] == {S.IN_PROGRESS, S.REJECTED, S.WITHDRAWN}
    assert TRANSITIONS[S.IN_PROGRESS] == {
        S.PRODUCED, S.PARTIALLY_PRODUCED, S.REJECTED, S.WITHDRAWN,
    }  # fmt: skip
    closed = [S.PRODUCED, S.PARTIALLY_PRODUCED, S.REJECTED, S.WITHDRAWN, S.EXPIRED]
    assert all(TRANSITIONS[status] == frozenset() for status in closed)
    assert all(S.EXPIRED not in allowed for allowed in TRANSITIONS.values())


def test_rejection_and_withdrawal_need_a_reason(session: Session, store: EvidenceStore) -> None:
    request = _request_in(session, store, S.RECEIVED)
    for target in (S.REJECTED, S.WITHDRAWN):
        with pytest.raises(InvalidInput, match="only with a reason"):
            transition_request(
                session=session, context=CTX, request_id=request.id, to=target, actor="s",
                reason="  ",
            )  # fmt: skip
    with pytest.raises(Conflict, match="only the clock"):
        transition_request(
            session=session, context=CTX, request_id=request.id, to=S.EXPIRED, actor="s"
        )
    transition_request(
        session=session, context=CTX, request_id=request.id, to=S.REJECTED, actor="s",
        reason="not signed by a judge (synthetic)", now=T0,
    )  # fmt: skip
    assert request.close_reason == "not signed by a judge (synthetic)"
    with pytest.raises(NotFound):
        transition_request(session=session, context=CTX, request_id=10**9, to=S.VERIFIED, actor="s")


def test_deadlines_follow_the_request(session: Session, store: EvidenceStore) -> None:
    sender = make_sender(session)
    request = submit(session, CTX, store, new_request(sender, kind=RequestType.SUBPOENA))
    # Received Tuesday 1 December 14:00 UTC: two business days end with Thursday 3rd.
    assert request.verify_due_at == datetime(2026, 12, 4, tzinfo=UTC)
    upcoming = next_deadline(request)
    assert upcoming is not None
    assert (upcoming.kind, upcoming.due_at) == (DeadlineKind.VERIFY, request.verify_due_at)
    assert request.next_due_at == request.verify_due_at
    transition_request(
        session=session, context=CTX, request_id=request.id, to=S.VERIFIED, actor="s",
        now=datetime(2026, 12, 2, 10, 0, tzinfo=UTC),
    )  # fmt: skip
    # Twenty business days from Wednesday 2 December: Wednesday 30 December, ends at midnight.
    assert request.respond_due_at == datetime(2026, 12, 31, tzinfo=UTC)
    assert request.next_due_kind == DeadlineKind.RESPOND.value

    stated = datetime(2026, 12, 10, 17, 0, tzinfo=UTC)
    dated = submit(
        session, CTX, store,
        new_request(sender, kind=RequestType.SEARCH_WARRANT, stated_due_at=stated),
    )  # fmt: skip
    transition_request(
        session=session, context=CTX, request_id=dated.id, to=S.VERIFIED, actor="s", now=T0
    )
    upcoming = next_deadline(dated)
    assert upcoming is not None
    assert (upcoming.kind, upcoming.due_at) == (DeadlineKind.STATED, stated)


def test_assignment_and_notes(session: Session, store: EvidenceStore) -> None:
    request = _request_in(session, store, S.VERIFIED)
    assign_request(
        session=session, request_id=request.id, assignee="staff-0002", actor="lead", now=T0
    )
    assert request.assignee == "staff-0002"
    note = add_note(
        session=session, request_id=request.id, author="staff-0002",
        body="Called the agency to confirm (synthetic).\nConfirmed.", now=T0,
    )  # fmt: skip
    detail = request_detail(session=session, request_id=request.id, now=T0)
    assert [n.id for n in detail.notes] == [note.id]
    kinds = [event.kind for event in detail.events]
    assert kinds[-2:] == ["assigned", "note"]
    assert "Called" not in " ".join(event.details for event in detail.events)  # no user text
    assert [
        r.request.id for r in list_requests(session=session, assignee="staff-0002", now=T0)
    ] == [request.id]
    assign_request(session=session, request_id=request.id, assignee=None, actor="lead", now=T0)
    assert request.assignee is None
    with pytest.raises(InvalidInput):
        add_note(session=session, request_id=request.id, author="s", body="\x00")
    closed = _request_in(session, store, S.WITHDRAWN)
    with pytest.raises(Conflict, match="closed"):
        assign_request(session=session, request_id=closed.id, assignee="x", actor="lead")
    add_note(session=session, request_id=closed.id, author="s", body="kept after closing")


def test_emergency_requests_sort_first_and_page_on_call(
    session: Session, store: EvidenceStore
) -> None:
    pager = RecordingPager()
    ctx = context(pager=pager)
    sender = make_sender(session)
    ordinary = submit(session, ctx, store, new_request(sender, kind=RequestType.SUBPOENA))
    stated = submit(
        session, ctx, store,
        new_request(sender, kind=RequestType.COURT_ORDER, stated_due_at=T0 + timedelta(minutes=5)),
    )  # fmt: skip
    emergency = submit(
        session, ctx, store, new_request(sender, kind=RequestType.EMERGENCY),
        now=T0 + timedelta(minutes=1),
    )  # fmt: skip
    listed = [item.request.id for item in list_requests(session=session, now=T0)]
    assert listed[:3] == [emergency.id, stated.id, ordinary.id]
    assert [(role, request_id) for role, request_id, _ in pager.pages] == [
        ("on-call", emergency.id)
    ]
    assert emergency.verify_due_at == T0 + timedelta(hours=1, minutes=1)
    paged = request_detail(session=session, request_id=emergency.id).events[-1]
    assert paged.kind == "paged"
    assert '"role":"on-call"' in paged.details
    transition_request(
        session=session, context=ctx, request_id=emergency.id, to=S.WITHDRAWN, actor="s",
        reason="synthetic", now=T0 + timedelta(minutes=2),
    )  # fmt: skip
    listed = [item.request.id for item in list_requests(session=session, now=T0)]
    assert listed[-1] == emergency.id  # closed requests come after every open one
    assert [item.request.id for item in list_requests(session=session, open_only=True)] == [
        stated.id, ordinary.id,
    ]  # fmt: skip


def test_an_officer_sees_only_their_agency(session: Session, store: EvidenceStore) -> None:
    mine, theirs = make_sender(session), make_sender(session)
    own = submit(session, CTX, store, new_request(mine))
    other = submit(session, CTX, store, new_request(theirs))
    listed = list_requests(session=session, agency_id=mine.agency.id, now=T0)
    assert [item.request.id for item in listed] == [own.id]
    with pytest.raises(NotFound):
        request_detail(session=session, request_id=other.id, agency_id=mine.agency.id)


def test_the_event_history_is_append_only(session: Session, store: EvidenceStore) -> None:
    request = _request_in(session, store, S.VERIFIED)
    session.commit()
    for statement in (
        "UPDATE legal_request_events SET actor = 'someone-else'",
        "DELETE FROM legal_request_events",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    assert (
        session.scalar(
            select(RequestEvent.actor).where(RequestEvent.request_id == request.id).limit(1)
        )
        == "staff-0001"
    )
