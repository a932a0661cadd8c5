"""Claiming jobs: an exclusive lock that expires, taken and given up by conditional UPDATEs.

Every change to a lock is one ``UPDATE ... WHERE`` that states what the row must look like
(open, unlocked or lock expired; or locked by this reviewer with this token). Whoever's UPDATE
changes the row holds it; the other gets a row count of 0. That is safe across processes on both
databases without ``SELECT ... FOR UPDATE``: PostgreSQL re-checks the WHERE against the committed
row after waiting for a concurrent writer, and SQLite runs one writer at a time.

The clock is a parameter (``now``) so that expiry is tested without waiting.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session

from brightline.errors import Conflict, InvalidInput, NotFound
from brightline.review.audit import AuditAction, audit
from brightline.review.models import ExclusionCause, Job, JobExclusion, JobStatus, Queue
from brightline.review.routing import get_queue
from brightline.review.upserts import insert_ignoring_conflict
from brightline.storage.base import utcnow

DEFAULT_LEASE = timedelta(minutes=15)
MAX_LEASE = timedelta(hours=4)
_CANDIDATES = 20
_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Claim:
    """Proof that ``reviewer`` holds ``job_id`` until ``locked_until``; pass ``token`` back."""

    job_id: int
    reviewer: str
    token: str
    locked_until: datetime


def check_reviewer(reviewer: str) -> str:
    """Reviewers are account names for now (a later piece joins them to local accounts)."""
    if not reviewer.strip() or len(reviewer) > 200:
        raise InvalidInput("a reviewer is an account name of 1 to 200 characters")
    if reviewer.startswith("policy:"):
        raise InvalidInput("'policy:' names are reserved for automatic decisions")
    return reviewer


def _check_lease(lease: timedelta) -> timedelta:
    if not timedelta(seconds=1) <= lease <= MAX_LEASE:
        raise InvalidInput(f"a claim lasts between 1 second and {MAX_LEASE}")
    return lease


def _claimable(now: datetime) -> ColumnElement[bool]:
    return and_(
        Job.status == JobStatus.OPEN.value,
        or_(Job.locked_until.is_(None), Job.locked_until <= now),
    )


def holds_lock(*, reviewer: str, token: str, now: datetime) -> ColumnElement[bool]:
    """The WHERE clause that proves a claim is still valid (used by decide, release, skip)."""
    return and_(
        Job.status == JobStatus.OPEN.value,
        Job.locked_by == reviewer,
        Job.lock_token == token,
        Job.locked_until > now,
    )


def refusal(*, session: Session, job_id: int, reviewer: str, token: str, now: datetime) -> Conflict:
    """Explain, from the row as it is now, why a claim-holder's UPDATE changed nothing."""
    session.expire_all()
    job = session.get(Job, job_id)
    if job is None:
        return Conflict(f"job {job_id} does not exist")
    if job.status == JobStatus.DECIDED.value:
        return Conflict(f"job {job_id} was already decided")
    held = job.locked_until is not None and job.locked_until > now
    if held and (job.locked_by != reviewer or job.lock_token != token):
        return Conflict(f"job {job_id} is claimed by someone else (or by another of your tabs)")
    if job.lock_token == token and not held:
        return Conflict(f"your claim on job {job_id} expired; claim it again")
    return Conflict(
        f"you do not hold a claim on job {job_id} (expired or released); claim it again"
    )


