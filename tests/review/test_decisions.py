"""Decisions: idempotent, applied once, refused on stale or foreign claims; their effects."""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from brightline.errors import Conflict, InvalidInput
from brightline.review import (
    TRUSTED_BANKS_POLICY,
    AuditAction,
    Claim,
    Decision,
    DecisionKind,
    DecisionStatus,
    bank_precision,
    claim_job,
    claim_next,
    decide,
    disputed_entry_ids,
    distrust_bank,
    get_case,
    job_items,
    list_trusted_banks,
    query_audit,
    trust_bank,
)
from brightline.review.models import Item
from tests.factories import flip_bits, random_pdq
from tests.review.helpers import NOW, flag, make_bank, match


def claimed(session: Session, reviewer: str = "alice") -> Claim:
    claim = claim_next(session=session, queue_name="default", reviewer=reviewer, now=NOW)
    assert claim is not None
    return claim


def confirm(session: Session, claim: Claim, key: str, reviewer: str = "alice") -> Decision:
    return decide(
        session=session,
        job_id=claim.job_id,
        reviewer=reviewer,
        lock_token=claim.token,
        kind=DecisionKind.CONFIRM,
        classification="A2",
        idempotency_key=key,
        now=NOW,
    )


def test_a_double_submission_returns_the_first_decision(session: Session) -> None:
    flag(session, 1, 1)
    claim = claimed(session)
    first = confirm(session, claim, "key-1")
    again = confirm(session, claim, "key-1")
    assert again.id == first.id
    assert first.status == DecisionStatus.APPLIED
    assert session.scalar(select(func.count()).select_from(Decision)) == 1
    assert len(query_audit(session=session, action=AuditAction.DECIDE)) == 1
    with pytest.raises(Conflict, match="already decided"):
        confirm(session, claim, "key-2")
    with pytest.raises(Conflict, match="different decision"):
        decide(
            session=session,
            job_id=claim.job_id,
            reviewer="alice",
            lock_token=claim.token,
            kind=DecisionKind.FALSE_POSITIVE,
            idempotency_key="key-1",
            now=NOW,
        )


def test_stale_and_foreign_claims_are_refused(session: Session) -> None:
    flag(session, 1, 1)
    claim = claimed(session)
    with pytest.raises(Conflict, match="someone else"):
        confirm(session, claim, "k-bob", reviewer="bob")
    expired = decide
    with pytest.raises(Conflict, match="expired"):
        expired(
            session=session,
            job_id=claim.job_id,
            reviewer="alice",
            lock_token=claim.token,
            kind=DecisionKind.CONFIRM,
            classification="A2",
            idempotency_key="k-late",
            now=NOW + timedelta(hours=1),
        )
    assert session.scalar(select(func.count()).select_from(Decision)) == 0
    assert session.scalar(select(Item.decision)) is None


