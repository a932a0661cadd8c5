"""Preservation is immediate: a verified preservation request holds what the vault has.

Verifying a preservation request places, in the same transaction, one legal hold
(:func:`brightline.evidence.retention.place_hold`) per named account on everything already
preserved for it, for the request's period (``LegalSettings.preservation_days``), and asks the
platform to snapshot each named account (:class:`~brightline.legal.hooks.AccountSnapshotter`).
Renewing the request renews its holds; withdrawing or rejecting it releases them; a period that
ends without renewal expires the request and records the holds' end
(:mod:`brightline.legal.escalation`). The chain of custody records every hold, renewal and
release through the evidence functions that make them.

Nothing is dropped silently: an account Brightline does not know, or one with nothing
preserved, is marked on the request and flagged for staff, and a request that holds nothing at
all says so.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from brightline.errors import NotFound
from brightline.evidence.models import HoldKind, LegalHold
from brightline.evidence.retention import place_hold, refs_for_account, release_hold, renew_hold
from brightline.legal.hooks import LegalContext
from brightline.legal.models import (
    AccountState,
    EventKind,
    FlagCode,
    IdentifierKind,
    LegalRequest,
    RequestAccount,
)
from brightline.legal.records import raise_flag, record_event
from brightline.settings import PreservationSettings

logger = logging.getLogger(__name__)

_TICKET = re.compile(r"[A-Za-z0-9_.:+\-]{1,100}")


def hold_settings(context: LegalContext) -> PreservationSettings:
    """Holds placed for a request run on the request's clock, not the manual-hold default."""
    return PreservationSettings(
        hold_days=context.settings.preservation_days,
        hold_renewals=context.settings.preservation_renewals,
    )


def request_accounts(session: Session, request_id: int) -> list[RequestAccount]:
    return list(
        session.scalars(
            select(RequestAccount)
            .where(RequestAccount.request_id == request_id)
            .order_by(RequestAccount.id)
        )
    )


def _hold_reference(request: LegalRequest) -> str:
    return f"legal request {request.id}: {request.external_reference}"[:200]


def place_request_holds(
    session: Session, context: LegalContext, request: LegalRequest, *, actor: str, at: datetime
) -> list[int]:
    """Hold every named account's preserved evidence; the hold ids (one per account held)."""
    holds: list[int] = []
    for account in request_accounts(session, request.id):
        if account.kind != IdentifierKind.ACCOUNT or account.hold_id is not None:
            continue
        try:
            refs = refs_for_account(
                session=session, service=account.service, platform_user_id=account.value
            )
        except NotFound:
            if account.state != AccountState.UNKNOWN:
                account.state = AccountState.UNKNOWN.value
                _flag_unknown(session, request, account, at=at, actor=actor)
            continue
        if not refs:
            account.state = AccountState.NOTHING_PRESERVED.value
            raise_flag(
                session,
                request,
                FlagCode.NOTHING_PRESERVED,
                f"named account #{account.id} is known but nothing is preserved for it: "
                "check the platform's records and snapshot",
                at=at,
                actor=actor,
                account_id=account.id,
            )
            continue
        hold = place_hold(
            session=session,
            custody_key=context.custody_key,
            refs=refs,
            kind=HoldKind.PRESERVATION_REQUEST,
            reference=_hold_reference(request),
            reason=f"preservation request {request.id} verified",
            actor=actor,
            settings=hold_settings(context),
            now=at,
        )
        account.hold_id = hold.id
        account.state = AccountState.HELD.value
        record_event(
            session,
            request,
            EventKind.HOLD_PLACED,
            actor=actor,
            at=at,
            details={"hold": hold.id, "account": account.id, "objects": len(refs)},
        )
        holds.append(hold.id)
    if not holds:
        raise_flag(
            session,
            request,
            FlagCode.NO_ACCOUNT_HELD,
            "nothing is held: no named account has preserved evidence in Brightline; "
            "preserve through the platform's own records",
            at=at,
            actor=actor,
        )
    session.flush()
    logger.info("legal request %d: %d hold(s) placed", request.id, len(holds))
    return holds


