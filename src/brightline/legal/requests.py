"""Receiving legal process, and reading it back for staff (and, later, the officer portal).

:func:`submit_request` checks everything before it writes anything: the officer (verified, not
revoked, of that agency), a duplicate (same agency and reference, however it is typed), the
accounts and identifiers named, each attachment (a document, within the size cap). Only then are
the attachments put in the encrypted vault and the rows written, so a malformed request leaves
no trace and touches no evidence. Named accounts Brightline does not know are flagged for staff,
and so are identifiers that are not accounts (an email, a phone number) until staff resolve
them.

The readers take an optional ``agency_id``: the portal passes the signed-in officer's agency so
that an officer sees only their agency's requests (another agency's request is "not found").
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from brightline.errors import Conflict, InvalidInput, NotFound
from brightline.evidence.store import EvidenceStore
from brightline.legal.deadlines import as_utc
from brightline.legal.documents import AttachmentUpload, clean_filename, document_type
from brightline.legal.escalation import page_on_call, urgency_order
from brightline.legal.hooks import LegalContext
from brightline.legal.models import (
    OPEN_STATUSES,
    AccountState,
    Agency,
    Channel,
    Escalation,
    EventKind,
    FlagCode,
    IdentifierKind,
    LegalRequest,
    Officer,
    RequestAccount,
    RequestAttachment,
    RequestEvent,
    RequestFlag,
    RequestNote,
    RequestStatus,
    RequestType,
)
from brightline.legal.officers import check_may_submit, get_agency, get_officer
from brightline.legal.records import (
    Deadline,
    clean_text,
    is_overdue,
    next_deadline,
    raise_flag,
    record_event,
    refresh_next_deadline,
    required_text,
)
from brightline.review.models import Subject
from brightline.storage.base import utcnow

logger = logging.getLogger(__name__)

MAX_NAMED = 200
"""Most accounts and identifiers one request may name."""
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class NamedAccount:
    """A platform account: the service and the platform's own user id."""

    service: str
    platform_user_id: str


@dataclass(frozen=True, slots=True)
class NamedIdentifier:
    """Something that is not (yet) an account: an email address, a phone number, a URL."""

    kind: IdentifierKind
    value: str


@dataclass(frozen=True, slots=True)
class LegalRequestCreate:
    """A request as received, from the portal or entered by staff."""

    type: RequestType
    agency_id: int
    officer_id: int
    external_reference: str
    legal_basis: str
    accounts: Sequence[NamedAccount] = ()
    identifiers: Sequence[NamedIdentifier] = ()
    attachments: Sequence[AttachmentUpload] = ()
    stated_due_at: datetime | None = None
    """The date the process itself sets (a return date), if any: it always counts."""
    received_at: datetime | None = None
    """When it reached the platform (staff entering a letter a day late); default now."""
    jurisdiction: str | None = None
    """Required for a foreign request (the country or authority)."""
    channel: Channel = Channel.STAFF


def reference_key(reference: str) -> str:
    """The form duplicates are found by: blanks collapsed, case folded."""
    return " ".join(reference.split()).casefold()


def _named_rows(create: LegalRequestCreate) -> list[tuple[IdentifierKind, str, str]]:
    rows: list[tuple[IdentifierKind, str, str]] = []
    for number, account in enumerate(create.accounts, start=1):
        service = required_text(f"service of account {number}", account.service, 200)
        user_id = required_text(f"user id of account {number}", account.platform_user_id, 200)
        rows.append((IdentifierKind.ACCOUNT, service, user_id))
    for number, identifier in enumerate(create.identifiers, start=1):
        if identifier.kind is IdentifierKind.ACCOUNT:
            raise InvalidInput("name accounts as (service, user id) pairs, not identifiers")
        value = required_text(f"identifier {number}", identifier.value, 500)
        rows.append((identifier.kind, "", value))
    if not rows:
        raise InvalidInput("a request names at least one account or identifier")
    if len(rows) > MAX_NAMED:
        raise InvalidInput(f"a request names at most {MAX_NAMED} accounts and identifiers")
    seen = set()
    for kind, service, value in rows:
        key = (kind, service, value)
        if key in seen:
            raise InvalidInput(f"the same {kind.value} is named twice")
        seen.add(key)
    return rows


def _checked_attachments(
    context: LegalContext, attachments: Sequence[AttachmentUpload]
) -> list[tuple[AttachmentUpload, str, str | None]]:
    limit = context.settings.max_attachments
    if len(attachments) > limit:
        raise InvalidInput(f"a request carries at most {limit} attachments")
    return [
        (
            upload,
            document_type(
                upload.data,
                position=number,
                max_bytes=context.settings.max_attachment_bytes,
            ),
            clean_filename(upload.filename),
        )
        for number, upload in enumerate(attachments, start=1)
    ]


def find_duplicate(*, session: Session, agency_id: int, external_reference: str) -> int | None:
    """The id of the agency's request with that reference, if there is one."""
    return session.scalar(
        select(LegalRequest.id).where(
            LegalRequest.agency_id == agency_id,
            LegalRequest.reference_key == reference_key(external_reference),
        )
    )


