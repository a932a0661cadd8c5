"""Bad input: clear refusals or flags for staff, never a silent drop (both databases).

A refused request writes nothing: no row, no vault object, no custody entry, and no hold that
another request placed is released.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from brightline.custody import verify_custody
from brightline.custody.models import CustodyRecord
from brightline.errors import Conflict, InvalidInput, NotFound
from brightline.evidence.models import LegalHold
from brightline.evidence.store import EvidenceStore
from brightline.legal import (
    AttachmentUpload,
    IdentifierKind,
    LegalRequest,
    LegalSettings,
    NamedIdentifier,
    RequestStatus,
    RequestType,
    add_agency,
    add_officer,
    request_detail,
    resolve_flag,
    revoke_officer,
    transition_request,
    verify_officer,
)
from brightline.legal.documents import document_type
from tests.legal.helpers import (
    JPEG,
    KEY,
    PDF,
    PNG,
    T0,
    TEXT,
    context,
    make_sender,
    new_request,
    preserved_account,
    submit,
)

CTX = context(LegalSettings(max_attachment_bytes=4096, max_attachments=3))


def _counts(session: Session, store: EvidenceStore) -> tuple[int, int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(LegalRequest)) or 0,
        len(list(store.refs())),
        session.scalar(select(func.count()).select_from(CustodyRecord)) or 0,
        session.scalar(select(func.count()).select_from(LegalHold).where(
            LegalHold.released_at.is_(None))) or 0,
    )  # fmt: skip


def test_attachments_are_kept_in_the_vault_with_only_metadata_in_the_database(
    session: Session, store: EvidenceStore
) -> None:
    sender = make_sender(session)
    request = submit(
        session, CTX, store, new_request(sender, attachments=[PDF, PNG, JPEG]),
    )  # fmt: skip
    detail = request_detail(session=session, request_id=request.id)
    assert [a.media_type for a in detail.attachments] == ["application/pdf", "image/png",
                                                          "image/jpeg"]  # fmt: skip
    assert [a.size for a in detail.attachments] == [len(PDF), len(PNG), len(JPEG)]
    assert store.read(detail.attachments[0].ref) == PDF
    assert detail.attachments[0].filename == "letter-0.pdf"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"PK\x03\x04" + b"\x00" * 40, "not a document"),  # an archive
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 40, "not a document"),  # an executable
        (b"<html><body>synthetic</body></html>", "not a document"),
        (b"  <svg xmlns='http://www.w3.org/2000/svg'/>", "not a document"),
        (b"\x00\x01\x02 binary", "not a document"),
        (b"\xff\xfe\x00broken utf-8", "not a document"),
        (b"", "attachment 2 is empty"),
        (b"%PDF-" + b"0" * 5000, "at most 4096 bytes"),
        (TEXT * 200, "at most 4096 bytes"),
    ],
)
def test_non_documents_and_oversized_attachments_are_refused_and_nothing_is_stored(
    session: Session, store: EvidenceStore, data: bytes, reason: str
) -> None:
    sender = make_sender(session)
    before = _counts(session, store)
    with pytest.raises(InvalidInput, match=reason):
        submit(session, CTX, store, new_request(sender, attachments=[PDF, data]))
    assert _counts(session, store) == before


def test_plain_text_is_a_document() -> None:
    assert document_type(TEXT, position=1, max_bytes=1000) == "text/plain"
    assert document_type("Résumé: exemple\r\n".encode(), position=1, max_bytes=100) == (
        "text/plain"
    )


def test_too_many_attachments_are_refused(session: Session, store: EvidenceStore) -> None:
    sender = make_sender(session)
    with pytest.raises(InvalidInput, match="at most 3 attachments"):
        submit(session, CTX, store, new_request(sender, attachments=[PDF] * 4))


def test_duplicates_are_refused_naming_the_existing_request(
    session: Session, store: EvidenceStore
) -> None:
    sender = make_sender(session)
    first = submit(session, CTX, store, new_request(sender, reference="SO-2026-0001"))
    for typed in ("SO-2026-0001", " so-2026-0001 ", "So-2026-0001"):
        before = _counts(session, store)
        with pytest.raises(Conflict, match=f"request {first.id} from this agency"):
            submit(session, CTX, store, new_request(sender, reference=typed, attachments=[PNG]))
        assert _counts(session, store) == before
    other = make_sender(session)  # another agency may use the same number
    submit(session, CTX, store, new_request(other, reference="SO-2026-0001"))


def test_unverified_revoked_and_foreign_officers_are_refused(
    session: Session, store: EvidenceStore
) -> None:
    pending = make_sender(session, verified=False)
    with pytest.raises(Conflict, match="not verified"):
        submit(session, CTX, store, new_request(pending))
    revoked = make_sender(session)
    revoke_officer(session=session, officer_id=revoked.officer.id, actor="staff-1",
                   reason="left the agency (synthetic)", now=T0)  # fmt: skip
    with pytest.raises(Conflict, match="revoked"):
        submit(session, CTX, store, new_request(revoked))
    other = make_sender(session)
    with pytest.raises(InvalidInput, match="not an officer of agency"):
        submit(session, CTX, store, replace(new_request(other), officer_id=revoked.officer.id))
    with pytest.raises(NotFound):
        submit(session, CTX, store, replace(new_request(other), officer_id=10**9))
    assert session.scalar(select(func.count()).select_from(LegalRequest)) == 0


def test_revoking_flags_open_requests_and_stays_revoked(
    session: Session, store: EvidenceStore
) -> None:
    sender = make_sender(session)
    request = submit(session, CTX, store, new_request(sender))
    revoke_officer(session=session, officer_id=sender.officer.id, actor="staff-1",
                   reason="synthetic", now=T0)  # fmt: skip
    codes = [flag.code for flag in request_detail(session=session, request_id=request.id).flags]
    assert "officer_revoked" in codes
    with pytest.raises(Conflict, match="revoked"):
        verify_officer(session=session, officer_id=sender.officer.id, actor="staff-1")
    with pytest.raises(Conflict, match="already revoked"):
        revoke_officer(session=session, officer_id=sender.officer.id, actor="s", reason="again")


def test_unknown_accounts_and_identifiers_are_flagged_for_staff(
    session: Session, store: EvidenceStore
) -> None:
    made = preserved_account(session, store)
    sender = make_sender(session)
    request = submit(
        session, CTX, store,
        new_request(
            sender,
            accounts=[(made.service, made.platform_user_id), ("example", "user-never-seen")],
            identifiers=[NamedIdentifier(IdentifierKind.EMAIL, "someone@example.org")],
        ),
    )  # fmt: skip
    detail = request_detail(session=session, request_id=request.id)
    assert [a.state for a in detail.accounts] == ["known", "unknown", "to_resolve"]
    assert [f.code for f in detail.flags] == ["unknown_account", "identifier_to_resolve"]
    assert detail.summary.open_flags == 2
    assert all("someone@" not in flag.message for flag in detail.flags)
    resolve_flag(session=session, flag_id=detail.flags[1].id, actor="staff-1", now=T0)
    assert request_detail(session=session, request_id=request.id).summary.open_flags == 1
    with pytest.raises(Conflict, match="already resolved"):
        resolve_flag(session=session, flag_id=detail.flags[1].id, actor="staff-1")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"accounts": []}, "at least one account"),
        ({"accounts": [("example", "user-1"), ("example", "user-1")]}, "named twice"),
        ({"accounts": [("", "user-1")]}, "service of account 1"),
        ({"reference": "EX\n0001"}, "control characters"),
        ({"legal_basis": "   "}, "legal basis is required"),
        ({"received_at": T0 + timedelta(hours=1)}, "in the future"),
        ({"received_at": datetime(2026, 12, 1, 9, 0)}, "time zone"),
        ({"stated_due_at": datetime(2026, 12, 9)}, "time zone"),
        ({"kind": RequestType.FOREIGN, "jurisdiction": None}, "jurisdiction"),
        ({"identifiers": [NamedIdentifier(IdentifierKind.ACCOUNT, "x")]}, "pairs"),
    ],
)
def test_malformed_requests_are_refused_and_release_nothing(
    session: Session, store: EvidenceStore, change: dict[str, object], message: str
) -> None:
    made = preserved_account(session, store)
    sender = make_sender(session)
    held = submit(
        session, CTX, store,
        new_request(sender, reference="HELD-0001",
                    accounts=[(made.service, made.platform_user_id)]),
    )  # fmt: skip
    transition_request(session=session, context=CTX, request_id=held.id,
                       to=RequestStatus.VERIFIED, actor="staff-1", now=T0)  # fmt: skip
    before = _counts(session, store)
    assert before[3] == 1
    extra = dict(change)  # the parameter is shared by both databases' runs: never mutate it
    kind = extra.pop("kind", RequestType.PRESERVATION)
    create = new_request(sender, kind=kind, **extra)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=message):
        submit(session, CTX, store, create)
    with pytest.raises(Conflict):  # a duplicate of the held request does not touch it either
        submit(session, CTX, store, new_request(sender, reference="held-0001"))
    with pytest.raises(InvalidInput):  # nor does a withdrawal without its reason
        transition_request(session=session, context=CTX, request_id=held.id,
                           to=RequestStatus.WITHDRAWN, actor="x", reason="")  # fmt: skip
    assert _counts(session, store) == before
    assert verify_custody(session=session, key=KEY).ok


def test_agencies_and_officers_are_checked(session: Session) -> None:
    agency = add_agency(session=session, name="Example State Police", actor="staff-1",
                        domains=["State-Police.example", "troopers.example."])  # fmt: skip
    with pytest.raises(Conflict, match="already exists"):
        add_agency(session=session, name="example state police", domains=["x.example"], actor="s")
    with pytest.raises(InvalidInput, match="at least one"):
        add_agency(session=session, name="Example Agency 2", domains=[], actor="s")
    with pytest.raises(InvalidInput, match="DNS name"):
        add_agency(session=session, name="Example Agency 3", domains=["not a domain"], actor="s")
    officer = add_officer(session=session, agency_id=agency.id, handle="Officer-0001",
                          name="Placeholder", email="officer-0001@unit.state-police.example",
                          actor="staff-1")  # fmt: skip
    assert (officer.handle, officer.state) == ("officer-0001", "unverified")
    with pytest.raises(InvalidInput, match="domain is not one the agency allows"):
        add_officer(session=session, agency_id=agency.id, handle="officer-0002", name="P",
                    email="officer-0002@state-police.example.org", actor="s")  # fmt: skip
    with pytest.raises(Conflict, match="email address already exists"):
        add_officer(session=session, agency_id=agency.id, handle="officer-0003", name="P",
                    email="OFFICER-0001@unit.state-police.example", actor="s")  # fmt: skip
    with pytest.raises(InvalidInput, match="malformed"):
        add_officer(session=session, agency_id=agency.id, handle="officer-0004", name="P",
                    email="no-at-sign", actor="s")  # fmt: skip
    with pytest.raises(NotFound):
        add_officer(session=session, agency_id=10**9, handle="officer-0005", name="P",
                    email="o@troopers.example", actor="s")  # fmt: skip
    verify_officer(session=session, officer_id=officer.id, actor="staff-1")
    assert officer.state == "verified"
    with pytest.raises(Conflict, match="already verified"):
        verify_officer(session=session, officer_id=officer.id, actor="staff-1")


def test_received_time_starts_the_clock(session: Session, store: EvidenceStore) -> None:
    sender = make_sender(session)
    received = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)  # a Monday night, entered next day
    request = submit(session, CTX, store, new_request(sender, kind=RequestType.EMERGENCY,
                                                      received_at=received))  # fmt: skip
    assert request.received_at == received
    assert request.verify_due_at == received + timedelta(hours=1)
    assert AttachmentUpload(PDF).filename is None
