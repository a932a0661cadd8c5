"""What every legal-process service shares: input checks, the event history, flags, deadlines.

Event ``details`` take ids, counts, short codes and times only: a request's free text (its legal
basis, notes, reasons) stays in its own columns, so that the history can be exported to auditors
without carrying it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from brightline.errors import InvalidInput, NotFound
from brightline.legal.models import (
    DeadlineKind,
    EventKind,
    FlagCode,
    LegalRequest,
    RequestEvent,
    RequestFlag,
    RequestStatus,
)

DetailValue = int | bool | str | None
_SAFE_CODE = re.compile(r"[A-Za-z0-9_.:+\-]{0,100}")
_SINGLE_LINE_BAD = re.compile(r"[\x00-\x1f\x7f]")
_MULTI_LINE_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(
    name: str, value: str | None, limit: int, *, required: bool = True, multiline: bool = False
) -> str | None:
    """``value`` stripped, or InvalidInput naming the field (never echoing the value)."""
    value = value.strip() if value is not None else None
    if not value:
        if required:
            raise InvalidInput(f"a {name} is required")
        return None
    if len(value) > limit:
        raise InvalidInput(f"the {name} is at most {limit} characters")
    if (_MULTI_LINE_BAD if multiline else _SINGLE_LINE_BAD).search(value):
        raise InvalidInput(f"the {name} contains control characters")
    return value


def required_text(name: str, value: str | None, limit: int, *, multiline: bool = False) -> str:
    cleaned = clean_text(name, value, limit, required=True, multiline=multiline)
    if cleaned is None:  # pragma: no cover - clean_text raises for a required value
        raise InvalidInput(f"a {name} is required")
    return cleaned


def record_event(
    session: Session,
    request: LegalRequest,
    kind: EventKind,
    *,
    actor: str,
    at: datetime,
    from_status: str | None = None,
    to_status: str | None = None,
    details: Mapping[str, DetailValue] | None = None,
) -> RequestEvent:
    for key, value in (details or {}).items():
        if not _SAFE_CODE.fullmatch(key) or (
            isinstance(value, str) and not _SAFE_CODE.fullmatch(value)
        ):
            raise InvalidInput("event details are short codes, ids, counts and times only")
    event = RequestEvent(
        request_id=request.id,
        at=at,
        kind=kind.value,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        details=json.dumps(dict(details or {}), sort_keys=True, separators=(",", ":")),
    )
    session.add(event)
    return event


def raise_flag(
    session: Session,
    request: LegalRequest,
    code: FlagCode,
    message: str,
    *,
    at: datetime,
    actor: str,
    account_id: int | None = None,
) -> RequestFlag:
    """Put something in front of staff: kept until resolved, and in the history."""
    flag = RequestFlag(
        request_id=request.id, account_id=account_id, code=code.value, message=message, raised_at=at
    )
    session.add(flag)
    session.flush()
    record_event(
        session,
        request,
        EventKind.FLAGGED,
        actor=actor,
        at=at,
        details={"flag": flag.id, "code": code.value, "account": account_id},
    )
    return flag


def load_request(session: Session, request_id: int, *, for_update: bool = False) -> LegalRequest:
    request = session.get(LegalRequest, request_id, with_for_update=for_update)
    if request is None:
        raise NotFound(f"no legal request with id {request_id}")
    return request


@dataclass(frozen=True, slots=True)
class Deadline:
    """A pending deadline of an open request: what is due, when, and since when it ran."""

    kind: DeadlineKind
    due_at: datetime
    started_at: datetime


def pending_deadlines(request: LegalRequest) -> list[Deadline]:
    """The deadlines an open request still has to meet, earliest first (none once closed)."""
    if not request.is_open:
        return []
    found: list[Deadline] = []
    if request.status == RequestStatus.RECEIVED:
        found.append(Deadline(DeadlineKind.VERIFY, request.verify_due_at, request.received_at))
    elif request.verified_at is not None:
        if request.respond_due_at is not None:
            found.append(
                Deadline(DeadlineKind.RESPOND, request.respond_due_at, request.verified_at)
            )
        if request.preserve_until is not None and request.preserve_from is not None:
            found.append(
                Deadline(
                    DeadlineKind.PRESERVATION_ENDS, request.preserve_until, request.preserve_from
                )
            )
    if request.stated_due_at is not None:
        found.append(Deadline(DeadlineKind.STATED, request.stated_due_at, request.received_at))
    return sorted(found, key=lambda deadline: (deadline.due_at, deadline.kind.value))


def next_deadline(request: LegalRequest) -> Deadline | None:
    """The earliest deadline an open request has to meet; None once it is closed."""
    pending = pending_deadlines(request)
    return pending[0] if pending else None


def is_overdue(request: LegalRequest, now: datetime) -> bool:
    """A deadline to act has passed (the end of a preservation period is not one: it expires)."""
    return any(
        deadline.due_at <= now
        for deadline in pending_deadlines(request)
        if deadline.kind is not DeadlineKind.PRESERVATION_ENDS
    )


def refresh_next_deadline(request: LegalRequest) -> None:
    """Keep the stored next deadline (for sorting and dashboards) in step with the request."""
    upcoming = next_deadline(request)
    request.next_due_at = upcoming.due_at if upcoming else None
    request.next_due_kind = upcoming.kind.value if upcoming else None