def test_concurrent_decisions_on_one_job_apply_once(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        flag(session, 1, 1)
        claim = claimed(session)
    start = threading.Barrier(4)
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit(key: str) -> None:
        start.wait()
        try:
            with sessions.begin() as session:
                decision = confirm(session, claim, key)
                outcome = f"applied:{decision.idempotency_key}"
        except Conflict as exc:
            outcome = f"conflict:{exc}"
        with lock:
            outcomes.append(outcome)

    # Two double-clicks of one decision and two different decisions, all at once.
    keys = ["same", "same", "other-1", "other-2"]
    threads = [threading.Thread(target=submit, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with sessions() as session:
        (decision,) = session.scalars(select(Decision))
        item = session.scalar(select(Item))
        assert item is not None
        assert item.decision_id == decision.id
    applied = [o for o in outcomes if o.startswith("applied")]
    conflicts = [o for o in outcomes if o.startswith("conflict")]
    assert all(o == f"applied:{decision.idempotency_key}" for o in applied)
    assert len(applied) == (2 if decision.idempotency_key == "same" else 1)
    assert len(conflicts) == 4 - len(applied)
    assert all("already decided" in c for c in conflicts)


def test_false_positive_disputes_the_entries_and_counts_against_the_bank(session: Session) -> None:
    entries = make_bank(session, "bank-a")
    other = make_bank(session, "bank-b", seed=2)
    flag(session, 1, 1, [match(entries[0], "bank-a"), match(other[0], "bank-b")])
    flag(session, 2, 2, [match(entries[1], "bank-a")])
    first = claimed(session)
    decide(
        session=session,
        job_id=first.job_id,
        reviewer="alice",
        lock_token=first.token,
        kind=DecisionKind.FALSE_POSITIVE,
        idempotency_key="fp",
        now=NOW,
    )
    confirm(session, claimed(session), "ok")
    assert disputed_entry_ids(session=session) == {entries[0].id, other[0].id}
    assert disputed_entry_ids(session=session, entry_ids=[entries[1].id]) == set()
    counts = {p.bank_name: (p.confirmed, p.false_positive) for p in bank_precision(session=session)}
    assert counts == {"bank-a": (1, 1), "bank-b": (0, 1)}
    assert {p.bank_name: p.precision for p in bank_precision(session=session)} == {
        "bank-a": 0.5,
        "bank-b": 0.0,
    }


def test_escalation_marks_the_case_urgent_and_keeps_the_reason(session: Session) -> None:
    flagged = flag(session, 1, 1)
    claim = claimed(session)
    with pytest.raises(InvalidInput, match="reason"):
        decide(
            session=session,
            job_id=claim.job_id,
            reviewer="alice",
            lock_token=claim.token,
            kind=DecisionKind.ESCALATE,
            classification="A1",
            idempotency_key="esc",
            now=NOW,
        )
    decide(
        session=session,
        job_id=claim.job_id,
        reviewer="alice",
        lock_token=claim.token,
        kind=DecisionKind.ESCALATE,
        classification="A1",
        annotations=["infant", "physicalHarm"],
        reason="placeholder reason: ongoing risk indicated",
        idempotency_key="esc",
        now=NOW,
    )
    case = get_case(session=session, case_id=flagged.case.id)
    assert case.urgent
    assert case.urgent_reason == "placeholder reason: ongoing risk indicated"
    (item,) = job_items(session=session, job_id=flagged.job.id)
    assert (item.decision, item.classification, item.annotations) == (
        "escalate",
        "A1",
        "infant,physicalHarm",
    )


def test_a_second_opinion_goes_to_someone_else(session: Session) -> None:
    flagged = flag(session, 1, 1)
    claim = claimed(session)
    opinion = decide(
        session=session,
        job_id=claim.job_id,
        reviewer="alice",
        lock_token=claim.token,
        kind=DecisionKind.SECOND_OPINION,
        reason="unsure about the age",
        idempotency_key="2nd",
        now=NOW,
    )
    assert opinion.status == DecisionStatus.APPLIED
    (item,) = job_items(session=session, job_id=flagged.job.id)
    assert item.decision is None
    assert claim_next(session=session, queue_name="default", reviewer="alice", now=NOW) is None
    with pytest.raises(Conflict, match="second opinion"):
        claim_job(session=session, job_id=flagged.job.id, reviewer="alice", now=NOW)
    bob = claimed(session, "bob")
    assert bob.job_id == flagged.job.id
    confirm(session, bob, "bob-1", reviewer="bob")


@pytest.mark.parametrize(
    ("kind", "classification", "annotations", "problem"),
    [
        (DecisionKind.CONFIRM, None, [], "needs an industry classification"),
        (DecisionKind.CONFIRM, "C3", [], "unknown industry classification"),
        (DecisionKind.CONFIRM, "A1", ["notAnAnnotation"], "unknown file annotation"),
        (DecisionKind.FALSE_POSITIVE, "A1", [], "takes no classification"),
        (DecisionKind.FALSE_POSITIVE, None, ["viral"], "takes no file annotations"),
        ("approve", None, [], "unknown decision"),
    ],
)
def test_malformed_decisions_are_refused_before_anything_is_written(
    session: Session,
    kind: DecisionKind,
    classification: str | None,
    annotations: list[str],
    problem: str,
) -> None:
    flag(session, 1, 1)
    claim = claimed(session)
    with pytest.raises(InvalidInput, match=problem):
        decide(
            session=session,
            job_id=claim.job_id,
            reviewer="alice",
            lock_token=claim.token,
            kind=kind,
            classification=classification,
            annotations=annotations,
            idempotency_key="k",
            now=NOW,
        )
    assert session.scalar(select(func.count()).select_from(Decision)) == 0
    confirm(session, claim, "k")  # the claim is still good


def test_trusted_banks_confirm_without_anyone_viewing(session: Session) -> None:
    trusted = make_bank(session, "trusted", classification="A1", seed=1)
    untrusted = make_bank(session, "untrusted", classification="A1", seed=2)
    trust_bank(session=session, bank_name="trusted", actor="admin")
    assert [name for _t, name in list_trusted_banks(session=session)] == ["trusted"]
    auto = flag(session, 1, 1, [match(trusted[0], "trusted")])
    near = flag(session, 2, 2, [match(trusted[1], "trusted", distance=3)])
    mixed = flag(session, 3, 3, [match(trusted[2], "trusted"), match(untrusted[0], "untrusted")])
    assert auto.auto_confirmed
    assert not near.auto_confirmed
    assert not mixed.auto_confirmed
    item = auto.item
    assert (item.decision, item.classification, item.decided_by, item.viewed_by_person) == (
        "confirm",
        "A1",
        TRUSTED_BANKS_POLICY,
        False,
    )
    (row,) = query_audit(session=session, action=AuditAction.AUTO_CONFIRM)
    assert (row.actor, row.object_id) == (TRUSTED_BANKS_POLICY, str(auto.job.id))
    assert bank_precision(session=session) == []  # nobody checked: not a verdict
    assert claimed(session).job_id == near.job.id  # only people-needed jobs are queued
    distrust_bank(session=session, bank_name="trusted", actor="admin")
    assert not flag(session, 4, 4, [match(trusted[0], "trusted")]).auto_confirmed


def test_claiming_a_decided_job_is_refused(session: Session) -> None:
    flagged = flag(session, 1, 1)
    confirm(session, claimed(session), "k")
    with pytest.raises(Conflict, match="already decided"):
        claim_job(session=session, job_id=flagged.job.id, reviewer="bob", now=NOW)


def test_a_near_duplicate_flagged_during_a_decision_is_never_stranded(
    sessions: sessionmaker[Session],
) -> None:
    """A flag racing a decision on its group either joins before it or starts its own job."""
    rng = random.Random(5)
    base = random_pdq(rng)
    with sessions.begin() as session:
        flag(session, 1, 1, pdq=base)
        claim = claimed(session)
    flagged: list[int] = []

    def flag_near_duplicate() -> None:
        with sessions.begin() as session:
            flagged.append(flag(session, 2, 2, pdq=flip_bits(base, 2, rng)).item.id)

    with sessions.begin() as deciding:
        confirm(deciding, claim, "racing")
        flagger = threading.Thread(target=flag_near_duplicate)
        flagger.start()
        time.sleep(0.3)  # let the flagger reach the job row (it then waits for this commit)
    flagger.join()
    with sessions() as session:
        item = session.get(Item, flagged[0])
        assert item is not None
        assert item.decision is None
        assert item.job_id != claim.job_id
        assert claimed(session, "bob").job_id == item.job_id