def _take(
    *, session: Session, job_id: int, reviewer: str, now: datetime, lease: timedelta
) -> Claim | None:
    token = secrets.token_urlsafe(24)
    until = now + lease
    changed = session.execute(
        update(Job)
        .where(Job.id == job_id, _claimable(now))
        .values(locked_by=reviewer, lock_token=token, locked_until=until),
        execution_options={"synchronize_session": False},
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    audit(
        session=session,
        actor=reviewer,
        action=AuditAction.CLAIM,
        object_type="job",
        object_id=job_id,
        detail={"lease_seconds": int(lease.total_seconds())},
        at=now,
    )
    return Claim(job_id=job_id, reviewer=reviewer, token=token, locked_until=until)


def claim_next(
    *,
    session: Session,
    queue_name: str,
    reviewer: str,
    now: datetime | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> Claim | None:
    """Lock the queue's next job for ``reviewer``: highest priority first, then oldest.

    Jobs the reviewer skipped or asked a second opinion on are never handed back to them.
    Returns None when nothing is claimable. Commit promptly: until then other claimers wait.
    """
    check_reviewer(reviewer)
    _check_lease(lease)
    now = now or utcnow()
    queue = get_queue(session=session, name=queue_name)
    excluded = exists().where(JobExclusion.job_id == Job.id, JobExclusion.reviewer == reviewer)
    candidates = (
        select(Job.id)
        .where(Job.queue_id == queue.id, _claimable(now), ~excluded)
        .order_by(Job.priority.desc(), Job.created_at, Job.id)
        .limit(_CANDIDATES)
    )
    for _ in range(_ATTEMPTS):
        ids = list(session.scalars(candidates))
        if not ids:
            return None
        for job_id in ids:
            claim = _take(session=session, job_id=job_id, reviewer=reviewer, now=now, lease=lease)
            if claim is not None:
                return claim
    return None


def claim_job(
    *,
    session: Session,
    job_id: int,
    reviewer: str,
    now: datetime | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> Claim:
    """Lock one particular job (opened from a case view); Conflict if it is not claimable.

    A reviewer may come back to a job they skipped, but not to one they asked a second
    opinion on: that would let the first opinion decide after all.
    """
    check_reviewer(reviewer)
    _check_lease(lease)
    now = now or utcnow()
    if session.get(Job, job_id) is None:
        raise NotFound(f"no job with id {job_id}")
    asked = session.scalar(
        select(JobExclusion.cause).where(
            JobExclusion.job_id == job_id,
            JobExclusion.reviewer == reviewer,
            JobExclusion.cause == ExclusionCause.SECOND_OPINION.value,
        )
    )
    if asked is not None:
        raise Conflict(f"you asked for a second opinion on job {job_id}: someone else decides it")
    claim = _take(session=session, job_id=job_id, reviewer=reviewer, now=now, lease=lease)
    if claim is None:
        raise refusal(session=session, job_id=job_id, reviewer=reviewer, token="", now=now)
    return claim


def _give_up(*, session: Session, job_id: int, reviewer: str, token: str, now: datetime) -> None:
    changed = session.execute(
        update(Job)
        .where(Job.id == job_id, holds_lock(reviewer=reviewer, token=token, now=now))
        .values(locked_by=None, lock_token=None, locked_until=None),
        execution_options={"synchronize_session": False},
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise refusal(session=session, job_id=job_id, reviewer=reviewer, token=token, now=now)
    session.expire_all()


def release(
    *, session: Session, job_id: int, reviewer: str, token: str, now: datetime | None = None
) -> None:
    """Give a claimed job back to its queue, undecided."""
    now = now or utcnow()
    _give_up(session=session, job_id=job_id, reviewer=reviewer, token=token, now=now)
    audit(
        session=session,
        actor=reviewer,
        action=AuditAction.RELEASE,
        object_type="job",
        object_id=job_id,
        at=now,
    )


def renew(
    *,
    session: Session,
    job_id: int,
    reviewer: str,
    token: str,
    now: datetime | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> Claim:
    """Extend a claim its holder is still working on, to ``lease`` from now; same token.

    Conditional on the claim still being valid, like release: a lapsed claim is never revived,
    because someone else may already have taken the job. Not audited: the claim was, the
    decision or release that ends it will be, and a row per page view would bury both.
    """
    check_reviewer(reviewer)
    _check_lease(lease)
    now = now or utcnow()
    until = now + lease
    changed = session.execute(
        update(Job)
        .where(Job.id == job_id, holds_lock(reviewer=reviewer, token=token, now=now))
        .values(locked_until=until),
        execution_options={"synchronize_session": False},
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise refusal(session=session, job_id=job_id, reviewer=reviewer, token=token, now=now)
    session.expire_all()
    return Claim(job_id=job_id, reviewer=reviewer, token=token, locked_until=until)


def exclude_reviewer(
    *, session: Session, job_id: int, reviewer: str, cause: ExclusionCause, now: datetime
) -> None:
    """Never hand ``job_id`` to ``reviewer`` again (idempotent)."""
    values = {"job_id": job_id, "reviewer": reviewer, "cause": cause.value, "created_at": now}
    insert_ignoring_conflict(session, JobExclusion, values)


def skip(
    *,
    session: Session,
    job_id: int,
    reviewer: str,
    token: str,
    reason: str,
    now: datetime | None = None,
) -> None:
    """Give a job back without deciding it, saying why; it will not be offered to you again."""
    if not reason.strip():
        raise InvalidInput("skipping a job needs a reason")
    now = now or utcnow()
    _give_up(session=session, job_id=job_id, reviewer=reviewer, token=token, now=now)
    exclude_reviewer(
        session=session, job_id=job_id, reviewer=reviewer, cause=ExclusionCause.SKIP, now=now
    )
    audit(
        session=session,
        actor=reviewer,
        action=AuditAction.SKIP,
        object_type="job",
        object_id=job_id,
        reason=reason.strip(),
        at=now,
    )


@dataclass(frozen=True, slots=True)
class QueueDepth:
    """Open jobs in one queue: waiting to be claimed, and claimed right now."""

    queue: str
    waiting: int
    claimed: int


def queue_depths(*, session: Session, now: datetime | None = None) -> list[QueueDepth]:
    """Every queue (empty ones too) with its open jobs, by name: what a queue overview shows."""
    now = now or utcnow()
    held = and_(Job.locked_until.is_not(None), Job.locked_until > now)
    rows = session.execute(
        select(
            Queue.name,
            func.count(Job.id).filter(~held),
            func.count(Job.id).filter(held),
        )
        .outerjoin(Job, and_(Job.queue_id == Queue.id, Job.status == JobStatus.OPEN.value))
        .group_by(Queue.name)
        .order_by(Queue.name)
    )
    return [
        QueueDepth(queue=name, waiting=waiting, claimed=claimed) for name, waiting, claimed in rows
    ]
