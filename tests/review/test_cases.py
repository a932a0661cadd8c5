"""Cases per platform user, items, near-duplicate grouping and the timeline (both databases)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from brightline.errors import Conflict, InvalidInput
from brightline.matching.service import Match
from brightline.matchlog import MatchSource, record_matches
from brightline.matchlog.models import MatchEvent
from brightline.review import (
    CaseStatus,
    ContentFacts,
    DecisionKind,
    SubjectRef,
    TimelineKind,
    case_items,
    claim_next,
    close_case,
    decide,
    flag_content,
    flag_from_match_events,
    job_items,
    record_reveal,
    timeline,
)
from brightline.review.models import Item, ItemMatch, Subject
from tests.factories import flip_bits, random_pdq
from tests.review.helpers import NOW, content, flag, make_bank, match, user


def test_one_open_case_gathers_a_users_items(session: Session) -> None:
    first = flag(session, 1, seed=1)
    second = flag(session, 1, seed=2)
    other = flag(session, 2, seed=3)
    assert first.new_case
    assert not second.new_case
    assert other.new_case
    assert first.case.id == second.case.id != other.case.id
    assert [i.id for i in case_items(session=session, case_id=first.case.id)] == [
        first.item.id,
        second.item.id,
    ]
    subject = session.get(Subject, first.case.subject_id)
    assert subject is not None
    assert subject.screen_name == "placeholder1"


def test_the_same_file_again_extends_the_item(session: Session) -> None:
    entries = make_bank(session, "bank-a")
    first = flag(session, 1, seed=1, matches=[match(entries[0], "bank-a")])
    again = flag(session, 1, seed=1, matches=[match(entries[1], "bank-a")], priority=5)
    assert not again.new_item
    assert again.item.id == first.item.id
    assert again.job.priority == 5
    reasons = session.scalars(select(ItemMatch.entry_id).where(ItemMatch.item_id == first.item.id))
    assert sorted(reasons) == [entries[0].id, entries[1].id]


def test_a_flag_after_closing_opens_a_new_case(session: Session) -> None:
    first = flag(session, 1, seed=1)
    claim = claim_next(session=session, queue_name="default", reviewer="alice", now=NOW)
    assert claim is not None
    with pytest.raises(Conflict, match="undecided"):
        close_case(session=session, case_id=first.case.id, actor="alice")
    decide(
        session=session,
        job_id=claim.job_id,
        reviewer="alice",
        lock_token=claim.token,
        kind=DecisionKind.FALSE_POSITIVE,
        idempotency_key="k1",
        now=NOW,
    )
    closed = close_case(session=session, case_id=first.case.id, actor="alice", now=NOW)
    assert closed.status == CaseStatus.CLOSED
    with pytest.raises(Conflict, match="already closed"):
        close_case(session=session, case_id=first.case.id, actor="alice")
    later = flag(session, 1, seed=1, now=NOW + timedelta(days=1))
    assert later.new_case
    assert later.case.id != first.case.id
    assert later.new_item
    session.commit()


def test_near_duplicates_share_a_job_across_users(session: Session) -> None:
    rng = random.Random(7)
    base = random_pdq(rng)
    anchor = flag(session, 1, seed=1, pdq=base)
    near = flag(session, 2, seed=2, pdq=flip_bits(base, 16, rng))
    far = flag(session, 3, seed=3, pdq=flip_bits(base, 17, rng))
    assert near.grouped
    assert near.job.id == anchor.job.id
    assert near.case.id != anchor.case.id
    assert not far.grouped
    assert far.job.id != anchor.job.id
    assert anchor.job.representative_item_id == anchor.item.id


def test_exact_files_share_a_job_even_without_pdq(session: Session) -> None:
    facts = content(1, with_pdq=False)
    one = flag_content(session=session, subject=user(1), content=facts, matches=[], source="report")
    two = flag_content(session=session, subject=user(2), content=facts, matches=[], source="report")
    assert two.grouped
    assert two.job.id == one.job.id


def test_a_group_decision_records_truthfully_who_saw_what(session: Session) -> None:
    rng = random.Random(3)
    base = random_pdq(rng)
    anchor = flag(session, 1, seed=1, pdq=base)
    member = flag(session, 2, seed=2, pdq=flip_bits(base, 4, rng))
    claim = claim_next(session=session, queue_name="default", reviewer="alice", now=NOW)
    assert claim is not None
    assert claim.job_id == anchor.job.id
    record_reveal(session=session, item_id=anchor.item.id, reviewer="alice", now=NOW)
    decide(
        session=session,
        job_id=claim.job_id,
        reviewer="alice",
        lock_token=claim.token,
        kind=DecisionKind.CONFIRM,
        classification="B2",
        annotations=["potentialMeme"],
        idempotency_key="group-1",
        now=NOW,
    )
    items = job_items(session=session, job_id=anchor.job.id)
    assert [i.id for i in items] == [anchor.item.id, member.item.id]
    seen, grouped = items
    assert (seen.viewed_by_person, seen.decided_via_group, seen.first_viewed_by) == (
        True,
        False,
        "alice",
    )
    assert (grouped.viewed_by_person, grouped.decided_via_group) == (False, True)
    for item in items:
        assert (item.decision, item.classification, item.annotations) == (
            "confirm",
            "B2",
            "potentialMeme",
        )
        assert item.decided_by == "alice"


def test_flag_from_match_events(session: Session) -> None:
    entries = make_bank(session, "bank-a", classification="A2")
    facts = content(9)
    hit = Match(
        bank="bank-a",
        bank_id=entries[0].bank_id,
        entry_id=entries[0].id,
        signal_type="pdq",
        signal_version=1,
        value=entries[0].value,
        distance=3,
        classification="A2",
        category=None,
        list_name=None,
        external_id=None,
        series=None,
    )
    ids = record_matches(
        session=session, matches=[hit], source=MatchSource.UPLOAD, content_sha256=facts.sha256
    )
    events = list(session.scalars(select(MatchEvent).where(MatchEvent.id.in_(ids))))
    flagged = flag_from_match_events(session=session, subject=user(1), content=facts, events=events)
    reasons = list(session.scalars(select(ItemMatch).where(ItemMatch.item_id == flagged.item.id)))
    assert [(r.match_event_id, r.classification, r.distance) for r in reasons] == [
        (ids[0], "A2", 3)
    ]
    assert flagged.item.source == "upload"
    with pytest.raises(InvalidInput, match="different content"):
        flag_from_match_events(session=session, subject=user(1), content=content(10), events=events)


@pytest.mark.parametrize(
    ("subject", "facts", "problem"),
    [
        (SubjectRef(service="", platform_user_id="u"), content(1), "service"),
        (SubjectRef(service="s", platform_user_id=" "), content(1), "user id"),
        (user(1), replace(content(1), sha256="xyz"), "sha256"),
        (user(1), replace(content(1), media_type=" "), "media_type"),
    ],
    ids=["no-service", "no-user", "bad-sha256", "no-media-type"],
)
def test_bad_flags_are_refused(
    session: Session, subject: SubjectRef, facts: ContentFacts, problem: str
) -> None:
    with pytest.raises(InvalidInput, match=problem):
        flag_content(session=session, subject=subject, content=facts, matches=[], source="upload")


def test_timeline_lists_cases_flags_and_decisions_in_order(session: Session) -> None:
    first = flag(session, 1, seed=1, now=NOW)
    claim = claim_next(
        session=session, queue_name="default", reviewer="alice", now=NOW + timedelta(minutes=1)
    )
    assert claim is not None
    decision = decide(
        session=session,
        job_id=claim.job_id,
        reviewer="alice",
        lock_token=claim.token,
        kind=DecisionKind.FALSE_POSITIVE,
        idempotency_key="t1",
        now=NOW + timedelta(minutes=2),
    )
    close_case(
        session=session, case_id=first.case.id, actor="alice", now=NOW + timedelta(minutes=3)
    )
    second = flag(session, 1, seed=2, now=NOW + timedelta(days=1))
    events = timeline(session=session, subject_id=first.case.subject_id)
    assert [(e.kind, e.case_id) for e in events] == [
        (TimelineKind.CASE_OPENED, first.case.id),
        (TimelineKind.ITEM_FLAGGED, first.case.id),
        (TimelineKind.DECISION, first.case.id),
        (TimelineKind.CASE_CLOSED, first.case.id),
        (TimelineKind.CASE_OPENED, second.case.id),
        (TimelineKind.ITEM_FLAGGED, second.case.id),
    ]
    assert events[2].decision_id == decision.id
    assert events[2].decision == "false_positive"
    assert session.scalar(select(Item.case_id).where(Item.id == second.item.id)) == second.case.id
