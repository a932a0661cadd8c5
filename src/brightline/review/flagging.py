"""Flagging content: subjects, their cases, items, and near-duplicate grouping into jobs.

One open case per subject gathers everything flagged for that user; a flag after the case was
closed opens a new case, so a user can be reviewed (and reported) again. Each item joins a job:
an open job that already holds the same SHA-256 or a PDQ hash within the grouping threshold
(across the whole queue, whichever user it was flagged for), else a new job routed by the rules.
A reviewer then decides each image once, and the decision applies to the group.

Items matched only by trusted banks are confirmed by policy on the spot (see :mod:`.policy`) and
never join a group: a policy decision is about exactly those matches.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case as sql_case
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from brightline.banks.models import BankEntry
from brightline.errors import Conflict, InvalidInput, NotFound
from brightline.matchlog.models import MatchEvent
from brightline.review.audit import AuditAction, audit
from brightline.review.decisions import apply_policy_confirmation
from brightline.review.models import (
    Case,
    CaseStatus,
    Item,
    ItemMatch,
    Job,
    JobStatus,
    Subject,
)
from brightline.review.policy import TRUSTED_BANKS_POLICY, FlagMatch, policy_classification
from brightline.review.routing import RoutingFacts, route
from brightline.review.upserts import insert_ignoring_conflict
from brightline.storage.base import utcnow

DEFAULT_GROUPING_THRESHOLD = 16
"""PDQ distance within which two flagged items count as the same image for review.

