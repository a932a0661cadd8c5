"""The law-enforcement portal's core: officers sign in with one-time codes sent by email, and
see and send only their own agency's legal process.

Sign-in is by possession of the officer's work mailbox, checked every time: the officer must
exist, be verified by platform staff and not revoked, and their address must still be at one of
the agency's allowed domains. A code is eight random digits from :mod:`secrets`, stored only as
an HMAC under a key derived from the custody key (a plain hash of 10^8 possibilities is
reversed in a second), valid for a few minutes, used once, and dies after a few wrong tries.
Asking for a code answers the same whether or not the address may sign in, so the portal never
tells a stranger which addresses belong to officers; the attempt is logged without the address.

A session is a random cookie token kept as its SHA-256 digest (as the console's), with an
absolute and an idle expiry; it is checked against the officer on every request, so revoking an
officer ends their sessions at once. Everything an officer sees is read with their agency's id
(:func:`~brightline.legal.requests.get_request` answers "not found" for another agency's
request), and what they see of a request is a subset: no staff notes, flags, holds or names.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from brightline.errors import BrightlineError, Conflict, InvalidInput, UpstreamError
from brightline.evidence.store import EvidenceStore
from brightline.legal.deadlines import BusinessCalendar
from brightline.legal.documents import AttachmentUpload
from brightline.legal.hooks import LegalContext
from brightline.legal.models import (
    Agency,
    AgencyDomain,
    Channel,
    EventKind,
    IdentifierKind,
    LegalRequest,
    Officer,
    RequestType,
)
from brightline.legal.officers import _email_parts as email_parts
from brightline.legal.officers import (
    add_officer,
    agency_domains,
    domain_allowed,
    end_portal_access,
    normalise_domain,
)
from brightline.legal.portal_mail import CodeMailer, SmtpSettings, SmtpTls
from brightline.legal.portal_models import PortalFormKey, PortalSession, SignInCode
from brightline.legal.records import Deadline, pending_deadlines, required_text
from brightline.legal.requests import (
    LegalRequestCreate,
    NamedAccount,
    NamedIdentifier,
    request_detail,
    submit_request,
)
from brightline.review.upserts import insert_ignoring_conflict
from brightline.storage.base import utcnow

log = logging.getLogger(__name__)

CODE_DIGITS = 8
_CODE = re.compile(rf"\d{{{CODE_DIGITS}}}")
_FORM_KEY = re.compile(r"[A-Za-z0-9_\-]{16,64}")
_KEY_LABEL = b"brightline/legal-portal/sign-in-codes/v1"
MAX_EMAIL = 320
FORM_KEY_RETENTION = timedelta(days=2)
RATE_WINDOW = timedelta(hours=1)
PUBLIC_EVENTS = frozenset(
    {EventKind.RECEIVED, EventKind.STATUS, EventKind.RENEWED, EventKind.PRODUCTION_DELIVERED}
)
"""What of a request's history an officer sees: receipt, status changes, renewals. Notes,
assignments, flags, holds and escalations are the platform's own work."""


# -- settings ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PortalSettings:
    """How sign-in codes and portal sessions behave (``BRIGHTLINE_PORTAL_*``; see the docs)."""

    code_lifetime: timedelta = timedelta(minutes=10)
    code_attempts: int = 5
    """Wrong codes after which a code dies (the officer asks for a new one)."""
    codes_per_hour: int = 5
    """Codes one officer may be sent per hour: a stranger cannot flood an officer's mailbox."""
    session_lifetime: timedelta = timedelta(hours=12)
    session_idle: timedelta = timedelta(minutes=30)
    smtp: SmtpSettings | None = None
    """None: no mail relay is configured, so the portal cannot send codes (sign-in is off)."""

    @property
    def code_minutes(self) -> int:
        return int(self.code_lifetime.total_seconds() // 60)


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be an integer") from None
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}")
    return value


def _smtp(env: Mapping[str, str]) -> SmtpSettings | None:
    host = env.get("BRIGHTLINE_PORTAL_SMTP_HOST", "").strip()
    if not host:
        return None
    raw_tls = env.get("BRIGHTLINE_PORTAL_SMTP_TLS", "").strip().lower() or "starttls"
    try:
        tls = SmtpTls(raw_tls)
    except ValueError:
        raise InvalidInput("BRIGHTLINE_PORTAL_SMTP_TLS must be starttls, ssl or none") from None
    port = env.get("BRIGHTLINE_PORTAL_SMTP_PORT", "").strip()
    username = env.get("BRIGHTLINE_PORTAL_SMTP_USERNAME", "").strip() or None
    password = env.get("BRIGHTLINE_PORTAL_SMTP_PASSWORD") or None
    try:
        return SmtpSettings(
            host=host,
            sender=env.get("BRIGHTLINE_PORTAL_SMTP_SENDER", "").strip(),
            tls=tls,
            port=_int(env, "BRIGHTLINE_PORTAL_SMTP_PORT", 0, 1, 65535) if port else None,
            username=username,
            password=password,
        )
    except InvalidInput as exc:
        raise InvalidInput(f"BRIGHTLINE_PORTAL_SMTP_*: {exc}") from None


