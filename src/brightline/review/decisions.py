"""Deciding a job: confirm, false positive, escalate, or ask for a second opinion.

A decision is applied exactly once. The first write of :func:`decide` is a conditional UPDATE
that closes the job only if the caller still holds a valid claim and the job is still open; a
second submission, a stale claim or a concurrent decision by someone else changes no row and is
refused with :class:`Conflict` before anything else is written. Resubmitting with the same
idempotency key (a double click, a retried request) returns the decision that was applied.

The decision row is written ``pending`` and only turned ``applied`` after every effect (items,
case urgency, disputes, precision counters, audit row) is written in the same transaction, so a
committed decision marked applied always had its effects committed with it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from brightline.banks.models import IndustryClassification
from brightline.errors import Conflict, InvalidInput, NotFound
from brightline.review.audit import AuditAction, audit
from brightline.review.claims import check_reviewer, exclude_reviewer, holds_lock, refusal
from brightline.review.models import (
    FINAL_DECISIONS,
    BankPrecision,
    Case,
    Decision,
    DecisionKind,
    DecisionStatus,
    EntryDispute,
    ExclusionCause,
    FileAnnotation,
    Item,
    ItemMatch,
    Job,
    JobStatus,
)
from brightline.review.upserts import dialect_insert
from brightline.storage.base import utcnow

MAX_KEY = 100


@dataclass(frozen=True, slots=True)
class Precision:
    """Human verdicts on items a bank flagged."""

    bank_id: int
    bank_name: str
    confirmed: int
    false_positive: int

    @property
    def precision(self) -> float | None:
        """Share of verdicts that confirmed the match; None before any verdict."""
        total = self.confirmed + self.false_positive
        return self.confirmed / total if total else None


def _classification(value: str | None, kind: DecisionKind) -> str | None:
    if kind in {DecisionKind.CONFIRM, DecisionKind.ESCALATE}:
        if value is None:
            raise InvalidInput(f"a {kind.value} decision needs an industry classification")
        try:
            return IndustryClassification(value).value
        except ValueError:
            raise InvalidInput(
                f"unknown industry classification {value!r} (A1, A2, B1 or B2)"
            ) from None
    if value is not None:
        raise InvalidInput(f"a {kind.value} decision takes no classification")
    return None


def _annotations(values: Iterable[str], kind: DecisionKind) -> str:
    chosen: list[str] = []
    for value in values:
        try:
            annotation = FileAnnotation(value).value
        except ValueError:
            known = ", ".join(a.value for a in FileAnnotation)
            raise InvalidInput(f"unknown file annotation {value!r} (known: {known})") from None
        if annotation not in chosen:
            chosen.append(annotation)
    if chosen and kind not in {DecisionKind.CONFIRM, DecisionKind.ESCALATE}:
        raise InvalidInput(f"a {kind.value} decision takes no file annotations")
    return ",".join(chosen)


def _existing(session: Session, key: str) -> Decision | None:
    return session.scalar(select(Decision).where(Decision.idempotency_key == key))


def _same_submission(
    decision: Decision, job_id: int, kind: DecisionKind, reviewer: str
) -> Decision:
    if (decision.job_id, decision.kind, decision.decided_by) != (job_id, kind.value, reviewer):
        raise Conflict("this idempotency key was already used for a different decision")
    return decision


def decide(
    *,
    session: Session,
    job_id: int,
    reviewer: str,
    lock_token: str,
    kind: DecisionKind,
    idempotency_key: str,
    classification: str | None = None,
    annotations: Sequence[str] = (),
    reason: str | None = None,
    now: datetime | None = None,
) -> Decision:
    """Decide the job ``reviewer`` holds a claim on; returns the applied decision.

    ``confirm`` and ``escalate`` need a classification (A1/A2/B1/B2) and may carry CyberTipline
    file annotations; ``escalate`` also needs the reason (it goes into the report). A
    ``second_opinion`` puts the job back in its queue for anyone but ``reviewer``.
    """
    check_reviewer(reviewer)
    try:
        kind = DecisionKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in DecisionKind)
        raise InvalidInput(f"unknown decision {kind!r} (known: {known})") from None
    if not 1 <= len(idempotency_key) <= MAX_KEY or idempotency_key.startswith("policy:"):
        raise InvalidInput(f"an idempotency key is 1 to {MAX_KEY} characters, not 'policy:...'")
    chosen_classification = _classification(classification, kind)
    chosen_annotations = _annotations(annotations, kind)
    reason = reason.strip() if reason else None
    if kind is DecisionKind.ESCALATE and not reason:
        raise InvalidInput("escalating needs the reason (it is kept for the report)")
    now = now or utcnow()

    earlier = _existing(session, idempotency_key)
    if earlier is not None:
        return _same_submission(earlier, job_id, kind, reviewer)
    if session.get(Job, job_id) is None:
        raise NotFound(f"no job with id {job_id}")

    final = kind in FINAL_DECISIONS
    closes = ({"status": JobStatus.DECIDED.value, "decided_at": now} if final else {}) | {
        "locked_by": None,
        "lock_token": None,
        "locked_until": None,
    }
    changed = session.execute(
        update(Job)
        .where(Job.id == job_id, holds_lock(reviewer=reviewer, token=lock_token, now=now))
        .values(**closes),
        execution_options={"synchronize_session": False},
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        # A concurrent submission of this very decision may have won: answer as it did.
        earlier = _existing(session, idempotency_key)
        if earlier is not None:
            return _same_submission(earlier, job_id, kind, reviewer)
        raise refusal(session=session, job_id=job_id, reviewer=reviewer, token=lock_token, now=now)
    session.expire_all()

    decision = Decision(
        job_id=job_id,
        kind=kind.value,
        decided_by=reviewer,
        classification=chosen_classification,
        annotations=chosen_annotations,
        reason=reason,
        idempotency_key=idempotency_key,
        status=DecisionStatus.PENDING.value,
        created_at=now,
    )
    session.add(decision)
    try:
        session.flush()
    except IntegrityError:
        # The same key, submitted at the same moment for another job, won the unique index.
        raise Conflict("this idempotency key was already used for a different decision") from None

    item_ids: list[int] = []
    if final:
        item_ids = _settle_items(session=session, job_id=job_id, decision=decision, now=now)
        if kind is DecisionKind.FALSE_POSITIVE:
            _dispute_entries(session=session, item_ids=item_ids, decision=decision, now=now)
        _count_verdicts(session=session, item_ids=item_ids, kind=kind, now=now)
        if kind is DecisionKind.ESCALATE:
            _mark_cases_urgent(session=session, item_ids=item_ids, reason=reason or "")
    else:
        exclude_reviewer(
            session=session,
            job_id=job_id,
            reviewer=reviewer,
            cause=ExclusionCause.SECOND_OPINION,
            now=now,
        )
    audit(
        session=session,
        actor=reviewer,
        action=AuditAction.DECIDE,
        object_type="job",
        object_id=job_id,
        reason=reason,
        detail={
            "decision_id": decision.id,
            "kind": kind.value,
            "classification": chosen_classification,
            "annotations": chosen_annotations.split(",") if chosen_annotations else [],
            "item_ids": item_ids,
        },
        at=now,
    )
    decision.status = DecisionStatus.APPLIED.value
    decision.applied_at = now
    session.flush()
    return decision


def _settle_items(*, session: Session, job_id: int, decision: Decision, now: datetime) -> list[int]:
    """Write the decision onto every undecided item of the job; returns their ids.

    Items other than the job's representative are marked ``decided_via_group``; nothing here
    touches ``viewed_by_person``: deciding is not viewing.
    """
    job = session.get(Job, job_id)
    if job is None:  # the job row was just updated in this transaction
        raise NotFound(f"no job with id {job_id}")
    item_ids = list(
        session.scalars(
            select(Item.id).where(Item.job_id == job_id, Item.decision.is_(None)).order_by(Item.id)
        )
    )
    if not item_ids:
        return []
    common = {
        "decision": decision.kind,
        "classification": decision.classification,
        "annotations": decision.annotations,
        "decided_by": decision.decided_by,
        "decided_at": now,
        "decision_id": decision.id,
    }
    for via_group, condition in (
        (False, Item.id == job.representative_item_id),
        (True, Item.id != job.representative_item_id),
    ):
        session.execute(
            update(Item)
            .where(Item.id.in_(item_ids), Item.decision.is_(None), condition)
            .values(**common, decided_via_group=via_group),
            execution_options={"synchronize_session": False},
        )
    session.expire_all()
    return item_ids


def _dispute_entries(
    *, session: Session, item_ids: Sequence[int], decision: Decision, now: datetime
) -> None:
    rows = session.execute(
        select(ItemMatch.item_id, ItemMatch.entry_id, ItemMatch.bank_id).where(
            ItemMatch.item_id.in_(item_ids), ItemMatch.entry_id.is_not(None)
        )
    ).all()
    values = [
        {
            "entry_id": entry_id,
            "bank_id": bank_id,
            "item_id": item_id,
            "decision_id": decision.id,
            "disputed_by": decision.decided_by,
            "disputed_at": now,
        }
        for item_id, entry_id, bank_id in {(r[0], r[1], r[2]) for r in rows}
    ]
    if not values:
        return
    session.execute(dialect_insert(session, EntryDispute).on_conflict_do_nothing(), values)


def _count_verdicts(
    *, session: Session, item_ids: Sequence[int], kind: DecisionKind, now: datetime
) -> None:
    """Add one verdict per item to each bank that flagged it (per-bank precision)."""
    rows = session.execute(
        select(ItemMatch.item_id, ItemMatch.bank_id, ItemMatch.bank_name).where(
            ItemMatch.item_id.in_(item_ids), ItemMatch.bank_id.is_not(None)
        )
    ).all()
    names: dict[int, str] = {}
    flagged: set[tuple[int, int]] = set()
    for item_id, bank_id, bank_name in rows:
        if bank_id is not None:
            flagged.add((item_id, bank_id))
            names[bank_id] = bank_name or names.get(bank_id, "")
    per_bank = Counter(bank_id for _item_id, bank_id in flagged)
    confirmed = kind is not DecisionKind.FALSE_POSITIVE
    for bank_id, count in sorted(per_bank.items()):
        insert_row = dialect_insert(session, BankPrecision).values(
            bank_id=bank_id,
            bank_name=names[bank_id],
            confirmed=count if confirmed else 0,
            false_positive=0 if confirmed else count,
            updated_at=now,
        )
        session.execute(
            insert_row.on_conflict_do_update(
                index_elements=["bank_id"],
                set_={
                    "bank_name": insert_row.excluded.bank_name,
                    "confirmed": BankPrecision.confirmed + insert_row.excluded.confirmed,
                    "false_positive": (
                        BankPrecision.false_positive + insert_row.excluded.false_positive
                    ),
                    "updated_at": insert_row.excluded.updated_at,
                },
            )
        )


def _mark_cases_urgent(*, session: Session, item_ids: Sequence[int], reason: str) -> None:
    case_ids = select(Item.case_id).where(Item.id.in_(item_ids))
    session.execute(
        update(Case).where(Case.id.in_(case_ids)).values(urgent=True, urgent_reason=reason),
        execution_options={"synchronize_session": False},
    )
    session.expire_all()


def apply_policy_confirmation(
    *, session: Session, job_id: int, classification: str, policy: str, now: datetime
) -> Decision:
    """Confirm a job under a policy, without anyone viewing it (see :mod:`.policy`).

    Not counted towards bank precision: precision measures what people found.
    """
    changed = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.OPEN.value)
        .values(status=JobStatus.DECIDED.value, decided_at=now),
        execution_options={"synchronize_session": False},
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"job {job_id} was already decided")
    decision = Decision(
        job_id=job_id,
        kind=DecisionKind.CONFIRM.value,
        decided_by=policy,
        classification=IndustryClassification(classification).value,
        annotations="",
        reason=None,
        idempotency_key=f"{policy}:job-{job_id}",
        status=DecisionStatus.PENDING.value,
        created_at=now,
    )
    session.add(decision)
    session.flush()
    item_ids = _settle_items(session=session, job_id=job_id, decision=decision, now=now)
    audit(
        session=session,
        actor=policy,
        action=AuditAction.AUTO_CONFIRM,
        object_type="job",
        object_id=job_id,
        detail={
            "decision_id": decision.id,
            "classification": decision.classification,
            "item_ids": item_ids,
        },
        at=now,
    )
    decision.status = DecisionStatus.APPLIED.value
    decision.applied_at = now
    session.flush()
    return decision


def bank_precision(*, session: Session) -> list[Precision]:
    """Per-bank verdict counts, by bank name."""
    return [
        Precision(
            bank_id=row.bank_id,
            bank_name=row.bank_name,
            confirmed=row.confirmed,
            false_positive=row.false_positive,
        )
        for row in session.scalars(select(BankPrecision).order_by(BankPrecision.bank_name))
    ]


def disputed_entry_ids(*, session: Session, entry_ids: Iterable[int] | None = None) -> set[int]:
    """Entries that a reviewer found matching non-abusive content (all, or among ``entry_ids``)."""
    query = select(EntryDispute.entry_id).distinct()
    if entry_ids is not None:
        query = query.where(EntryDispute.entry_id.in_(list(entry_ids)))
    return set(session.scalars(query))


def get_decision(*, session: Session, decision_id: int) -> Decision:
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise NotFound(f"no decision with id {decision_id}")
    return decision
