"""Queues, routing rules, claim order, exclusive expiring claims, release and skip."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from brightline.errors import Conflict, InvalidInput, NotFound
from brightline.review import (
    AuditAction,
    Claim,
    QueueDepth,
    add_routing_rule,
    claim_job,
    claim_next,
    create_queue,
    list_routing_rules,
    query_audit,
    queue_depths,
    release,
    remove_routing_rule,
    renew,
    skip,
)
from brightline.review.models import Queue
from tests.review.helpers import NOW, flag, make_bank, match


def queue_name(session: Session, queue_id: int) -> str:
    queue = session.get(Queue, queue_id)
    assert queue is not None
    return queue.name


def test_rules_route_in_order_and_the_rest_goes_to_default(session: Session) -> None:
    entries_a = make_bank(session, "bank-a", classification="A1", seed=1)
    entries_b = make_bank(session, "bank-b", classification="B2", seed=2)
    for name in ("urgent", "bank-a-team", "reports"):
        create_queue(session=session, name=name, actor="admin")
    add_routing_rule(session=session, queue_name="urgent", actor="admin", min_priority=50)
    add_routing_rule(session=session, queue_name="bank-a-team", actor="admin", bank_name="bank-a")
    add_routing_rule(session=session, queue_name="reports", actor="admin", source="report")
    assert [r.position for r in list_routing_rules(session=session)] == [1, 2, 3]

    routed = {
        "a": flag(session, 1, 1, [match(entries_a[0], "bank-a")]),
        "a-urgent": flag(session, 2, 2, [match(entries_a[1], "bank-a")], priority=60),
        "b": flag(session, 3, 3, [match(entries_b[0], "bank-b")]),
        "b-report": flag(session, 4, 4, [match(entries_b[1], "bank-b")], source="report"),
    }
    assert {k: queue_name(session, f.job.queue_id) for k, f in routed.items()} == {
        "a": "bank-a-team",
        "a-urgent": "urgent",
        "b": "default",
        "b-report": "reports",
    }
    with pytest.raises(Conflict, match="position 2"):
        add_routing_rule(session=session, queue_name="reports", actor="admin", position=2)
    with pytest.raises(InvalidInput, match="classification"):
        add_routing_rule(session=session, queue_name="reports", actor="admin", classification="Z9")
    with pytest.raises(NotFound):
        add_routing_rule(session=session, queue_name="nope", actor="admin")
    classified = add_routing_rule(
        session=session, queue_name="urgent", actor="admin", position=0, classification="B2"
    )
    assert queue_name(
        session, flag(session, 5, 5, [match(entries_b[2], "bank-b")]).job.queue_id
    ) == ("urgent")
    remove_routing_rule(session=session, rule_id=classified.id, actor="admin")
    changes = query_audit(session=session, action=AuditAction.SETTING_CHANGE)
    assert len(changes) == 3 + 3 + 2  # queues, rules added, rule added and removed


def test_claims_come_by_priority_then_age(session: Session) -> None:
    old_low = flag(session, 1, 1, now=NOW)
    new_high = flag(session, 2, 2, priority=10, now=NOW + timedelta(seconds=2))
    old_high = flag(session, 3, 3, priority=10, now=NOW + timedelta(seconds=1))
    order = []
    for reviewer in ("r1", "r2", "r3"):
        claim = claim_next(session=session, queue_name="default", reviewer=reviewer, now=NOW)
        assert claim is not None
        order.append(claim.job_id)
    assert order == [old_high.job.id, new_high.job.id, old_low.job.id]
    assert claim_next(session=session, queue_name="default", reviewer="r4", now=NOW) is None
    create_queue(session=session, name="quiet", actor="admin")
    assert queue_depths(session=session, now=NOW) == [
        QueueDepth(queue="default", waiting=0, claimed=3),
        QueueDepth(queue="quiet", waiting=0, claimed=0),
    ]
    assert queue_depths(session=session, now=NOW + timedelta(hours=1))[0].waiting == 3


def test_two_claimers_never_get_the_same_job(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        for n in range(6):
            flag(session, n, n)
    start = threading.Barrier(4)
    claims: list[Claim] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def claimer(reviewer: str) -> None:
        try:
            start.wait()
            for _ in range(3):
                with sessions.begin() as session:
                    claim = claim_next(
                        session=session, queue_name="default", reviewer=reviewer, now=NOW
                    )
                if claim is not None:
                    with lock:
                        claims.append(claim)
        except BaseException as exc:  # reported to the test thread below
            failures.append(exc)

    threads = [threading.Thread(target=claimer, args=(f"r{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert len(claims) == 6
    assert len({claim.job_id for claim in claims}) == 6


def test_an_expired_claim_can_be_taken_and_the_old_token_is_refused(session: Session) -> None:
    flagged = flag(session, 1, 1)
    lease = timedelta(minutes=5)
    first = claim_next(
        session=session, queue_name="default", reviewer="alice", now=NOW, lease=lease
    )
    assert first is not None
    assert claim_next(session=session, queue_name="default", reviewer="bob", now=NOW) is None
    with pytest.raises(Conflict, match="claimed by someone else"):
        claim_job(session=session, job_id=flagged.job.id, reviewer="bob", now=NOW)
    later = NOW + lease
    with pytest.raises(Conflict, match="expired"):
        release(
            session=session, job_id=first.job_id, reviewer="alice", token=first.token, now=later
        )
    second = claim_next(
        session=session, queue_name="default", reviewer="bob", now=later, lease=lease
    )
    assert second is not None
    assert second.job_id == first.job_id
    with pytest.raises(Conflict, match="someone else"):
        release(
            session=session, job_id=first.job_id, reviewer="alice", token=first.token, now=later
        )
    release(session=session, job_id=second.job_id, reviewer="bob", token=second.token, now=later)
    third = claim_next(session=session, queue_name="default", reviewer="alice", now=later)
    assert third is not None
    assert third.job_id == first.job_id


def test_a_held_claim_can_be_renewed_but_a_lapsed_one_is_not_revived(session: Session) -> None:
    flag(session, 1, 1)
    lease = timedelta(minutes=5)
    claim = claim_next(
        session=session, queue_name="default", reviewer="alice", now=NOW, lease=lease
    )
    assert claim is not None
    later = NOW + timedelta(minutes=4)
    renewed = renew(
        session=session,
        job_id=claim.job_id,
        reviewer="alice",
        token=claim.token,
        now=later,
        lease=lease,
    )
    assert renewed.token == claim.token
    assert renewed.locked_until == later + lease
    # Past the first lease, inside the renewed one: still alice's.
    assert (
        claim_next(session=session, queue_name="default", reviewer="bob", now=NOW + lease) is None
    )
    with pytest.raises(Conflict, match="someone else"):
        renew(session=session, job_id=claim.job_id, reviewer="bob", token="guess", now=later)  # noqa: S106
    lapsed = renewed.locked_until
    with pytest.raises(Conflict, match="expired"):
        renew(session=session, job_id=claim.job_id, reviewer="alice", token=claim.token, now=lapsed)
    taken = claim_next(session=session, queue_name="default", reviewer="bob", now=lapsed)
    assert taken is not None
    assert taken.job_id == claim.job_id


def test_skip_needs_a_reason_and_is_recorded(session: Session) -> None:
    flagged = flag(session, 1, 1)
    claim = claim_next(session=session, queue_name="default", reviewer="alice", now=NOW)
    assert claim is not None
    with pytest.raises(InvalidInput, match="reason"):
        skip(session=session, job_id=claim.job_id, reviewer="alice", token=claim.token, reason=" ")
    skip(
        session=session,
        job_id=claim.job_id,
        reviewer="alice",
        token=claim.token,
        reason="needs a colleague who reads the language",
        now=NOW,
    )
    assert claim_next(session=session, queue_name="default", reviewer="alice", now=NOW) is None
    other = claim_next(session=session, queue_name="default", reviewer="bob", now=NOW)
    assert other is not None
    assert other.job_id == flagged.job.id
    (row,) = query_audit(session=session, action=AuditAction.SKIP)
    assert (row.actor, row.object_id, row.reason) == (
        "alice",
        str(flagged.job.id),
        "needs a colleague who reads the language",
    )
    claims = query_audit(session=session, action=AuditAction.CLAIM, object_type="job")
    assert [c.actor for c in claims] == ["alice", "bob"]


def test_claim_input_is_checked(session: Session) -> None:
    with pytest.raises(NotFound):
        claim_next(session=session, queue_name="missing", reviewer="alice")
    create_queue(session=session, name="empty", actor="admin")
    with pytest.raises(InvalidInput, match="policy"):
        claim_next(session=session, queue_name="empty", reviewer="policy:me")
    with pytest.raises(InvalidInput, match="lasts"):
        claim_next(session=session, queue_name="empty", reviewer="a", lease=timedelta(days=1))
    with pytest.raises(Conflict, match="exists"):
        create_queue(session=session, name="empty", actor="admin")
    with pytest.raises(InvalidInput, match="queue names"):
        create_queue(session=session, name="-bad", actor="admin")