def _flag_unknown(
    session: Session,
    request: LegalRequest,
    account: RequestAccount,
    *,
    at: datetime,
    actor: str,
) -> None:
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


def snapshot_accounts(
    session: Session, context: LegalContext, request: LegalRequest, *, actor: str, at: datetime
) -> None:
    """Ask the platform to snapshot every named account; a failure is flagged, not raised."""
    configured = getattr(context.snapshotter, "configured", True) is not False
    for account in request_accounts(session, request.id):
        if account.kind != IdentifierKind.ACCOUNT:
            continue
        try:
            ticket = context.snapshotter.snapshot(
                request_id=request.id, service=account.service, platform_user_id=account.value
            )
        except Exception as exc:  # a plugin may raise anything; the holds must stay
            logger.warning(
                "snapshot hook failed for legal request %d, account %d: %s",
                request.id,
                account.id,
                type(exc).__name__,
            )
            raise_flag(
                session,
                request,
                FlagCode.SNAPSHOT_FAILED,
                f"the platform snapshot of named account #{account.id} failed: start it by hand",
                at=at,
                actor=actor,
                account_id=account.id,
            )
            continue
        record_event(
            session,
            request,
            EventKind.SNAPSHOT_REQUESTED,
            actor=actor,
            at=at,
            details={
                "account": account.id,
                "configured": configured,
                "ticket": ticket if ticket is not None and _TICKET.fullmatch(ticket) else None,
            },
        )


def _active_holds(
    session: Session, request: LegalRequest, at: datetime
) -> tuple[list[tuple[RequestAccount, LegalHold]], list[RequestAccount]]:
    """The request's holds still running at ``at``, and the accounts whose hold has ended."""
    active, ended = [], []
    for account in request_accounts(session, request.id):
        if account.hold_id is None:
            continue
        hold = session.get(LegalHold, account.hold_id)
        if hold is None:  # pragma: no cover - a foreign key keeps it
            continue
        if hold.released_at is None and hold.expires_at > at:
            active.append((account, hold))
        else:
            ended.append(account)
    return active, ended


def renew_request_holds(
    session: Session, context: LegalContext, request: LegalRequest, *, actor: str, at: datetime
) -> list[int]:
    """Renew the request's running holds; an ended one is flagged (never silently skipped)."""
    active, ended = _active_holds(session, request, at)
    renewed = []
    for account, hold in active:
        renew_hold(
            session=session,
            custody_key=context.custody_key,
            hold_id=hold.id,
            actor=actor,
            reason=f"preservation request {request.id} renewed",
            settings=hold_settings(context),
            now=at,
        )
        record_event(
            session,
            request,
            EventKind.HOLD_RENEWED,
            actor=actor,
            at=at,
            details={"hold": hold.id, "account": account.id},
        )
        renewed.append(hold.id)
    for account in ended:
        raise_flag(
            session,
            request,
            FlagCode.HOLD_NOT_RENEWED,
            f"legal hold {account.hold_id} of named account #{account.id} had already ended "
            "and was not renewed: place a new hold if the evidence must be kept",
            at=at,
            actor=actor,
            account_id=account.id,
        )
    return renewed


def release_request_holds(
    session: Session,
    context: LegalContext,
    request: LegalRequest,
    *,
    actor: str,
    reason: str,
    at: datetime,
) -> list[int]:
    """Release the request's running holds (withdrawn or rejected); ended ones are left."""
    released = []
    for account, hold in _active_holds(session, request, at)[0]:
        release_hold(
            session=session,
            custody_key=context.custody_key,
            hold_id=hold.id,
            actor=actor,
            reason=reason,
            now=at,
        )
        record_event(
            session,
            request,
            EventKind.HOLD_RELEASED,
            actor=actor,
            at=at,
            details={"hold": hold.id, "account": account.id},
        )
        released.append(hold.id)
    return released


def preservation_period(start: datetime, days: int) -> datetime:
    """When a preservation period begun at ``start`` ends: exactly as its holds do."""
    return start + timedelta(days=days)