def load_portal_settings(environ: Mapping[str, str] | None = None) -> PortalSettings:
    """Read ``BRIGHTLINE_PORTAL_*`` from ``environ`` (default: the process environment)."""
    env = os.environ if environ is None else environ
    return PortalSettings(
        code_lifetime=timedelta(minutes=_int(env, "BRIGHTLINE_PORTAL_CODE_MINUTES", 10, 1, 60)),
        code_attempts=_int(env, "BRIGHTLINE_PORTAL_CODE_ATTEMPTS", 5, 1, 20),
        codes_per_hour=_int(env, "BRIGHTLINE_PORTAL_CODES_PER_HOUR", 5, 1, 100),
        session_lifetime=timedelta(hours=_int(env, "BRIGHTLINE_PORTAL_SESSION_HOURS", 12, 1, 72)),
        session_idle=timedelta(minutes=_int(env, "BRIGHTLINE_PORTAL_IDLE_MINUTES", 30, 1, 720)),
        smtp=_smtp(env),
    )


# -- sign-in codes -----------------------------------------------------------------------------


class CodeRefused(BrightlineError):
    """A wrong, expired, used or dead code, or an address that may not sign in: one message,
    so that the answer tells nothing about which addresses are officers'."""

    def __init__(self) -> None:
        super().__init__(
            "sign-in failed: the code is wrong, expired or already used; ask for a new code "
            "(after a few wrong tries a code stops working)"
        )


def portal_code_key(custody_key: bytes) -> bytes:
    """The key sign-in codes are hashed under, derived so that it is not the custody key."""
    return hmac.new(custody_key, _KEY_LABEL, hashlib.sha256).digest()


