"""Legal holds and the purge: evidence is kept exactly as long as the law or a hold needs it.

Each preserved object has a retention end (a year after its latest report, by default); a
legal hold keeps the objects it covers until the hold expires or is released. A § 2703(f)
preservation request holds 90 days and may be renewed once for 90 more; a hold that runs out
without renewal lapses and that is recorded too. The purge destroys what nothing keeps any
more: it deletes the object's data key and content (crypto-shredding) *before* recording that
it did, so the record never claims a destruction that did not happen (an interrupted purge is
finished and recorded by the next run). Every step is in the chain of custody.

Nothing here commits: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from brightline.custody import CustodyEvent, record_custody
from brightline.errors import Conflict, InvalidInput, NotFound
from brightline.evidence.models import (
    EvidenceObject,
    HeldObject,
    HoldKind,
    LegalHold,
    Preservation,
    PreservedObject,
)
from brightline.evidence.store import EvidenceStore, parse_ref
from brightline.review.models import Item, Subject
from brightline.settings import PreservationSettings
from brightline.storage.base import utcnow

PURGE_ACTOR = "system:purge"
EXPIRY_ACTOR = "system:hold-expiry"
MAX_REFERENCE = 200
MAX_REASON = 2000


def _text(name: str, value: str | None, limit: int, *, required: bool) -> str | None:
    value = value.strip() if value is not None else None
    if not value:
        if required:
            raise InvalidInput(f"a {name} is required")
        return None
    if len(value) > limit or "\x00" in value:
        raise InvalidInput(f"the hold's {name} is at most {limit} characters, without NUL")
    return value


# -- what a hold covers ----------------------------------------------------------------------


def refs_for_report(*, session: Session, report_id: int) -> list[str]:
    return _preserved(session, Preservation.report_id == report_id)


def refs_for_case(*, session: Session, case_id: int) -> list[str]:
    return _preserved(session, Preservation.case_id == case_id)


def refs_for_account(*, session: Session, service: str, platform_user_id: str) -> list[str]:
    """Everything preserved for one platform account (what a preservation request names)."""
    subject_id = session.scalar(
        select(Subject.id).where(
            Subject.service == service, Subject.platform_user_id == platform_user_id
        )
    )
    if subject_id is None:
        raise NotFound("no reviewed account with that service and user id")
    return _preserved(session, Preservation.subject_id == subject_id)


def _preserved(session: Session, condition: object) -> list[str]:
    return list(
        session.scalars(
            select(PreservedObject.ref)
            .join(Preservation, Preservation.id == PreservedObject.preservation_id)
            .join(EvidenceObject, EvidenceObject.ref == PreservedObject.ref)
            .where(condition, EvidenceObject.purged_at.is_(None))  # type: ignore[arg-type]
            .distinct()
            .order_by(PreservedObject.ref)
        )
    )


def access_preserved(
    *,
    session: Session,
    custody_key: bytes,
    ref: str,
    actor: str,
    reason: str,
    now: datetime | None = None,
) -> None:
    """Record that a person is opening preserved evidence, and why, before they see it."""
    parse_ref(ref)
    clean_reason = _text("reason", reason, MAX_REASON, required=True)
    row = session.get(EvidenceObject, ref)
    if row is None or row.purged_at is not None:
        raise NotFound("no preserved evidence with that reference (or it was purged)")
    record_custody(
        session=session,
        key=custody_key,
        event=CustodyEvent.ACCESSED,
        actor=actor,
        object_ref=ref,
        reason=clean_reason,
        now=now,
    )


def record_access_if_preserved(
    *,
    session: Session,
    custody_key: bytes,
    ref: str | None,
    actor: str,
    reason: str,
    now: datetime | None = None,
) -> bool:
    """For views that also serve unreported media (the review console): record the access in
    the chain of custody when ``ref`` is preserved evidence; whether it was."""
    if ref is None:
        return False
    row = session.get(EvidenceObject, ref)
    if row is None or row.purged_at is not None:
        return False
    access_preserved(
        session=session, custody_key=custody_key, ref=ref, actor=actor, reason=reason, now=now
    )
    return True


# -- holds -----------------------------------------------------------------------------------


def place_hold(
    *,
    session: Session,
    custody_key: bytes,
    refs: Collection[str],
    kind: HoldKind,
    reference: str,
    actor: str,
    settings: PreservationSettings,
    reason: str | None = None,
    now: datetime | None = None,
) -> LegalHold:
    """Hold the given preserved objects for ``settings.hold_days``.

    Refuses an empty hold and objects that are not preserved or already purged: a hold that
    protects nothing must not look as if it did.
    """
    clean_reference = _text("reference", reference, MAX_REFERENCE, required=True)
    clean_reason = _text("reason", reason, MAX_REASON, required=False)
    if not refs:
        raise InvalidInput("the hold covers nothing: no preserved evidence matched")
    for ref in refs:
        parse_ref(ref)
    wanted = sorted(set(refs))
    kept = set(
        session.scalars(
            select(EvidenceObject.ref).where(
                EvidenceObject.ref.in_(wanted), EvidenceObject.purged_at.is_(None)
            )
        )
    )
    unknown = [ref for ref in wanted if ref not in kept]
    if unknown:
        raise NotFound(f"{len(unknown)} object(s) are not preserved evidence (or were purged)")
    when = now or utcnow()
    hold = LegalHold(
        kind=kind.value,
        reference=clean_reference,
        reason=clean_reason,
        placed_by=actor,
        placed_at=when,
        expires_at=when + timedelta(days=settings.hold_days),
        renewals=0,
        max_renewals=settings.hold_renewals,
    )
    session.add(hold)
    session.flush()
    for ref in wanted:
        session.add(HeldObject(hold_id=hold.id, ref=ref))
        record_custody(
            session=session,
            key=custody_key,
            event=CustodyEvent.HELD,
            actor=actor,
            object_ref=ref,
            hold_id=hold.id,
            reason=clean_reason,
            details={"kind": kind.value, "expires_at": hold.expires_at.isoformat()},
            now=when,
        )
    session.flush()
    return hold


def _hold(session: Session, hold_id: int) -> LegalHold:
    hold = session.get(LegalHold, hold_id, with_for_update=True)
    if hold is None:
        raise NotFound(f"no legal hold with id {hold_id}")
    return hold


def held_refs(*, session: Session, hold_id: int) -> list[str]:
    return list(
        session.scalars(
            select(HeldObject.ref).where(HeldObject.hold_id == hold_id).order_by(HeldObject.ref)
        )
    )


def renew_hold(
    *,
    session: Session,
    custody_key: bytes,
    hold_id: int,
    actor: str,
    settings: PreservationSettings,
    reason: str | None = None,
    now: datetime | None = None,
) -> LegalHold:
    """Extend an active hold by ``settings.hold_days`` from its current end (once, for §2703(f))."""
    when = now or utcnow()
    hold = _hold(session, hold_id)
    if hold.released_at is not None or hold.expires_at <= when:
        raise Conflict(f"legal hold {hold_id} has ended; place a new one")
    if hold.renewals >= hold.max_renewals:
        raise Conflict(f"legal hold {hold_id} was already renewed {hold.renewals} time(s)")
    hold.renewals += 1
    hold.expires_at = hold.expires_at + timedelta(days=settings.hold_days)
    clean_reason = _text("reason", reason, MAX_REASON, required=False)
    _log_hold(session, custody_key, hold, CustodyEvent.HOLD_RENEWED, actor, clean_reason, when)
    return hold


def release_hold(
    *,
    session: Session,
    custody_key: bytes,
    hold_id: int,
    actor: str,
    reason: str,
    now: datetime | None = None,
) -> LegalHold:
    when = now or utcnow()
    hold = _hold(session, hold_id)
    if hold.released_at is not None:
        raise Conflict(f"legal hold {hold_id} was already released")
    clean_reason = _text("reason", reason, MAX_REASON, required=True)
    hold.released_at = min(when, hold.expires_at)
    hold.released_by = actor
    _log_hold(session, custody_key, hold, CustodyEvent.HOLD_RELEASED, actor, clean_reason, when)
    return hold


def lapse_expired_holds(
    *, session: Session, custody_key: bytes, now: datetime | None = None
) -> list[int]:
    """Record the end of every hold whose time ran out without renewal; their ids."""
    when = now or utcnow()
    lapsed = list(
        session.scalars(
            select(LegalHold)
            .where(LegalHold.released_at.is_(None), LegalHold.expires_at <= when)
            .order_by(LegalHold.id)
            .with_for_update()
        )
    )
    for hold in lapsed:
        hold.released_at = hold.expires_at
        hold.released_by = EXPIRY_ACTOR
        _log_hold(
            session, custody_key, hold, CustodyEvent.HOLD_RELEASED, EXPIRY_ACTOR, "expired", when
        )
    return [hold.id for hold in lapsed]


def _log_hold(
    session: Session,
    custody_key: bytes,
    hold: LegalHold,
    event: CustodyEvent,
    actor: str,
    reason: str | None,
    when: datetime,
) -> None:
    session.flush()
    for ref in held_refs(session=session, hold_id=hold.id):
        record_custody(
            session=session,
            key=custody_key,
            event=event,
            actor=actor,
            object_ref=ref,
            hold_id=hold.id,
            reason=reason,
            details={"expires_at": hold.expires_at.isoformat(), "renewals": hold.renewals},
            now=when,
        )


# -- the purge -------------------------------------------------------------------------------


@dataclass(slots=True)
class PurgeReport:
    purged: list[str] = field(default_factory=list)
    """Objects destroyed (data key and content) by this run."""
    held: int = 0
    """Past retention but kept by an active hold."""
    in_review: int = 0
    """Past retention but still needed by an undecided review item (a new upload of it)."""
    lapsed_holds: list[int] = field(default_factory=list)


def purge_expired(
    *,
    session: Session,
    store: EvidenceStore,
    custody_key: bytes,
    now: datetime | None = None,
    dry_run: bool = False,
    limit: int = 10_000,
) -> PurgeReport:
    """Destroy every preserved object past its retention that no hold or open review keeps."""
    when = now or utcnow()
    report = PurgeReport()
    if not dry_run:
        report.lapsed_holds = lapse_expired_holds(
            session=session, custody_key=custody_key, now=when
        )
    active_hold = exists().where(
        HeldObject.ref == EvidenceObject.ref,
        LegalHold.id == HeldObject.hold_id,
        LegalHold.released_at.is_(None),
        LegalHold.expires_at > when,
    )
    in_review = exists().where(Item.media_ref == EvidenceObject.ref, Item.decided_at.is_(None))
    expired = (
        select(EvidenceObject)
        .where(EvidenceObject.purged_at.is_(None), EvidenceObject.retain_until <= when)
        .order_by(EvidenceObject.retain_until, EvidenceObject.ref)
    )
    report.held = len(list(session.scalars(expired.where(active_hold))))
    report.in_review = len(list(session.scalars(expired.where(~active_hold, in_review))))
    for row in session.scalars(expired.where(~active_hold, ~in_review).limit(limit)).all():
        report.purged.append(row.ref)
        if dry_run:
            continue
        destroyed = store.destroy(row.ref)
        row.purged_at = when
        record_custody(
            session=session,
            key=custody_key,
            event=CustodyEvent.PURGED,
            actor=PURGE_ACTOR,
            object_ref=row.ref,
            reason="retention ended",
            details={
                "retain_until": row.retain_until.isoformat(),
                "destroyed": "data key and content" if destroyed else "already gone",
            },
            now=when,
        )
    session.flush()
    return report
