"""Which agencies' referrals an investigator may see.

Referrals go to agencies; an investigator works for one or more of them. A console account with
the ``investigator`` role sees only the referrals of the agencies assigned to it (and the
reports referred to them); one with none sees nothing, so forgetting to assign an agency can
never show someone another agency's cases. Leads and admins oversee every agency.

Plain functions with a keyword-only ``session``, never committing. Assignments are written to
the console's audit log (``setting_change`` on the account), in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from brightline.accounts.models import Account, AccountRole
from brightline.clearinghouse.analysis_models import InvestigatorAgency
from brightline.errors import InvalidInput, NotFound
from brightline.review import AuditAction, audit
from brightline.storage.base import utcnow

__all__ = [
    "Assignment",
    "assign_agency",
    "investigator_scope",
    "list_assignments",
    "unassign_agency",
]

_AGENCY = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
"""The routing configuration's agency ids (:mod:`brightline.clearinghouse.routing`)."""
OVERSEERS = frozenset({AccountRole.ADMIN, AccountRole.LEAD})
"""Roles that see every agency (no assignment needed)."""


@dataclass(frozen=True, slots=True)
class Assignment:
    username: str
    agency_id: str
    assigned_by: str
    assigned_at: datetime


def investigator_scope(
    *, session: Session, account_id: int, role: AccountRole
) -> frozenset[str] | None:
    """The agencies whose referrals this account may see: None (every agency) for leads and
    admins, the assigned agencies (possibly none) for anyone else."""
    if role in OVERSEERS:
        return None
    return frozenset(
        session.scalars(
            select(InvestigatorAgency.agency_id).where(InvestigatorAgency.account_id == account_id)
        )
    )


def _investigator(session: Session, username: str) -> Account:
    name = username.strip().lower()
    account = session.scalar(select(Account).where(Account.username == name))
    if account is None:
        raise NotFound(f"no account named {name!r}")
    if account.role != AccountRole.INVESTIGATOR.value:
        raise InvalidInput(
            f"account {name!r} is a {account.role}, not an investigator "
            "(leads and admins already see every agency)"
        )
    return account


def _agency(agency_id: str, known: Collection[str] | None) -> str:
    agency = agency_id.strip()
    if not _AGENCY.fullmatch(agency):
        raise InvalidInput("an agency id is lowercase letters, digits, '.', '_' or '-'")
    if known is not None and agency not in known:
        raise NotFound(f"no agency {agency!r} in the routing configuration")
    return agency


def assign_agency(
    *,
    session: Session,
    username: str,
    agency_id: str,
    actor: str,
    known_agencies: Collection[str] | None = None,
    now: datetime | None = None,
) -> bool:
    """Let investigator ``username`` see ``agency_id``'s referrals; False if already so.

    ``known_agencies`` (the routing configuration's agencies and national queue) refuses a
    misspelt agency, which would otherwise silently grant nothing.
    """
    account = _investigator(session, username)
    agency = _agency(agency_id, known_agencies)
    if session.get(InvestigatorAgency, (account.id, agency)) is not None:
        return False
    moment = now or utcnow()
    session.add(
        InvestigatorAgency(
            account_id=account.id, agency_id=agency, assigned_by=actor, assigned_at=moment
        )
    )
    audit(
        session=session,
        actor=actor,
        action=AuditAction.SETTING_CHANGE,
        object_type="account",
        object_id=account.id,
        detail={"setting": "agency_assigned", "agency": agency},
        at=moment,
    )
    session.flush()
    return True


def unassign_agency(
    *, session: Session, username: str, agency_id: str, actor: str, now: datetime | None = None
) -> bool:
    """Stop investigator ``username`` seeing ``agency_id``'s referrals; False if they did not."""
    account = _investigator(session, username)
    agency = _agency(agency_id, None)
    row = session.get(InvestigatorAgency, (account.id, agency))
    if row is None:
        return False
    session.delete(row)
    audit(
        session=session,
        actor=actor,
        action=AuditAction.SETTING_CHANGE,
        object_type="account",
        object_id=account.id,
        detail={"setting": "agency_unassigned", "agency": agency},
        at=now or utcnow(),
    )
    return True


def list_assignments(*, session: Session, username: str | None = None) -> list[Assignment]:
    """Every assignment (or one investigator's), by username then agency."""
    query = (
        select(Account.username, InvestigatorAgency)
        .join(Account, Account.id == InvestigatorAgency.account_id)
        .order_by(Account.username, InvestigatorAgency.agency_id)
    )
    if username is not None:
        query = query.where(Account.id == _investigator(session, username).id)
    return [
        Assignment(name, row.agency_id, row.assigned_by, row.assigned_at)
        for name, row in session.execute(query)
    ]
