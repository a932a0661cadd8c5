"""Synthetic agencies, officers and requests for the legal-process tests.

Agencies and people are placeholders ("Example County Sheriff", ``officer-0001``) at reserved
domains (``*.example``); accounts are ``example:user-…``; attachments are a few bytes of
stand-in document headers, never real process.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from brightline.evidence.preservation import preserve_report
from brightline.evidence.store import EvidenceStore
from brightline.legal import (
    AttachmentUpload,
    LegalContext,
    LegalRequest,
    LegalRequestCreate,
    LegalSettings,
    NamedAccount,
    Officer,
    RequestType,
    add_agency,
    add_officer,
    submit_request,
    verify_officer,
)
from brightline.legal.models import Agency
from brightline.settings import PreservationSettings
from tests.evidence.helpers import FinishedReport, make_finished_report

T0 = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
"""A Tuesday afternoon (09:00 in New York)."""
KEY = secrets.token_bytes(32)
PDF = b"%PDF-1.7\n% synthetic placeholder document\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
TEXT = b"Synthetic placeholder letter for tests.\nReference: EX-0001\n"


@dataclass
class RecordingPager:
    pages: list[tuple[str, int, str]] = field(default_factory=list)
    fail: bool = False

    def page(self, *, role: str, request_id: int, message: str) -> None:
        if self.fail:
            raise RuntimeError("synthetic pager outage")
        self.pages.append((role, request_id, message))


@dataclass
class RecordingSnapshotter:
    calls: list[tuple[int, str, str]] = field(default_factory=list)
    fail: bool = False

    def snapshot(self, *, request_id: int, service: str, platform_user_id: str) -> str | None:
        if self.fail:
            raise RuntimeError("synthetic platform outage")
        self.calls.append((request_id, service, platform_user_id))
        return f"snap-{len(self.calls):04d}"


def context(settings: LegalSettings | None = None, **hooks: Any) -> LegalContext:
    return LegalContext(settings=settings or LegalSettings(), custody_key=KEY, **hooks)


@dataclass(frozen=True)
class Sender:
    agency: Agency
    officer: Officer


def make_sender(
    session: Session,
    *,
    name: str | None = None,
    verified: bool = True,
    domain: str = "county-sheriff.example",
) -> Sender:
    tag = uuid.uuid4().hex[:8]
    agency = add_agency(
        session=session,
        name=name or f"Example County Sheriff {tag}",
        domains=[domain],
        actor="staff-0001",
        now=T0 - timedelta(days=30),
    )
    officer = add_officer(
        session=session,
        agency_id=agency.id,
        handle=f"officer-{tag}",
        name="Placeholder Officer",
        email=f"officer-{tag}@{domain}",
        actor="staff-0001",
        now=T0 - timedelta(days=30),
    )
    if verified:
        verify_officer(
            session=session, officer_id=officer.id, actor="staff-0001", now=T0 - timedelta(days=29)
        )
    return Sender(agency, officer)


def new_request(
    sender: Sender,
    *,
    kind: RequestType = RequestType.PRESERVATION,
    accounts: Sequence[tuple[str, str]] = (("example", "user-unknown-0001"),),
    reference: str | None = None,
    attachments: Sequence[bytes] = (PDF,),
    **extra: Any,
) -> LegalRequestCreate:
    create = LegalRequestCreate(
        type=kind,
        agency_id=sender.agency.id,
        officer_id=sender.officer.id,
        external_reference=reference or f"EX-{uuid.uuid4().hex[:10]}",
        legal_basis="18 U.S.C. 2703(f) (synthetic test request)",
        accounts=[NamedAccount(service, user) for service, user in accounts],
        attachments=[
            AttachmentUpload(data, f"letter-{n}.pdf") for n, data in enumerate(attachments)
        ],
    )
    if kind is RequestType.FOREIGN:
        create = replace(create, jurisdiction="Exampleland")
    return replace(create, **extra)


def submit(
    session: Session,
    ctx: LegalContext,
    store: EvidenceStore,
    create: LegalRequestCreate,
    *,
    now: datetime = T0,
) -> LegalRequest:
    return submit_request(
        session=session, context=ctx, store=store, create=create, actor="staff-0001", now=now
    )


def preserved_account(
    session: Session,
    store: EvidenceStore,
    *,
    files: int = 2,
    custody_key: bytes = KEY,
    preserved_at: datetime = T0 - timedelta(days=10),
) -> FinishedReport:
    """A reviewed account whose finished report is preserved (media, XML, case record).

    Tests against a running app pass the app's ``custody_key``, so that the log still verifies.
    """
    made = make_finished_report(session, store, files=files)
    preserve_report(
        session=session,
        report_id=made.report_id,
        store=store,
        custody_key=custody_key,
        settings=PreservationSettings(),
        now=preserved_at,
    )
    return made
