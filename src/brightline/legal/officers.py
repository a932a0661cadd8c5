"""Agencies and their officers: who may serve legal process on the platform.

An officer's email must be at one of the agency's allowed domains (or a subdomain of one), and
platform staff verify each officer before any of their requests is accepted; a revoked officer
stays revoked (a new record is made if they return), and their open requests are flagged for
staff. The portal (:mod:`brightline.legal.portal`) signs officers in on these rows; revoking an
officer ends their portal sessions and unused codes in the revocation's own transaction.

Email addresses and names are personal data: they are stored here and shown to staff, never
logged; listings and logs use the officer's ``handle``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from brightline.errors import Conflict, InvalidInput, NotFound
from brightline.legal.models import (
    OPEN_STATUSES,
    Agency,
    AgencyDomain,
    FlagCode,
    LegalRequest,
    Officer,
)
from brightline.legal.portal_models import PortalSession, SignInCode
from brightline.legal.records import clean_text, raise_flag, required_text
from brightline.storage.base import utcnow

logger = logging.getLogger(__name__)

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"(?:{_LABEL}\.)+{_LABEL}")
_HANDLE = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
_LOCAL_PART = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}")
MAX_DOMAINS = 50


def normalise_domain(domain: str) -> str:
    value = domain.strip().lower().rstrip(".")
    if len(value) > 253 or not _DOMAIN.fullmatch(value):
        raise InvalidInput("a domain is a DNS name such as sheriff.example.gov (IDNs in punycode)")
    return value


def _email_parts(email: str) -> tuple[str, str]:
    local, at, domain = email.strip().rpartition("@")
    if not at or not _LOCAL_PART.fullmatch(local):
        raise InvalidInput("the officer's email address is malformed")
    return local, normalise_domain(domain)


def domain_allowed(domain: str, allowed: Iterable[str]) -> bool:
    """Whether ``domain`` is one of ``allowed`` or a subdomain of one."""
    return any(domain == entry or domain.endswith("." + entry) for entry in allowed)


def add_agency(
    *,
    session: Session,
    name: str,
    domains: Sequence[str],
    actor: str,
    jurisdiction: str | None = None,
    now: datetime | None = None,
) -> Agency:
    """Register an agency and the email domains its officers may use (at least one)."""
    clean_name = required_text("agency name", name, 200)
    cleaned = sorted({normalise_domain(domain) for domain in domains})
    if not cleaned:
        raise InvalidInput("an agency needs at least one allowed email domain")
    if len(cleaned) > MAX_DOMAINS:
        raise InvalidInput(f"an agency has at most {MAX_DOMAINS} allowed domains")
    existing = session.scalar(
        select(Agency.id).where(func.lower(Agency.name) == clean_name.lower())
    )
    if existing is not None:
        raise Conflict(f"an agency with that name already exists (agency {existing})")
    agency = Agency(
        name=clean_name,
        jurisdiction=clean_text("jurisdiction", jurisdiction, 100, required=False),
        created_at=now or utcnow(),
        created_by=required_text("actor", actor, 200),
    )
    session.add(agency)
    session.flush()
    session.add_all(AgencyDomain(agency_id=agency.id, domain=domain) for domain in cleaned)
    session.flush()
    logger.info("agency %d added with %d domain(s)", agency.id, len(cleaned))
    return agency


def agency_domains(*, session: Session, agency_id: int) -> list[str]:
    return list(
        session.scalars(
            select(AgencyDomain.domain)
            .where(AgencyDomain.agency_id == agency_id)
            .order_by(AgencyDomain.domain)
        )
    )


def get_agency(*, session: Session, agency_id: int) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(f"no agency with id {agency_id}")
    return agency


def list_agencies(*, session: Session) -> list[Agency]:
    return list(session.scalars(select(Agency).order_by(Agency.name, Agency.id)))


def add_officer(
    *,
    session: Session,
    agency_id: int,
    handle: str,
    name: str,
    email: str,
    actor: str,
    now: datetime | None = None,
) -> Officer:
    """Register an officer of ``agency_id``, unverified until staff verify them."""
    get_agency(session=session, agency_id=agency_id)
    clean_handle = handle.strip().lower()
    if not _HANDLE.fullmatch(clean_handle):
        raise InvalidInput(
            "an officer handle is lowercase letters, digits, '.', '_' and '-' (officer-0001)"
        )
    local, domain = _email_parts(email)
    if not domain_allowed(domain, agency_domains(session=session, agency_id=agency_id)):
        raise InvalidInput("the officer's email domain is not one the agency allows")
    address = f"{local}@{domain}"
    if session.scalar(select(Officer.id).where(Officer.handle == clean_handle)) is not None:
        raise Conflict("an officer with that handle already exists")
    taken = session.scalar(select(Officer.id).where(func.lower(Officer.email) == address.lower()))
    if taken is not None:
        raise Conflict(f"an officer with that email address already exists (officer {taken})")
    officer = Officer(
        agency_id=agency_id,
        handle=clean_handle,
        name=required_text("officer name", name, 200),
        email=address,
        created_at=now or utcnow(),
        created_by=required_text("actor", actor, 200),
    )
    session.add(officer)
    session.flush()
    logger.info("officer %d added to agency %d", officer.id, agency_id)
    return officer


def get_officer(*, session: Session, officer_id: int, for_update: bool = False) -> Officer:
    officer = session.get(Officer, officer_id, with_for_update=for_update)
    if officer is None:
        raise NotFound(f"no officer with id {officer_id}")
    return officer


def list_officers(*, session: Session, agency_id: int | None = None) -> list[Officer]:
    query = select(Officer).order_by(Officer.agency_id, Officer.handle)
    if agency_id is not None:
        query = query.where(Officer.agency_id == agency_id)
    return list(session.scalars(query))


def verify_officer(
    *, session: Session, officer_id: int, actor: str, now: datetime | None = None
) -> Officer:
    """Staff confirm the officer is who they say (by a call to the agency, say)."""
    officer = get_officer(session=session, officer_id=officer_id, for_update=True)
    if officer.revoked_at is not None:
        raise Conflict(f"officer {officer_id} was revoked; register them again")
    if officer.verified_at is not None:
        raise Conflict(f"officer {officer_id} is already verified")
    officer.verified_at = now or utcnow()
    officer.verified_by = required_text("actor", actor, 200)
    session.flush()
    logger.info("officer %d verified", officer.id)
    return officer


def revoke_officer(
    *, session: Session, officer_id: int, actor: str, reason: str, now: datetime | None = None
) -> Officer:
    """Stop accepting requests from an officer: their portal sessions end and their unused
    sign-in codes die in the same transaction, and their open requests are flagged for staff."""
    when = now or utcnow()
    officer = get_officer(session=session, officer_id=officer_id, for_update=True)
    if officer.revoked_at is not None:
        raise Conflict(f"officer {officer_id} is already revoked")
    clean_actor = required_text("actor", actor, 200)
    officer.revoked_at = when
    officer.revoked_by = clean_actor
    officer.revoke_reason = required_text("reason", reason, 2000, multiline=True)
    session.flush()
    ended = end_portal_access(session=session, officer_id=officer.id, now=when)
    open_requests = session.scalars(
        select(LegalRequest)
        .where(LegalRequest.officer_id == officer_id, LegalRequest.status.in_(OPEN_STATUSES))
        .order_by(LegalRequest.id)
    ).all()
    for request in open_requests:
        raise_flag(
            session,
            request,
            FlagCode.OFFICER_REVOKED,
            f"the submitting officer ({officer.handle}) was revoked: confirm the request "
            "with the agency",
            at=when,
            actor=clean_actor,
        )
    logger.info(
        "officer %d revoked; %d portal session(s) ended, %d open request(s) flagged",
        officer.id,
        ended,
        len(open_requests),
    )
    return officer


def end_portal_access(*, session: Session, officer_id: int, now: datetime | None = None) -> int:
    """Delete the officer's portal sessions and spend their unused sign-in codes; how many
    sessions there were. Never commits.

    Why here and not only in :mod:`brightline.legal.portal`: revocation must sign the officer
    out in its own transaction (a revoked officer's session row is a live credential until the
    next request would have found it), and the portal module builds on this one, not the
    reverse. Staff signing an officer out (``end_officer_sessions``) uses the same function.
    """
    ended = int(
        session.scalar(
            select(func.count())
            .select_from(PortalSession)
            .where(PortalSession.officer_id == officer_id)
        )
        or 0
    )
    session.execute(delete(PortalSession).where(PortalSession.officer_id == officer_id))
    session.execute(
        update(SignInCode)
        .where(SignInCode.officer_id == officer_id, SignInCode.spent_at.is_(None))
        .values(spent_at=now or utcnow()),
        execution_options={"synchronize_session": False},
    )
    return ended


def check_may_submit(officer: Officer, agency_id: int) -> None:
    """Refuse a request from an officer who is not verified, is revoked, or is elsewhere."""
    if officer.agency_id != agency_id:
        raise InvalidInput(f"officer {officer.id} is not an officer of agency {agency_id}")
    if officer.revoked_at is not None:
        raise Conflict(f"officer {officer.id} is revoked: their requests are not accepted")
    if officer.verified_at is None:
        raise Conflict(
            f"officer {officer.id} is not verified yet: staff verify officers before "
            "their requests are accepted"
        )