def submit_request(
    *,
    session: Session,
    context: LegalContext,
    store: EvidenceStore,
    create: LegalRequestCreate,
    actor: str,
    now: datetime | None = None,
) -> LegalRequest:
    """Receive a request: checked in full, then its attachments stored and its clock started.

    Refused: an unknown agency or officer (NotFound), an officer who is not verified or is
    revoked and a duplicate (Conflict, naming the existing request), anything malformed
    (InvalidInput: a missing reference or basis, no account named, a non-document or oversized
    attachment, a received time in the future, a foreign request without its jurisdiction).
    """
    when = as_utc(now) if now is not None else utcnow()
    received = as_utc(create.received_at, "the time received") if create.received_at else when
    if received > when + CLOCK_SKEW:
        raise InvalidInput("a request cannot be received in the future")
    stated = as_utc(create.stated_due_at, "the due date") if create.stated_due_at else None
    clean_actor = required_text("actor", actor, 200)
    reference = required_text("external reference", create.external_reference, 200)
    basis = required_text("legal basis", create.legal_basis, 4000, multiline=True)
    jurisdiction = clean_text("jurisdiction", create.jurisdiction, 100, required=False)
    if create.type is RequestType.FOREIGN and jurisdiction is None:
        raise InvalidInput("a foreign request names its jurisdiction (country or authority)")
    get_agency(session=session, agency_id=create.agency_id)
    check_may_submit(get_officer(session=session, officer_id=create.officer_id), create.agency_id)
    duplicate = find_duplicate(
        session=session, agency_id=create.agency_id, external_reference=reference
    )
    if duplicate is not None:
        raise Conflict(
            f"duplicate submission: request {duplicate} from this agency has the same reference"
        )
    named = _named_rows(create)
    attachments = _checked_attachments(context, create.attachments)

    # Everything is checked: now the vault, then the rows.
    refs = [store.put(upload.data) for upload, _media_type, _name in attachments]
    clock = context.settings.clock(create.type)
    request = LegalRequest(
        type=create.type.value,
        status=RequestStatus.RECEIVED.value,
        channel=create.channel.value,
        agency_id=create.agency_id,
        officer_id=create.officer_id,
        external_reference=reference,
        reference_key=reference_key(reference),
        legal_basis=basis,
        jurisdiction=jurisdiction,
        received_at=received,
        received_by=clean_actor,
        stated_due_at=stated,
        verify_due_at=context.settings.calendar.add(received, clock.verify),
        renewals=0,
        max_renewals=0,
    )
    refresh_next_deadline(request)
    try:
        with session.begin_nested():
            session.add(request)
            session.flush()
    except IntegrityError:
        raise Conflict(
            "duplicate submission: a request from this agency with the same reference was "
            "received at the same moment"
        ) from None
    for (upload, media_type, filename), ref in zip(attachments, refs, strict=True):
        session.add(
            RequestAttachment(
                request_id=request.id,
                ref=ref,
                media_type=media_type,
                size=len(upload.data),
                filename=filename,
                added_at=when,
                added_by=clean_actor,
            )
        )
    record_event(
        session,
        request,
        EventKind.RECEIVED,
        actor=clean_actor,
        at=when,
        to_status=request.status,
        details={
            "type": request.type,
            "channel": request.channel,
            "named": len(named),
            "attachments": len(attachments),
            "verify_due_at": request.verify_due_at.isoformat(),
        },
    )
    _add_named(session, request, named, at=when, actor=clean_actor)
    if request.is_emergency:
        page_on_call(
            session,
            context,
            request,
            message=(
                f"emergency legal request {request.id} received; verification due "
                f"{request.verify_due_at.isoformat()}"
            ),
            at=when,
            actor=clean_actor,
        )
    session.flush()
    logger.info(
        "legal request %d received (%s, %d named, %d attachment(s))",
        request.id,
        request.type,
        len(named),
        len(attachments),
    )
    return request


def _add_named(
    session: Session,
    request: LegalRequest,
    named: list[tuple[IdentifierKind, str, str]],
    *,
    at: datetime,
    actor: str,
) -> None:
    for kind, service, value in named:
        subject_id = None
        if kind is IdentifierKind.ACCOUNT:
            subject_id = session.scalar(
                select(Subject.id).where(
                    Subject.service == service, Subject.platform_user_id == value
                )
            )
            state = AccountState.KNOWN if subject_id is not None else AccountState.UNKNOWN
        else:
            state = AccountState.TO_RESOLVE
        account = RequestAccount(
            request_id=request.id,
            kind=kind.value,
            service=service,
            value=value,
            state=state.value,
            subject_id=subject_id,
        )
        session.add(account)
        session.flush()
        if state is AccountState.UNKNOWN:
            raise_flag(
                session,
                request,
                FlagCode.UNKNOWN_ACCOUNT,
                f"named account #{account.id} is not known to Brightline review: nothing is "
                "preserved here; check the platform's own records",
                at=at,
                actor=actor,
                account_id=account.id,
            )
        elif state is AccountState.TO_RESOLVE:
            raise_flag(
                session,
                request,
                FlagCode.IDENTIFIER_TO_RESOLVE,
                f"named identifier #{account.id} ({kind.value}) is not an account: find the "
                "account it belongs to",
                at=at,
                actor=actor,
                account_id=account.id,
            )


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LegalRequestRead:
    """One line of a listing: the request, who sent it, its next deadline."""

    request: LegalRequest
    agency_name: str
    officer_handle: str
    next_deadline: Deadline | None
    overdue: bool
    open_flags: int