def _code_digest(key: bytes, salt: str, officer_id: int, code: str) -> str:
    return hmac.new(key, f"{salt}:{officer_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _eligible_officer(session: Session, email: str) -> Officer | None:
    """The officer who may sign in with ``email`` now, or None (for any reason: not said)."""
    address = email.strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or len(address) > MAX_EMAIL or "\x00" in address:
        return None
    try:
        clean_domain = normalise_domain(domain)
    except InvalidInput:
        return None
    officer = session.scalar(
        select(Officer).where(func.lower(Officer.email) == f"{local}@{clean_domain}".lower())
    )
    if officer is None or officer.verified_at is None or officer.revoked_at is not None:
        return None
    if not domain_allowed(
        clean_domain, agency_domains(session=session, agency_id=officer.agency_id)
    ):
        return None
    return officer


def request_sign_in_code(
    *,
    session: Session,
    settings: PortalSettings,
    key: bytes,
    mailer: CodeMailer,
    email: str,
    now: datetime | None = None,
) -> None:
    """Mail a new code to ``email`` if it may sign in; otherwise do nothing, silently.

    The caller answers the same either way ("if the address is registered, a code is on its
    way"). A new code replaces any earlier one. A failing relay is logged, not raised: an error
    only for known addresses would tell a stranger which ones are known.
    """
    when = now or utcnow()
    session.execute(delete(SignInCode).where(SignInCode.created_at <= when - 2 * RATE_WINDOW))
    officer = _eligible_officer(session, email)
    if officer is None:
        log.info("portal sign-in code asked for an address that may not sign in")
        return
    recent = session.scalar(
        select(func.count())
        .select_from(SignInCode)
        .where(SignInCode.officer_id == officer.id, SignInCode.created_at > when - RATE_WINDOW)
    )
    if (recent or 0) >= settings.codes_per_hour:
        log.warning("officer %d: sign-in code not sent, hourly limit reached", officer.id)
        return
    session.execute(
        update(SignInCode)
        .where(SignInCode.officer_id == officer.id, SignInCode.spent_at.is_(None))
        .values(spent_at=when),
        execution_options={"synchronize_session": False},
    )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    salt = secrets.token_hex(16)
    session.add(
        SignInCode(
            officer_id=officer.id,
            salt=salt,
            digest=_code_digest(key, salt, officer.id, code),
            created_at=when,
            expires_at=when + settings.code_lifetime,
            attempts=0,
        )
    )
    session.flush()
    try:
        mailer.send_code(to=officer.email, code=code, valid_minutes=settings.code_minutes)
    except UpstreamError:
        log.error("officer %d: sign-in code could not be mailed", officer.id)
        return
    log.info("officer %d: sign-in code sent", officer.id)


def sign_in_with_code(
    *,
    session: Session,
    settings: PortalSettings,
    key: bytes,
    email: str,
    code: str,
    now: datetime | None = None,
) -> str:
    """A new portal session token for the officer whose live code this is, or CodeRefused.

    A wrong code counts against the live code (the count is written before raising: callers
    commit even when this raises); at ``code_attempts`` the code dies. The code is spent with
    one conditional UPDATE, so two tabs racing with the same code get one session.
    """
    when = now or utcnow()
    officer = _eligible_officer(session, email)
    live = (
        session.scalar(
            select(SignInCode)
            .where(
                SignInCode.officer_id == officer.id,
                SignInCode.spent_at.is_(None),
                SignInCode.expires_at > when,
            )
            .order_by(SignInCode.id.desc())
            .limit(1)
        )
        if officer is not None
        else None
    )
    if officer is None or live is None:
        raise CodeRefused()
    typed = "".join(code.split()).replace("-", "")
    expected = live.digest
    given = _code_digest(key, live.salt, officer.id, typed if _CODE.fullmatch(typed) else "")
    if not hmac.compare_digest(given, expected):
        attempts = session.scalar(
            update(SignInCode)
            .where(SignInCode.id == live.id)
            .values(attempts=SignInCode.attempts + 1)
            .returning(SignInCode.attempts),
            execution_options={"synchronize_session": False},
        )
        if attempts is not None and attempts >= settings.code_attempts:
            session.execute(
                update(SignInCode).where(SignInCode.id == live.id).values(spent_at=when),
                execution_options={"synchronize_session": False},
            )
            log.warning(
                "officer %d: sign-in code killed after %d wrong tries", officer.id, attempts
            )
        raise CodeRefused()
    spent = session.scalar(
        update(SignInCode)
        .where(SignInCode.id == live.id, SignInCode.spent_at.is_(None))
        .values(spent_at=when)
        .returning(SignInCode.id),
        execution_options={"synchronize_session": False},
    )
    if spent is None:
        raise CodeRefused()
    log.info("officer %d signed in to the portal", officer.id)
    return start_portal_session(session=session, settings=settings, officer_id=officer.id, now=when)


# -- asking for access ------------------------------------------------------------------------

ACCESS_ACTOR = "portal:request-access"
"""Who an officer record made by the access form is recorded as created by."""
MAX_PENDING_PER_AGENCY = 20
"""Unverified officers the access form may leave waiting per agency (a stranger cannot bury
staff in requests; beyond it the form answers the same and the log says why)."""


def request_access(*, session: Session, email: str, name: str, now: datetime | None = None) -> None:
    """Register an unverified officer for staff to verify, if ``email`` is at the domain of
    exactly one agency and is not registered yet; otherwise do nothing, silently.

    The caller answers the same either way, so the form tells nobody which addresses or domains
    are registered. Staff see the new officer as ``unverified`` (``brightline legal officer
    list``) and verify them with their agency before they can sign in; sign-in still needs the
    mailbox, so a record typed by someone else gives them nothing.
    """
    # Everything about the input is checked first, so that a refusal never depends on
    # whether the domain or the address is registered.
    clean_name = required_text("name", name, 200)
    try:
        local, clean_domain = email_parts(email)
    except InvalidInput:
        raise InvalidInput("enter your work email address") from None
    labels = clean_domain.split(".")
    suffixes = [".".join(labels[start:]) for start in range(len(labels))]
    agencies = set(
        session.scalars(select(AgencyDomain.agency_id).where(AgencyDomain.domain.in_(suffixes)))
    )
    if len(agencies) != 1:
        log.info("portal access asked from a domain of %d agencies: not registered", len(agencies))
        return
    (agency_id,) = agencies
    registered = session.scalar(
        select(Officer.id).where(func.lower(Officer.email) == f"{local}@{clean_domain}".lower())
    )
    if registered is not None:
        log.info("portal access asked for officer %d, already registered", registered)
        return
    pending = session.scalar(
        select(func.count())
        .select_from(Officer)
        .where(
            Officer.agency_id == agency_id,
            Officer.created_by == ACCESS_ACTOR,
            Officer.verified_at.is_(None),
            Officer.revoked_at.is_(None),
        )
    )
    if (pending or 0) >= MAX_PENDING_PER_AGENCY:
        log.warning("agency %d: portal access not registered, too many pending", agency_id)
        return
    officer = add_officer(
        session=session,
        agency_id=agency_id,
        handle=f"officer-{secrets.token_hex(5)}",
        name=clean_name,
        email=f"{local}@{clean_domain}",
        actor=ACCESS_ACTOR,
        now=now,
    )
    log.info("agency %d: officer %d asked for portal access (unverified)", agency_id, officer.id)


# -- sessions ----------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class PortalOfficer:
    """The signed-in officer, as every portal page sees them (no name or address: ids only)."""

    officer_id: int
    handle: str
    agency_id: int
    agency_name: str
    csrf_token: str

    @property
    def actor(self) -> str:
        """Who the request history records (the handle, never the name or address)."""
        return f"officer:{self.handle}"


def start_portal_session(
    *, session: Session, settings: PortalSettings, officer_id: int, now: datetime | None = None
) -> str:
    """A fresh session for the officer; returns the cookie token (stored only as its digest)."""
    when = now or utcnow()
    session.execute(delete(PortalSession).where(PortalSession.expires_at <= when))
    session.execute(delete(PortalFormKey).where(PortalFormKey.used_at <= when - FORM_KEY_RETENTION))
    token = secrets.token_urlsafe(32)
    session.add(
        PortalSession(
            token_digest=_digest(token),
            officer_id=officer_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=when,
            last_seen_at=when,
            expires_at=when + settings.session_lifetime,
        )
    )
    session.flush()
    return token


def resolve_portal_session(
    *, session: Session, settings: PortalSettings, token: str, now: datetime | None = None
) -> PortalOfficer | None:
    """Who holds this token; None (and the session deleted) if it is unknown, expired, idle too
    long, or its officer was revoked or is no longer verified."""
    when = now or utcnow()
    if not token or len(token) > 100:
        return None
    row = session.get(PortalSession, _digest(token))
    if row is None:
        return None
    officer = session.get(Officer, row.officer_id)
    if (
        officer is None
        or row.expires_at <= when
        or row.last_seen_at + settings.session_idle <= when
        or officer.revoked_at is not None
        or officer.verified_at is None
    ):
        session.delete(row)
        return None
    agency = session.get(Agency, officer.agency_id)
    if when - row.last_seen_at > timedelta(seconds=30):
        row.last_seen_at = when
    return PortalOfficer(
        officer_id=officer.id,
        handle=officer.handle,
        agency_id=officer.agency_id,
        agency_name=agency.name if agency is not None else "",
        csrf_token=row.csrf_token,
    )


def end_portal_session(*, session: Session, token: str) -> None:
    session.execute(delete(PortalSession).where(PortalSession.token_digest == _digest(token)))


def list_portal_sessions(*, session: Session, officer_id: int) -> list[PortalSession]:
    return list(
        session.scalars(
            select(PortalSession)
            .where(PortalSession.officer_id == officer_id)
            .order_by(PortalSession.created_at)
        )
    )


def end_officer_sessions(*, session: Session, officer_id: int) -> int:
    """Sign an officer out everywhere (staff, after a lost device); how many sessions ended.
    Unused sign-in codes die too. Revoking an officer does the same."""
    ended = end_portal_access(session=session, officer_id=officer_id)
    log.info("officer %d: %d portal session(s) ended by staff", officer_id, ended)
    return ended


def use_portal_form_key(
    *, session: Session, officer_id: int, form_key: str, now: datetime | None = None
) -> None:
    """Accept a form's one-time key, or refuse a form that was already submitted."""
    if not _FORM_KEY.fullmatch(form_key):
        raise InvalidInput("the form is missing its key; reload the page and try again")
    values = {"form_key": form_key, "officer_id": officer_id, "used_at": now or utcnow()}
    if not insert_ignoring_conflict(session, PortalFormKey, values):
        raise Conflict(
            "this form was already submitted (a double click, a reload or a replayed request); "
            "it was not sent again"
        )


# -- submissions and what officers see ---------------------------------------------------------


def parse_named(
    accounts: str, identifiers: str
) -> tuple[list[NamedAccount], list[NamedIdentifier]]:
    """The accounts (``service:user-id``) and identifiers (``kind:value``) typed one per line."""
    named_accounts = []
    for number, line in enumerate(_lines(accounts), start=1):
        service, _sep, user_id = line.partition(":")
        if not service.strip() or not user_id.strip():
            raise InvalidInput(f"account line {number} is not SERVICE:USER_ID")
        named_accounts.append(NamedAccount(service.strip(), user_id.strip()))
    kinds = [kind.value for kind in IdentifierKind if kind is not IdentifierKind.ACCOUNT]
    named_identifiers = []
    for number, line in enumerate(_lines(identifiers), start=1):
        kind, _sep, value = line.partition(":")
        if kind.strip().lower() not in kinds or not value.strip():
            raise InvalidInput(
                f"identifier line {number} is not KIND:VALUE (KIND one of {', '.join(kinds)})"
            )
        named_identifiers.append(
            NamedIdentifier(IdentifierKind(kind.strip().lower()), value.strip())
        )
    return named_accounts, named_identifiers


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def parse_due_date(text: str, calendar: BusinessCalendar) -> datetime | None:
    """A stated due date (``YYYY-MM-DD``) as the end of that day in the legal time zone."""
    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput("the due date is a date such as 2027-01-15") from None
    return calendar.end_of_day(day)


@dataclass(frozen=True, slots=True)
class PortalSubmission:
    """What an officer's form carries; who sent it comes from their session, never the form."""

    type: str
    external_reference: str
    legal_basis: str
    accounts: str = ""
    identifiers: str = ""
    stated_due: str = ""
    jurisdiction: str = ""
    attachments: Sequence[AttachmentUpload] = ()


def submit_portal_request(
    *,
    session: Session,
    context: LegalContext,
    store: EvidenceStore,
    officer: PortalOfficer,
    submission: PortalSubmission,
    now: datetime | None = None,
) -> LegalRequest:
    """Receive a request from the portal, for the officer's own agency, through
    :func:`~brightline.legal.requests.submit_request` (every check of staff entry applies:
    the officer verified, a duplicate reference refused, documents only)."""
    try:
        kind = RequestType(submission.type)
    except ValueError:
        raise InvalidInput(
            f"the request type is one of {', '.join(t.value for t in RequestType)}"
        ) from None
    accounts, identifiers = parse_named(submission.accounts, submission.identifiers)
    create = LegalRequestCreate(
        type=kind,
        agency_id=officer.agency_id,
        officer_id=officer.officer_id,
        external_reference=submission.external_reference,
        legal_basis=submission.legal_basis,
        accounts=accounts,
        identifiers=identifiers,
        attachments=submission.attachments,
        stated_due_at=parse_due_date(submission.stated_due, context.settings.calendar),
        jurisdiction=submission.jurisdiction or None,
        channel=Channel.PORTAL,
    )
    return submit_request(
        session=session, context=context, store=store, create=create, actor=officer.actor, now=now
    )


@dataclass(frozen=True, slots=True)
class HistoryLine:
    at: datetime
    kind: str
    from_status: str | None
    to_status: str | None


@dataclass(frozen=True, slots=True)
class AttachmentLine:
    position: int
    media_type: str
    size: int
    filename: str | None
    added_at: datetime


@dataclass(frozen=True, slots=True)
class PortalRequestView:
    """One request as its agency's officers see it: no notes, flags, holds, staff names or
    account states (whether an account is known to the platform is the platform's to say)."""

    request: LegalRequest
    officer_handle: str
    deadlines: list[Deadline]
    overdue: bool
    named: list[tuple[str, str, str]]
    attachments: list[AttachmentLine] = field(default_factory=list)
    history: list[HistoryLine] = field(default_factory=list)


def portal_request_view(
    *, session: Session, request_id: int, agency_id: int, now: datetime | None = None
) -> PortalRequestView:
    """The officer's view of one of their agency's requests; NotFound for any other."""
    detail = request_detail(session=session, request_id=request_id, agency_id=agency_id, now=now)
    return PortalRequestView(
        request=detail.summary.request,
        officer_handle=detail.summary.officer_handle,
        deadlines=pending_deadlines(detail.summary.request),
        overdue=detail.summary.overdue,
        named=[(a.kind, a.service, a.value) for a in detail.accounts],
        attachments=[
            AttachmentLine(n, a.media_type, a.size, a.filename, a.added_at)
            for n, a in enumerate(detail.attachments, start=1)
        ],
        history=[
            HistoryLine(e.at, e.kind, e.from_status, e.to_status)
            for e in detail.events
            if e.kind in PUBLIC_EVENTS
        ],
    )
