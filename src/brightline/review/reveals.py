"""Reveals: the only way an item becomes ``viewed_by_person``, and each reviewer's daily exposure.

The UI shows items blurred; a reviewer who un-blurs (or opens at full resolution) one calls
:func:`record_reveal`. That is both the evidence behind ``fileViewedByEsp=true`` in a report and
the count behind wellbeing limits (DOMAIN.md §7). Full resolution needs a reason, because the
blurred or reduced view is meant to be enough for most decisions.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from brightline.errors import Conflict, InvalidInput, NotFound
from brightline.review.audit import AuditAction, audit
from brightline.review.claims import check_reviewer
from brightline.review.models import Exposure, Item
from brightline.review.upserts import dialect_insert
from brightline.storage.base import utcnow


class ExposureCapReached(Conflict):
    """The reviewer reached today's reveal limit; nothing was revealed or counted."""

    def __init__(self, cap: int) -> None:
        super().__init__(
            f"you reached today's limit of {cap} reveals; take a break, the rest of "
            "the queue stays for the team (the limit resets at 00:00 UTC)"
        )
        self.cap = cap


def _count_exposure(
    session: Session, reviewer: str, day: date, full_resolution: bool, daily_cap: int | None
) -> int:
    """Add one reveal to today's count, unless that would pass the cap; returns the new count.

    One upsert whose update is conditional on the cap, so concurrent reveals by the same
    reviewer can never exceed it.
    """
    values = {
        "reviewer": reviewer,
        "day": day,
        "reveals": 1,
        "full_resolution": 1 if full_resolution else 0,
    }
    insert_row = dialect_insert(session, Exposure).values(values)
    stmt = insert_row.on_conflict_do_update(
        index_elements=["reviewer", "day"],
        set_={
            "reveals": Exposure.reveals + 1,
            "full_resolution": Exposure.full_resolution + insert_row.excluded.full_resolution,
        },
        where=(Exposure.reveals < daily_cap) if daily_cap is not None else None,
    ).returning(Exposure.reveals)
    count = session.scalar(stmt)
    if count is None:
        raise ExposureCapReached(daily_cap or 0)
    return int(count)


def count_exposure(
    *,
    session: Session,
    reviewer: str,
    daily_cap: int | None = None,
    now: datetime | None = None,
) -> int:
    """Count one reveal of something other than a review item (an investigator revealing a
    clearinghouse file) toward the person's daily exposure; returns today's count (UTC).

    The same count and cap as :func:`record_reveal`, so the wellbeing limit covers everything a
    person un-blurs in the console, whichever page it is on. The caller writes its own audit row
    (the object revealed is its own kind). Raises :class:`ExposureCapReached` at the cap.
    """
    check_reviewer(reviewer)
    if daily_cap is not None and daily_cap < 1:
        raise InvalidInput("a daily reveal cap is at least 1")
    return _count_exposure(session, reviewer, (now or utcnow()).date(), False, daily_cap)


def record_reveal(
    *,
    session: Session,
    item_id: int,
    reviewer: str,
    full_resolution: bool = False,
    reason: str | None = None,
    daily_cap: int | None = None,
    now: datetime | None = None,
) -> int:
    """Record that ``reviewer`` saw the item; returns their reveal count for today (UTC).

    Sets ``viewed_by_person`` (and who first viewed it, when); raises
    :class:`ExposureCapReached` instead when ``daily_cap`` reveals were already made today.
    """
    check_reviewer(reviewer)
    reason = reason.strip() if reason else None
    if full_resolution and not reason:
        raise InvalidInput("viewing at full resolution needs a reason")
    if daily_cap is not None and daily_cap < 1:
        raise InvalidInput("a daily reveal cap is at least 1")
    now = now or utcnow()
    if session.scalar(select(Item.id).where(Item.id == item_id)) is None:
        raise NotFound(f"no item with id {item_id}")
    count = _count_exposure(session, reviewer, now.date(), full_resolution, daily_cap)
    session.execute(
        update(Item)
        .where(Item.id == item_id, Item.viewed_by_person.is_(False))
        .values(viewed_by_person=True, first_viewed_by=reviewer, first_viewed_at=now),
        execution_options={"synchronize_session": False},
    )
    session.expire_all()
    audit(
        session=session,
        actor=reviewer,
        action=AuditAction.REVEAL,
        object_type="item",
        object_id=item_id,
        reason=reason,
        detail={"full_resolution": full_resolution, "reveals_today": count},
        at=now,
    )
    return count


def exposure(*, session: Session, reviewer: str, day: date) -> Exposure | None:
    """The reviewer's counts for one UTC day (None: nothing revealed that day)."""
    return session.get(Exposure, (reviewer, day))


def record_download(
    *,
    session: Session,
    item_id: int,
    actor: str,
    reason: str,
    now: datetime | None = None,
) -> None:
    """Audit a download of an item's file (the evidence store serves it; this records it).

    A download is not a view: it does not set ``viewed_by_person``. Whoever opens the file
    afterwards records a reveal.
    """
    if not reason.strip():
        raise InvalidInput("downloading an item's file needs a reason")
    if session.scalar(select(Item.id).where(Item.id == item_id)) is None:
        raise NotFound(f"no item with id {item_id}")
    audit(
        session=session,
        actor=actor,
        action=AuditAction.DOWNLOAD,
        object_type="item",
        object_id=item_id,
        reason=reason.strip(),
        at=now or utcnow(),
    )