Tighter than the matching threshold (31): grouping makes one decision stand for content nobody
looked at, so it should only join images that are near-certainly the same picture.
"""

SYSTEM_ACTOR = "system"
_HEX = {"sha256": 64, "md5": 32, "sha1": 40, "pdq": 64}
_CODE = re.compile(r"[a-z0-9][a-z0-9_.\-]{0,39}")


@dataclass(frozen=True, slots=True)
class SubjectRef:
    """A platform user as the platform identifies them; the optional names are stored as given."""

    service: str
    platform_user_id: str
    display_name: str | None = None
    screen_name: str | None = None
    profile_url: str | None = None


@dataclass(frozen=True, slots=True)
class ContentFacts:
    """What is known about one flagged piece of content: hashes and handles, never bytes."""

    sha256: str
    media_type: str
    md5: str | None = None
    sha1: str | None = None
    pdq: str | None = None
    media_ref: str | None = None
    uploaded_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Flagged:
    """What :func:`flag_content` did."""

    case: Case
    item: Item
    job: Job
    new_case: bool
    new_item: bool
    grouped: bool
    """The item joined an existing job (a near-duplicate or the same file)."""
    auto_confirmed: bool


def _hex(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if len(lowered) != _HEX[name] or not all(c in "0123456789abcdef" for c in lowered):
        raise InvalidInput(f"{name} must be {_HEX[name]} hexadecimal characters")
    return lowered


def _check_content(content: ContentFacts) -> ContentFacts:
    media_type = content.media_type.strip()
    if not media_type or len(media_type) > 100:
        raise InvalidInput("media_type must be 1 to 100 characters")
    if content.media_ref is not None and len(content.media_ref) > 2000:
        raise InvalidInput("media_ref is at most 2000 characters")
    if content.uploaded_at is not None and content.uploaded_at.tzinfo is None:
        raise InvalidInput("uploaded_at must be timezone-aware")
    return ContentFacts(
        sha256=_hex(content.sha256, "sha256") or "",
        media_type=media_type,
        md5=_hex(content.md5, "md5"),
        sha1=_hex(content.sha1, "sha1"),
        pdq=_hex(content.pdq, "pdq"),
        media_ref=content.media_ref,
        uploaded_at=content.uploaded_at,
    )


def _check_subject(subject: SubjectRef) -> SubjectRef:
    if not subject.service.strip() or len(subject.service) > 200:
        raise InvalidInput("a subject's service name is 1 to 200 characters")
    if not subject.platform_user_id.strip() or len(subject.platform_user_id) > 200:
        raise InvalidInput("a subject's platform user id is 1 to 200 characters")
    for name, value, limit in (
        ("display_name", subject.display_name, 500),
        ("screen_name", subject.screen_name, 500),
        ("profile_url", subject.profile_url, 2000),
    ):
        if value is not None and len(value) > limit:
            raise InvalidInput(f"{name} is at most {limit} characters")
    return subject


def find_subject(*, session: Session, service: str, platform_user_id: str) -> Subject:
    subject = session.scalar(
        select(Subject).where(
            Subject.service == service, Subject.platform_user_id == platform_user_id
        )
    )
    if subject is None:
        raise NotFound("no such subject")
    return subject


def _subject(session: Session, ref: SubjectRef, now: datetime) -> Subject:
    insert_ignoring_conflict(
        session,
        Subject,
        {
            "service": ref.service,
            "platform_user_id": ref.platform_user_id,
            "display_name": ref.display_name,
            "screen_name": ref.screen_name,
            "profile_url": ref.profile_url,
            "created_at": now,
        },
    )
    subject = find_subject(
        session=session, service=ref.service, platform_user_id=ref.platform_user_id
    )
    # The platform's latest word on names wins; a flag without names keeps the known ones.
    for name in ("display_name", "screen_name", "profile_url"):
        given = getattr(ref, name)
        if given is not None and getattr(subject, name) != given:
            setattr(subject, name, given)
    return subject


def open_case_for(*, session: Session, subject_id: int) -> Case | None:
    return session.scalar(
        select(Case).where(Case.subject_id == subject_id, Case.status == CaseStatus.OPEN.value)
    )


def _open_case(session: Session, subject: Subject, now: datetime) -> tuple[Case, bool]:
    # The partial unique index makes this safe against a concurrent flag for the same user.
    created = insert_ignoring_conflict(
        session,
        Case,
        {
            "subject_id": subject.id,
            "status": CaseStatus.OPEN.value,
            "opened_at": now,
            "urgent": False,
        },
    )
    case = open_case_for(session=session, subject_id=subject.id)
    if case is None:  # inserted or found just above, in this transaction
        raise Conflict("the subject's open case disappeared; try again")
    if created:
        audit(
            session=session,
            actor=SYSTEM_ACTOR,
            action=AuditAction.CASE_OPEN,
            object_type="case",
            object_id=case.id,
            detail={"subject_id": subject.id},
            at=now,
        )
    return case, created


def pdq_distance(left: str, right: str) -> int:
    return (int(left, 16) ^ int(right, 16)).bit_count()


def _near_duplicate_job(session: Session, content: ContentFacts, threshold: int) -> Job | None:
    """The open job holding the same file, else the nearest PDQ within ``threshold``.

    A linear scan over open items' PDQ hashes: the review backlog is thousands, not millions.
    Ties go to the oldest job, so a group's first reviewer-facing image stays its anchor.
    """
    same_file = session.scalar(
        select(Item.job_id)
        .join(Job, Job.id == Item.job_id)
        .where(Job.status == JobStatus.OPEN.value, Item.sha256 == content.sha256)
        .order_by(Job.created_at, Job.id)
        .limit(1)
    )
    if same_file is not None:
        return session.get(Job, same_file)
    if content.pdq is None:
        return None
    open_hashes = (
        select(Item.job_id, Item.pdq)
        .join(Job, Job.id == Item.job_id)
        .where(Job.status == JobStatus.OPEN.value, Item.pdq.is_not(None))
        .order_by(Job.created_at, Job.id)
    )
    best: tuple[int, int] | None = None
    for job_id, pdq in session.execute(open_hashes):
        if pdq is None:  # excluded by the query; keeps the type checker informed
            continue
        distance = pdq_distance(content.pdq, pdq)
        if distance <= threshold and (best is None or distance < best[0]):
            best = (distance, job_id)
    return session.get(Job, best[1]) if best is not None else None


def _join(session: Session, job_id: int, priority: int) -> bool:
    """Touch the job's row while it is still open (raising its priority to ``priority``).

    The UPDATE locks the row, so a decision on the job either commits first (then this changes
    nothing and the item starts a job of its own) or waits for this flag and then settles the new
    item with the rest: an item can never be left undecided inside a decided job.
    """
    changed = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.OPEN.value)
        .values(priority=sql_case((Job.priority < priority, priority), else_=Job.priority)),
        execution_options={"synchronize_session": False},
    )
    session.expire_all()
    return changed.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def _add_matches(session: Session, item_id: int, matches: Sequence[FlagMatch]) -> None:
    if not matches:
        return
    session.execute(
        insert(ItemMatch),
        [
            {
                "item_id": item_id,
                "match_event_id": match.match_event_id,
                "bank_id": match.bank_id,
                "bank_name": match.bank_name,
                "entry_id": match.entry_id,
                "signal_type": match.signal_type,
                "distance": match.distance,
                "classification": match.classification,
            }
            for match in matches
        ],
    )


def flag_content(
    *,
    session: Session,
    subject: SubjectRef,
    content: ContentFacts,
    matches: Sequence[FlagMatch],
    source: str,
    priority: int = 0,
    grouping_threshold: int = DEFAULT_GROUPING_THRESHOLD,
    now: datetime | None = None,
) -> Flagged:
    """Put flagged content in front of reviewers (or confirm it by policy); returns what happened.

    Flagging the same file again for the same user's open case adds the new matches to the
    existing item instead of creating a second one.
    """
    subject = _check_subject(subject)
    content = _check_content(content)
    if not _CODE.fullmatch(source):
        raise InvalidInput("source is a short lowercase code such as 'upload' or 'report'")
    if not 0 <= grouping_threshold <= 63:
        raise InvalidInput("the grouping threshold is a PDQ distance between 0 and 63")
    now = now or utcnow()

    subject_row = _subject(session, subject, now)
    case, new_case = _open_case(session, subject_row, now)
    item = session.scalar(
        select(Item).where(Item.case_id == case.id, Item.sha256 == content.sha256)
    )
    if item is not None:
        return _reflag(session, case, item, matches, source, priority, now)

    classification = policy_classification(session=session, matches=matches)
    job = None
    if classification is None:
        job = _near_duplicate_job(session, content, grouping_threshold)
        if job is not None and not _join(session, job.id, priority):
            job = None
    grouped = job is not None
    if job is None:
        queue = route(
            session=session,
            facts=RoutingFacts(
                bank_names=frozenset(m.bank_name for m in matches if m.bank_name),
                classifications=frozenset(m.classification for m in matches if m.classification),
                signal_types=frozenset(m.signal_type for m in matches),
                source=source,
                priority=priority,
            ),
        )
        job = Job(
            queue_id=queue.id,
            status=JobStatus.OPEN.value,
            priority=priority,
            created_at=now,
        )
        session.add(job)
        session.flush()

    item = Item(
        case_id=case.id,
        job_id=job.id,
        sha256=content.sha256,
        md5=content.md5,
        sha1=content.sha1,
        pdq=content.pdq,
        media_type=content.media_type,
        media_ref=content.media_ref,
        uploaded_at=content.uploaded_at,
        source=source,
        priority=priority,
        flagged_at=now,
        viewed_by_person=False,
        annotations="",
        decided_via_group=False,
    )
    session.add(item)
    session.flush()
    if not grouped:
        job.representative_item_id = item.id
    _add_matches(session, item.id, matches)
    _audit_flag(session, item, matches, grouped, now)

    if classification is not None:
        apply_policy_confirmation(
            session=session,
            job_id=job.id,
            classification=classification,
            policy=TRUSTED_BANKS_POLICY,
            now=now,
        )
    session.refresh(job)
    session.refresh(item)
    return Flagged(
        case=case,
        item=item,
        job=job,
        new_case=new_case,
        new_item=True,
        grouped=grouped,
        auto_confirmed=classification is not None,
    )


def _reflag(
    session: Session,
    case: Case,
    item: Item,
    matches: Sequence[FlagMatch],
    source: str,
    priority: int,
    now: datetime,
) -> Flagged:
    """The same file again for the same case: remember the new matches, raise the priority."""
    _add_matches(session, item.id, matches)
    if priority > item.priority:
        item.priority = priority
        session.execute(
            update(Job)
            .where(Job.id == item.job_id, Job.priority < priority)
            .values(priority=priority),
            execution_options={"synchronize_session": False},
        )
    _audit_flag(session, item, matches, True, now, source=source)
    session.flush()
    job = session.get(Job, item.job_id)
    if job is None:  # items always reference an existing job (foreign key)
        raise NotFound(f"no job with id {item.job_id}")
    session.refresh(job)
    return Flagged(
        case=case,
        item=item,
        job=job,
        new_case=False,
        new_item=False,
        grouped=True,
        auto_confirmed=False,
    )


def _audit_flag(
    session: Session,
    item: Item,
    matches: Sequence[FlagMatch],
    grouped: bool,
    now: datetime,
    *,
    source: str | None = None,
) -> None:
    audit(
        session=session,
        actor=SYSTEM_ACTOR,
        action=AuditAction.FLAG,
        object_type="item",
        object_id=item.id,
        detail={
            "case_id": item.case_id,
            "job_id": item.job_id,
            "source": source or item.source,
            "grouped": grouped,
            "match_event_ids": [m.match_event_id for m in matches if m.match_event_id],
            "entry_ids": [m.entry_id for m in matches if m.entry_id is not None],
        },
        at=now,
    )


def flag_from_match_events(
    *,
    session: Session,
    subject: SubjectRef,
    content: ContentFacts,
    events: Sequence[MatchEvent],
    source: str | None = None,
    priority: int = 0,
    grouping_threshold: int = DEFAULT_GROUPING_THRESHOLD,
    now: datetime | None = None,
) -> Flagged:
    """:func:`flag_content` for rows of the match log; classifications come from the entries.

    Refuses events recorded for other content (their ``content_sha256`` differs).
    """
    if not events:
        raise InvalidInput("flagging from the match log needs at least one match event")
    sha256 = (content.sha256 or "").strip().lower()
    if any(e.content_sha256 is not None and e.content_sha256 != sha256 for e in events):
        raise InvalidInput("a match event was recorded for different content")
    entry_ids = {e.entry_id for e in events}
    classifications: dict[int, str | None] = dict(
        session.execute(
            select(BankEntry.id, BankEntry.classification).where(BankEntry.id.in_(entry_ids))
        ).all()
    )
    matches = [
        FlagMatch(
            signal_type=e.signal_type,
            bank_id=e.bank_id,
            bank_name=e.bank_name,
            entry_id=e.entry_id,
            distance=e.distance,
            classification=classifications.get(e.entry_id),
            match_event_id=e.id,
        )
        for e in events
    ]
    return flag_content(
        session=session,
        subject=subject,
        content=content,
        matches=matches,
        source=source or events[0].source,
        priority=priority,
        grouping_threshold=grouping_threshold,
        now=now,
    )


def get_case(*, session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case with id {case_id}")
    return case


def case_items(*, session: Session, case_id: int) -> list[Item]:
    return list(session.scalars(select(Item).where(Item.case_id == case_id).order_by(Item.id)))


def job_items(*, session: Session, job_id: int) -> list[Item]:
    """The job's items, its representative first."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job with id {job_id}")
    items = session.scalars(select(Item).where(Item.job_id == job_id).order_by(Item.id))
    return sorted(items, key=lambda item: item.id != job.representative_item_id)


def close_case(
    *,
    session: Session,
    case_id: int,
    actor: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> Case:
    """Close a case whose items are all decided; the next flag for the user opens a new one."""
    now = now or utcnow()
    case = get_case(session=session, case_id=case_id)
    if case.status != CaseStatus.OPEN.value:
        raise Conflict(f"case {case_id} is already closed")
    undecided = session.scalar(
        select(func.count()).where(Item.case_id == case_id, Item.decision.is_(None))
    )
    if undecided:
        raise Conflict(f"case {case_id} still has {undecided} undecided item(s)")
    changed = session.execute(
        update(Case)
        .where(Case.id == case_id, Case.status == CaseStatus.OPEN.value)
        .values(status=CaseStatus.CLOSED.value, closed_at=now, closed_by=actor),
        execution_options={"synchronize_session": False},
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"case {case_id} is already closed")
    audit(
        session=session,
        actor=actor,
        action=AuditAction.CASE_CLOSE,
        object_type="case",
        object_id=case_id,
        reason=reason,
        at=now,
    )
    session.refresh(case)
    return case
