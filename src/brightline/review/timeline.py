"""A subject's history, oldest first: cases opened and closed, items flagged, decisions made.

Decisions are listed for every job that holds one of the subject's items, including second
opinions and policy confirmations, so a reviewer (or a report's ``priorCTReports`` later) sees
the whole story across cases, not only the current one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from brightline.errors import NotFound
from brightline.review.models import Case, Decision, Item, Subject


class TimelineKind(enum.StrEnum):
    CASE_OPENED = "case_opened"
    ITEM_FLAGGED = "item_flagged"
    DECISION = "decision"
    CASE_CLOSED = "case_closed"


_ORDER = {kind: rank for rank, kind in enumerate(TimelineKind)}


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    at: datetime
    kind: TimelineKind
    case_id: int
    item_id: int | None = None
    job_id: int | None = None
    decision_id: int | None = None
    decision: str | None = None
    """The decision's kind (``confirm``, ``false_positive``, ...) for decision events."""
    actor: str | None = None


def timeline(*, session: Session, subject_id: int) -> list[TimelineEvent]:
    """Everything that happened to ``subject_id``'s cases, in time order."""
    if session.get(Subject, subject_id) is None:
        raise NotFound(f"no subject with id {subject_id}")
    events: list[TimelineEvent] = []
    cases = list(session.scalars(select(Case).where(Case.subject_id == subject_id)))
    for case in cases:
        events.append(
            TimelineEvent(at=case.opened_at, kind=TimelineKind.CASE_OPENED, case_id=case.id)
        )
        if case.closed_at is not None:
            events.append(
                TimelineEvent(
                    at=case.closed_at,
                    kind=TimelineKind.CASE_CLOSED,
                    case_id=case.id,
                    actor=case.closed_by,
                )
            )
    case_ids = [case.id for case in cases]
    items = session.execute(
        select(Item.id, Item.case_id, Item.job_id, Item.flagged_at).where(
            Item.case_id.in_(case_ids)
        )
    ).all()
    for item_id, case_id, job_id, flagged_at in items:
        events.append(
            TimelineEvent(
                at=flagged_at,
                kind=TimelineKind.ITEM_FLAGGED,
                case_id=case_id,
                item_id=item_id,
                job_id=job_id,
            )
        )
    decided = session.execute(
        select(Decision, Item.case_id)
        .join(Item, Item.job_id == Decision.job_id)
        .where(Item.case_id.in_(case_ids))
        .distinct()
    ).all()
    for decision, case_id in decided:
        events.append(
            TimelineEvent(
                at=decision.applied_at or decision.created_at,
                kind=TimelineKind.DECISION,
                case_id=case_id,
                job_id=decision.job_id,
                decision_id=decision.id,
                decision=decision.kind,
                actor=decision.decided_by,
            )
        )
    return sorted(
        events,
        key=lambda e: (e.at, _ORDER[e.kind], e.case_id, e.item_id or 0, e.decision_id or 0),
    )