@dataclass(frozen=True, slots=True)
class LegalRequestDetail:
    """Everything about one request, for staff (the portal shows officers a subset)."""

    summary: LegalRequestRead
    accounts: list[RequestAccount] = field(default_factory=list)
    attachments: list[RequestAttachment] = field(default_factory=list)
    notes: list[RequestNote] = field(default_factory=list)
    flags: list[RequestFlag] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
    events: list[RequestEvent] = field(default_factory=list)

    @property
    def hold_ids(self) -> list[int]:
        return sorted({a.hold_id for a in self.accounts if a.hold_id is not None})


def get_request(*, session: Session, request_id: int, agency_id: int | None = None) -> LegalRequest:
    """One request; NotFound if it does not exist or belongs to another agency than given."""
    request = session.get(LegalRequest, request_id)
    if request is None or (agency_id is not None and request.agency_id != agency_id):
        raise NotFound(f"no legal request with id {request_id}")
    return request


def _open_flag_counts(session: Session, ids: Sequence[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = session.execute(
        select(RequestFlag.request_id, func.count())
        .where(RequestFlag.request_id.in_(ids), RequestFlag.resolved_at.is_(None))
        .group_by(RequestFlag.request_id)
    ).all()
    return {int(request_id): int(count) for request_id, count in rows}


def list_requests(
    *,
    session: Session,
    now: datetime | None = None,
    open_only: bool = False,
    overdue_only: bool = False,
    agency_id: int | None = None,
    assignee: str | None = None,
    limit: int = 1000,
) -> list[LegalRequestRead]:
    """Requests, emergency first, then by next deadline (closed ones last), newest ids last."""
    when = as_utc(now) if now is not None else utcnow()
    query = (
        select(LegalRequest, Agency.name, Officer.handle)
        .join(Agency, Agency.id == LegalRequest.agency_id)
        .join(Officer, Officer.id == LegalRequest.officer_id)
        .order_by(*urgency_order())
    )
    if open_only or overdue_only:
        query = query.where(LegalRequest.status.in_(OPEN_STATUSES))
    if overdue_only:
        query = query.where(LegalRequest.next_due_at <= when)
    if agency_id is not None:
        query = query.where(LegalRequest.agency_id == agency_id)
    if assignee is not None:
        query = query.where(LegalRequest.assignee == assignee)
    rows = session.execute(query.limit(limit)).all()
    flags = _open_flag_counts(session, [row[0].id for row in rows])
    listed = [
        LegalRequestRead(
            request=request,
            agency_name=agency_name,
            officer_handle=handle,
            next_deadline=next_deadline(request),
            overdue=is_overdue(request, when),
            open_flags=flags.get(request.id, 0),
        )
        for request, agency_name, handle in rows
    ]
    if overdue_only:
        listed = [item for item in listed if item.overdue]
    return listed


def request_detail(
    *,
    session: Session,
    request_id: int,
    agency_id: int | None = None,
    now: datetime | None = None,
) -> LegalRequestDetail:
    request = get_request(session=session, request_id=request_id, agency_id=agency_id)
    when = as_utc(now) if now is not None else utcnow()
    agency = session.get(Agency, request.agency_id)
    officer = session.get(Officer, request.officer_id)

    summary = LegalRequestRead(
        request=request,
        agency_name=agency.name if agency else "",
        officer_handle=officer.handle if officer else "",
        next_deadline=next_deadline(request),
        overdue=is_overdue(request, when),
        open_flags=_open_flag_counts(session, [request_id]).get(request_id, 0),
    )
    return LegalRequestDetail(
        summary=summary,
        accounts=list(
            session.scalars(
                select(RequestAccount)
                .where(RequestAccount.request_id == request_id)
                .order_by(RequestAccount.id)
            )
        ),
        attachments=list(
            session.scalars(
                select(RequestAttachment)
                .where(RequestAttachment.request_id == request_id)
                .order_by(RequestAttachment.id)
            )
        ),
        notes=list(
            session.scalars(
                select(RequestNote)
                .where(RequestNote.request_id == request_id)
                .order_by(RequestNote.id)
            )
        ),
        flags=list(
            session.scalars(
                select(RequestFlag)
                .where(RequestFlag.request_id == request_id)
                .order_by(RequestFlag.id)
            )
        ),
        escalations=list(
            session.scalars(
                select(Escalation)
                .where(Escalation.request_id == request_id)
                .order_by(Escalation.id)
            )
        ),
        events=list(
            session.scalars(
                select(RequestEvent)
                .where(RequestEvent.request_id == request_id)
                .order_by(RequestEvent.id)
            )
        ),
    )
