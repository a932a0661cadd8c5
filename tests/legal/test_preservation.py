"""Preservation is immediate: verification holds the named accounts' evidence (both DBs).

Holds are placed in the verification's own transaction, renewed with the request, released on
withdrawal or rejection, recorded as ended when the period runs out, and every step is in the
chain of custody, which still verifies.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from brightline.custody import CustodyEvent, custody_entries, verify_custody
from brightline.custody.models import CustodyRecord
from brightline.errors import Conflict
from brightline.evidence.models import HeldObject, LegalHold
from brightline.evidence.retention import EXPIRY_ACTOR, refs_for_account
from brightline.evidence.store import EvidenceStore
from brightline.legal import (
    AccountState,
    FlagCode,
    LegalRequest,
    RequestStatus,
    RequestType,
    due_escalations,
    renew_preservation,
    request_detail,
    transition_request,
)
from brightline.review.models import Subject
from brightline.storage.base import utcnow
from tests.legal.helpers import (
    KEY,
    T0,
    RecordingSnapshotter,
    context,
    make_sender,
    new_request,
    preserved_account,
    submit,
)

S = RequestStatus
CTX = context()
DAY = timedelta(days=1)


def _verify(session: Session, request: LegalRequest, ctx=CTX, now=T0 + timedelta(hours=2)) -> None:  # type: ignore[no-untyped-def]
    transition_request(
        session=session, context=ctx, request_id=request.id, to=S.VERIFIED, actor="staff-1",
        now=now,
    )  # fmt: skip


def _holds(session: Session, request: LegalRequest) -> list[LegalHold]:
    detail = request_detail(session=session, request_id=request.id)
    return [session.get_one(LegalHold, hold_id) for hold_id in detail.hold_ids]


def test_verifying_holds_everything_preserved_for_the_named_accounts(
    sessions: sessionmaker[Session], store: EvidenceStore
) -> None:
    with sessions.begin() as session:
        first = preserved_account(session, store)
        second = preserved_account(session, store, files=1)
        sender = make_sender(session)
        request = submit(
            session, CTX, store,
            new_request(sender, accounts=[
                (first.service, first.platform_user_id),
                (second.service, second.platform_user_id),
            ]),
        )  # fmt: skip
        request_id = request.id
    with sessions.begin() as session:
        # Verified without a fixed clock: the holds carry the verification's own time.
        transition_request(
            session=session, context=CTX, request_id=request_id, to=S.VERIFIED, actor="staff-1"
        )
        request = session.get_one(LegalRequest, request_id)
        holds = _holds(session, request)  # in the same transaction, before it commits
        assert len(holds) == 2
        assert request.verified_at is not None
        assert all(hold.placed_at == request.verified_at for hold in holds)
        assert utcnow() - request.verified_at < timedelta(minutes=1)
    with sessions() as session:
        request = session.get_one(LegalRequest, request_id)
        holds = _holds(session, request)
        for made, hold in zip((first, second), holds, strict=True):
            wanted = refs_for_account(
                session=session, service=made.service, platform_user_id=made.platform_user_id
            )
            held = session.scalars(
                select(HeldObject.ref).where(HeldObject.hold_id == hold.id).order_by(HeldObject.ref)
            ).all()
            assert list(held) == wanted
            assert hold.kind == "preservation_request"
            assert f"legal request {request_id}" in hold.reference
            assert hold.expires_at == request.preserve_until
            assert hold.max_renewals == 1
            entries = custody_entries(session=session, hold_id=hold.id)
            assert {entry.object_ref for entry in entries} == set(wanted)
            assert {entry.event for entry in entries} == {CustodyEvent.HELD}
        detail = request_detail(session=session, request_id=request_id)
        assert {account.state for account in detail.accounts} == {AccountState.HELD.value}
        assert detail.flags == []
        assert request.preserve_until == request.verified_at + timedelta(days=90)  # type: ignore[operator]
        assert verify_custody(session=session, key=KEY).ok


def test_unknown_and_empty_accounts_are_flagged_not_dropped(
    session: Session, store: EvidenceStore
) -> None:
    held = preserved_account(session, store)
    empty = preserved_account(session, store)
    # An account whose review produced nothing preserved: its subject exists, its refs do not.
    session.add(Subject(service="example", platform_user_id="user-reviewed-only"))
    session.flush()
    sender = make_sender(session)
    request = submit(
        session, CTX, store,
        new_request(sender, accounts=[
            (held.service, held.platform_user_id),
            ("example", "user-reviewed-only"),
            ("example", "user-never-seen"),
        ]),
    )  # fmt: skip
    _verify(session, request)
    detail = request_detail(session=session, request_id=request.id)
    states = [account.state for account in detail.accounts]
    assert states == ["held", "nothing_preserved", "unknown"]
    codes = sorted(flag.code for flag in detail.flags)
    assert codes == ["nothing_preserved", "unknown_account"]
    assert len(detail.hold_ids) == 1
    held_refs = set(session.scalars(select(HeldObject.ref)))
    assert set(held.media_refs) <= held_refs
    assert not set(empty.media_refs) & held_refs  # an account the request does not name


def test_a_request_naming_only_unknown_accounts_is_verified_with_a_clear_flag(
    session: Session, store: EvidenceStore
) -> None:
    sender = make_sender(session)
    request = submit(session, CTX, store, new_request(sender))
    _verify(session, request)
    assert request.status == S.VERIFIED
    detail = request_detail(session=session, request_id=request.id)
    assert detail.hold_ids == []
    assert sorted(flag.code for flag in detail.flags) == [
        FlagCode.NO_ACCOUNT_HELD.value, FlagCode.UNKNOWN_ACCOUNT.value,
    ]  # fmt: skip
    assert "nothing is held" in next(
        flag.message for flag in detail.flags if flag.code == "no_account_held"
    )
    assert session.scalar(select(func.count()).select_from(CustodyRecord)) == 0


def test_renewal_renews_the_holds_once(session: Session, store: EvidenceStore) -> None:
    made = preserved_account(session, store)
    sender = make_sender(session)
    request = submit(
        session, CTX, store, new_request(sender, accounts=[(made.service, made.platform_user_id)])
    )
    _verify(session, request, now=T0)
    (hold,) = _holds(session, request)
    first_end = hold.expires_at
    renew_preservation(session=session, context=CTX, request_id=request.id, actor="staff-1",
                       now=T0 + 80 * DAY)  # fmt: skip
    assert request.preserve_until == T0 + 180 * DAY
    assert hold.expires_at == first_end + 90 * DAY == request.preserve_until
    assert hold.renewals == 1
    renewed = [e for e in custody_entries(session=session, hold_id=hold.id)
               if e.event is CustodyEvent.HOLD_RENEWED]  # fmt: skip
    assert len(renewed) == 4  # two files, the report XML and the case record
    with pytest.raises(Conflict, match="already renewed 1 time"):
        renew_preservation(session=session, context=CTX, request_id=request.id, actor="s",
                           now=T0 + 100 * DAY)  # fmt: skip
    assert verify_custody(session=session, key=KEY).ok


def test_renewal_is_refused_after_the_period_and_for_other_types(
    session: Session, store: EvidenceStore
) -> None:
    sender = make_sender(session)
    request = submit(session, CTX, store, new_request(sender))
    with pytest.raises(Conflict, match="not verified"):
        renew_preservation(session=session, context=CTX, request_id=request.id, actor="s", now=T0)
    _verify(session, request, now=T0)
    with pytest.raises(Conflict, match="has ended"):
        renew_preservation(session=session, context=CTX, request_id=request.id, actor="s",
                           now=T0 + 90 * DAY)  # fmt: skip
    subpoena = submit(session, CTX, store, new_request(sender, kind=RequestType.SUBPOENA))
    with pytest.raises(Conflict, match="only preservation renews"):
        renew_preservation(session=session, context=CTX, request_id=subpoena.id, actor="s")


@pytest.mark.parametrize("closing", [S.WITHDRAWN, S.REJECTED])
def test_withdrawal_or_rejection_releases_the_holds(
    session: Session, store: EvidenceStore, closing: RequestStatus
) -> None:
    made = preserved_account(session, store)
    sender = make_sender(session)
    account = [(made.service, made.platform_user_id)]
    request = submit(session, CTX, store, new_request(sender, accounts=account))
    other = submit(session, CTX, store, new_request(sender, accounts=account))
    _verify(session, request)
    _verify(session, other)
    transition_request(
        session=session, context=CTX, request_id=request.id, to=closing, actor="staff-1",
        reason="agency letter of withdrawal (synthetic)", now=T0 + 5 * DAY,
    )  # fmt: skip
    (hold,) = _holds(session, request)
    assert hold.released_at == T0 + 5 * DAY
    assert hold.released_by == "staff-1"
    released = [e for e in custody_entries(session=session, hold_id=hold.id)
                if e.event is CustodyEvent.HOLD_RELEASED]  # fmt: skip
    assert len(released) == 4
    assert all(closing.value in (entry.reason or "") for entry in released)
    (kept,) = _holds(session, other)  # the other request's hold on the same evidence stays
    assert kept.released_at is None
    assert all(store.exists(ref) for ref in made.media_refs)  # released, never destroyed
    assert verify_custody(session=session, key=KEY).ok


def test_producing_keeps_the_holds(session: Session, store: EvidenceStore) -> None:
    made = preserved_account(session, store)
    sender = make_sender(session)
    request = submit(
        session, CTX, store, new_request(sender, accounts=[(made.service, made.platform_user_id)])
    )
    _verify(session, request)
    for step in (S.IN_PROGRESS, S.PRODUCED):
        transition_request(session=session, context=CTX, request_id=request.id, to=step,
                           actor="s", now=T0 + DAY)  # fmt: skip
    (hold,) = _holds(session, request)
    assert hold.released_at is None


def test_a_period_that_ends_without_renewal_expires_the_request(
    session: Session, store: EvidenceStore
) -> None:
    made = preserved_account(session, store)
    sender = make_sender(session)
    request = submit(
        session, CTX, store, new_request(sender, accounts=[(made.service, made.platform_user_id)])
    )
    _verify(session, request, now=T0)
    (hold,) = _holds(session, request)
    before = due_escalations(session=session, context=CTX, now=T0 + 89 * DAY)
    assert before.expired == []
    assert {e.deadline for e in before.recorded} == {"preservation_ends"}  # warned first
    ended = due_escalations(session=session, context=CTX, now=T0 + 90 * DAY)
    assert ended.expired == [request.id]
    assert ended.overdue == []
    assert ended.released_holds == [hold.id]
    assert request.status == S.EXPIRED
    assert request.closed_at == T0 + 90 * DAY
    assert hold.released_at == hold.expires_at
    assert hold.released_by == EXPIRY_ACTOR
    assert {e.actor for e in custody_entries(session=session, hold_id=hold.id)
            if e.event is CustodyEvent.HOLD_RELEASED} == {EXPIRY_ACTOR}  # fmt: skip
    again = due_escalations(session=session, context=CTX, now=T0 + 91 * DAY)
    assert (again.expired, again.recorded) == ([], [])
    assert verify_custody(session=session, key=KEY).ok


def test_snapshot_hook_is_called_and_its_failure_never_undoes_the_holds(
    session: Session, store: EvidenceStore
) -> None:
    made = preserved_account(session, store)
    sender = make_sender(session)
    accounts = [(made.service, made.platform_user_id), ("example", "user-never-seen")]
    snapshots = RecordingSnapshotter()
    request = submit(session, CTX, store, new_request(sender, accounts=accounts))
    _verify(session, request, ctx=context(snapshotter=snapshots))
    assert [call[1:] for call in snapshots.calls] == accounts  # the platform knows its accounts
    events = request_detail(session=session, request_id=request.id).events
    tickets = [e.details for e in events if e.kind == "snapshot_requested"]
    assert '"ticket":"snap-0001"' in tickets[0]

    failing = submit(session, CTX, store, new_request(sender, accounts=accounts[:1]))
    _verify(session, failing, ctx=context(snapshotter=RecordingSnapshotter(fail=True)))
    detail = request_detail(session=session, request_id=failing.id)
    assert [flag.code for flag in detail.flags] == ["snapshot_failed"]
    assert len(detail.hold_ids) == 1

    default = submit(session, CTX, store, new_request(sender, accounts=accounts[:1]))
    _verify(session, default)
    events = request_detail(session=session, request_id=default.id).events
    assert any('"configured":false' in e.details for e in events if e.kind == "snapshot_requested")


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    verified_after=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
    renewed_after=st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=89)),
)
def test_renewal_arithmetic_property(
    session: Session,
    store: EvidenceStore,
    verified_after: timedelta,
    renewed_after: timedelta,
) -> None:
    """Wherever in the period a renewal comes, it adds exactly one period to the end, and the
    holds end with the request."""
    made = preserved_account(session, store, files=1)
    sender = make_sender(session)
    request = submit(
        session, CTX, store, new_request(sender, accounts=[(made.service, made.platform_user_id)])
    )
    verified = T0 + verified_after
    _verify(session, request, now=verified)
    renew_preservation(session=session, context=CTX, request_id=request.id, actor="s",
                       now=verified + renewed_after)  # fmt: skip
    assert request.preserve_until == verified + 180 * DAY
    assert [hold.expires_at for hold in _holds(session, request)] == [request.preserve_until]
    assert request.next_due_at == request.preserve_until
    session.rollback()
