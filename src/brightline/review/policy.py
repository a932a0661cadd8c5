"""The trusted-bank policy: known material confirmed without anyone having to look at it.

Reducing exposure is a wellbeing measure (DOMAIN.md §7: "let known material be actioned without
viewing where policy allows"). It must stay truthful: such items are recorded as decided by
``policy:trusted-banks``, never by a person, and ``viewed_by_person`` stays false, so a report
will say ``fileViewedByEsp=false`` for them.

An item qualifies only when *every* match that flagged it comes from a trusted bank within that
bank's ``max_distance`` (0 by default: exact hashes only) and all those matches agree on one
industry classification; anything less goes to a person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from brightline.banks.models import Bank, IndustryClassification
from brightline.errors import Conflict, InvalidInput, NotFound
from brightline.review.audit import AuditAction, audit
from brightline.review.models import TrustedBank
from brightline.storage.base import utcnow

TRUSTED_BANKS_POLICY = "policy:trusted-banks"
"""The ``decided_by`` of items this policy confirmed."""


@dataclass(frozen=True, slots=True)
class FlagMatch:
    """One reason an item was flagged: a bank entry that matched (or another signal)."""

    signal_type: str
    bank_id: int | None = None
    bank_name: str | None = None
    entry_id: int | None = None
    distance: int | None = None
    classification: str | None = None
    match_event_id: int | None = None


def _bank(session: Session, name: str) -> Bank:
    bank = session.scalar(select(Bank).where(Bank.name == name))
    if bank is None:
        raise NotFound(f"no bank named {name!r}")
    return bank


def trust_bank(
    *, session: Session, bank_name: str, actor: str, max_distance: int = 0
) -> TrustedBank:
    """Let matches from ``bank_name`` (within ``max_distance``) be confirmed without viewing."""
    if not 0 <= max_distance <= 63:
        raise InvalidInput("max_distance must be between 0 and 63")
    bank = _bank(session, bank_name)
    if session.get(TrustedBank, bank.id) is not None:
        raise Conflict(f"bank {bank_name!r} is already trusted")
    trusted = TrustedBank(
        bank_id=bank.id, max_distance=max_distance, added_by=actor, added_at=utcnow()
    )
    session.add(trusted)
    session.flush()
    audit(
        session=session,
        actor=actor,
        action=AuditAction.SETTING_CHANGE,
        object_type="bank",
        object_id=bank.id,
        detail={"setting": "trusted_bank_added", "max_distance": max_distance},
    )
    return trusted


def distrust_bank(*, session: Session, bank_name: str, actor: str) -> None:
    bank = _bank(session, bank_name)
    if session.get(TrustedBank, bank.id) is None:
        raise NotFound(f"bank {bank_name!r} is not trusted")
    session.execute(delete(TrustedBank).where(TrustedBank.bank_id == bank.id))
    session.expire_all()
    audit(
        session=session,
        actor=actor,
        action=AuditAction.SETTING_CHANGE,
        object_type="bank",
        object_id=bank.id,
        detail={"setting": "trusted_bank_removed"},
    )


def list_trusted_banks(*, session: Session) -> list[tuple[TrustedBank, str]]:
    """Each trusted bank with its current name, by name."""
    rows = session.execute(
        select(TrustedBank, Bank.name)
        .join(Bank, Bank.id == TrustedBank.bank_id)
        .order_by(Bank.name)
    )
    return [(trusted, name) for trusted, name in rows]


def policy_classification(*, session: Session, matches: Sequence[FlagMatch]) -> str | None:
    """The classification the trusted-bank policy would confirm ``matches`` with, or None.

    None means a person must review: no matches, a match from an untrusted bank or beyond its
    distance, or matches that are unclassified or disagree.
    """
    if not matches:
        return None
    bank_ids = {match.bank_id for match in matches if match.bank_id is not None}
    limits: dict[int, int] = dict(
        session.execute(
            select(TrustedBank.bank_id, TrustedBank.max_distance).where(
                TrustedBank.bank_id.in_(bank_ids)
            )
        ).all()
    )
    classifications: set[str] = set()
    for match in matches:
        limit = None if match.bank_id is None else limits.get(match.bank_id)
        if limit is None or match.distance is None or match.distance > limit:
            return None
        if match.classification is None:
            return None
        classifications.add(match.classification)
    if len(classifications) != 1:
        return None
    (only,) = classifications
    try:
        return IndustryClassification(only).value
    except ValueError:
        return None
