"""Preservation of finished reports, auto-banking, legal holds and the purge (both databases)."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from brightline.banks.models import Bank, BankEntry
from brightline.custody import CustodyEvent, custody_entries, verify_custody
from brightline.errors import Conflict, InvalidInput, NotFound
from brightline.evidence.models import EvidenceObject, HoldKind, LegalHold
from brightline.evidence.preservation import (
    REPORTED_BANK,
    pending_reports,
    preserve_finished_reports,
    preserve_report,
)
from brightline.evidence.retention import (
    place_hold,
    purge_expired,
    refs_for_account,
    refs_for_report,
    release_hold,
    renew_hold,
)
from brightline.evidence.store import EvidenceStore
from brightline.reports.models import Report
from brightline.review.models import Item
from brightline.settings import PreservationSettings
from tests.evidence.helpers import T0, make_finished_report

KEY = secrets.token_bytes(32)
RULES = PreservationSettings()


@pytest.fixture
def store(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore(tmp_path / "vault", secrets.token_bytes(32), chunk_size=1024)


def _preserve(session: Session, store: EvidenceStore, report_id: int) -> None:
    preserve_report(
        session=session,
        report_id=report_id,
        store=store,
        custody_key=KEY,
        settings=RULES,
        now=T0,
    )


def test_a_finished_report_is_preserved_banked_and_logged(
    session: Session, store: EvidenceStore
) -> None:
    made = make_finished_report(session, store)
    assert pending_reports(session=session) == [made.report_id]

    done, failed = preserve_finished_reports(
        session=session, store=store, custody_key=KEY, settings=RULES, now=T0
    )

    assert failed == []
    assert [outcome.report_id for outcome in done] == [made.report_id]
    assert done[0].objects == 4  # two files, the report XML, the case record
    assert pending_reports(session=session) == []
    rows = session.scalars(select(EvidenceObject)).all()
    assert {row.retain_until for row in rows} == {T0 + timedelta(days=365)}
    entries = custody_entries(session=session, report_id=made.report_id)
    assert [entry.event for entry in entries] == [CustodyEvent.PRESERVED] * 4
    assert {entry.object_ref for entry in entries} == {row.ref for row in rows}
    assert verify_custody(session=session, key=KEY).ok
    # The media's hashes are in the "reported" bank: sha256 and md5 of both, pdq of one.
    bank = session.scalar(select(Bank).where(Bank.name == REPORTED_BANK))
    assert bank is not None
    signals = session.scalars(select(BankEntry.signal_type).where(BankEntry.bank_id == bank.id))
    assert sorted(signals) == ["md5", "md5", "pdq", "sha256", "sha256"]
    assert done[0].banked == 5
    with pytest.raises(Conflict, match="already preserved"):
        _preserve(session, store, made.report_id)


def test_the_case_record_and_report_xml_are_in_the_vault(
    session: Session, store: EvidenceStore
) -> None:
    made = make_finished_report(session, store, files=1)
    _preserve(session, store, made.report_id)
    entries = custody_entries(session=session, report_id=made.report_id)
    roles = {entry.details["role"]: entry.object_ref for entry in entries}
    assert store.read(str(roles["report_xml"])).decode().startswith("<report>")
    record = json.loads(store.read(str(roles["case_record"])))
    assert record["report"]["id"] == made.report_id
    (item,) = record["items"]
    assert item["decided_by"] == "reviewer-1"
    assert item["viewed_by_person"] is False  # nobody opened it: recorded as such


def test_unfinished_reports_are_not_preserved(session: Session, store: EvidenceStore) -> None:
    made = make_finished_report(session, store)
    report = session.get(Report, made.report_id)
    assert report is not None
    report.status = "submitted"
    session.flush()
    assert pending_reports(session=session) == []
    with pytest.raises(Conflict, match="not finished"):
        _preserve(session, store, made.report_id)
    with pytest.raises(NotFound):
        _preserve(session, store, 10**9)


def test_missing_media_is_loud_and_the_rest_is_preserved(
    session: Session, store: EvidenceStore
) -> None:
    broken = make_finished_report(session, store)
    fine = make_finished_report(session, store)
    store.destroy(broken.media_refs[1])
    done, failed = preserve_finished_reports(
        session=session, store=store, custody_key=KEY, settings=RULES, now=T0
    )
    assert [outcome.report_id for outcome in done] == [fine.report_id]
    assert [report_id for report_id, _reason in failed] == [broken.report_id]
    assert str(broken.item_ids[1]) in failed[0][1]
    assert pending_reports(session=session) == [broken.report_id]
    assert custody_entries(session=session, report_id=broken.report_id) == []
    assert verify_custody(session=session, key=KEY).ok


def test_retention_then_purge_destroys_key_and_content(
    session: Session, store: EvidenceStore
) -> None:
    made = make_finished_report(session, store)
    _preserve(session, store, made.report_id)
    refs = refs_for_report(session=session, report_id=made.report_id)

    early = purge_expired(
        session=session, store=store, custody_key=KEY, now=T0 + timedelta(days=364)
    )
    assert early.purged == []
    dry = purge_expired(
        session=session,
        store=store,
        custody_key=KEY,
        now=T0 + timedelta(days=366),
        dry_run=True,
    )
    assert sorted(dry.purged) == refs
    assert all(store.exists(ref) for ref in refs)

    done = purge_expired(
        session=session, store=store, custody_key=KEY, now=T0 + timedelta(days=366)
    )
    assert sorted(done.purged) == refs
    for ref in refs:
        assert not store.exists(ref)
        assert list(store.storage.names("keys", ref.removeprefix("sha256:"))) == []
    purged = [
        entry
        for entry in custody_entries(session=session, object_refs=refs)
        if entry.event is CustodyEvent.PURGED
    ]
    assert len(purged) == len(refs)
    assert {entry.details["destroyed"] for entry in purged} == {"data key and content"}
    assert refs_for_report(session=session, report_id=made.report_id) == []
    assert verify_custody(session=session, key=KEY).ok


def test_a_preservation_request_holds_then_lapses(session: Session, store: EvidenceStore) -> None:
    made = make_finished_report(session, store)
    _preserve(session, store, made.report_id)
    refs = refs_for_account(
        session=session, service=made.service, platform_user_id=made.platform_user_id
    )
    assert len(refs) == 4
    hold = place_hold(
        session=session,
        custody_key=KEY,
        refs=refs,
        kind=HoldKind.PRESERVATION_REQUEST,
        reference="AGENCY-0001",
        reason="placeholder request",
        actor="staff-1",
        settings=RULES,
        now=T0 + timedelta(days=300),
    )
    assert hold.expires_at == T0 + timedelta(days=390)

    kept = purge_expired(
        session=session, store=store, custody_key=KEY, now=T0 + timedelta(days=370)
    )
    assert (kept.purged, kept.held) == ([], 4)

    renew_hold(
        session=session,
        custody_key=KEY,
        hold_id=hold.id,
        actor="staff-1",
        settings=RULES,
        now=T0 + timedelta(days=380),
    )
    assert hold.expires_at == T0 + timedelta(days=480)
    with pytest.raises(Conflict, match="already renewed"):
        renew_hold(
            session=session,
            custody_key=KEY,
            hold_id=hold.id,
            actor="staff-1",
            settings=RULES,
            now=T0 + timedelta(days=381),
        )
    assert (
        purge_expired(
            session=session, store=store, custody_key=KEY, now=T0 + timedelta(days=470)
        ).held
        == 4
    )

    lapsed = purge_expired(
        session=session, store=store, custody_key=KEY, now=T0 + timedelta(days=481)
    )
    assert lapsed.lapsed_holds == [hold.id]
    assert len(lapsed.purged) == 4
    events = [entry.event for entry in custody_entries(session=session, hold_id=hold.id)]
    assert events == (
        [CustodyEvent.HELD] * 4 + [CustodyEvent.HOLD_RENEWED] * 4 + [CustodyEvent.HOLD_RELEASED] * 4
    )
    assert verify_custody(session=session, key=KEY).ok


def test_a_released_hold_lets_the_purge_proceed(session: Session, store: EvidenceStore) -> None:
    made = make_finished_report(session, store, files=1)
    _preserve(session, store, made.report_id)
    refs = refs_for_report(session=session, report_id=made.report_id)
    hold = place_hold(
        session=session,
        custody_key=KEY,
        refs=refs,
        kind=HoldKind.OTHER,
        reference="LITIGATION-7",
        actor="staff-1",
        settings=RULES,
        now=T0,
    )
    release_hold(
        session=session,
        custody_key=KEY,
        hold_id=hold.id,
        actor="staff-2",
        reason="matter closed",
        now=T0 + timedelta(days=10),
    )
    with pytest.raises(Conflict, match="already released"):
        release_hold(
            session=session, custody_key=KEY, hold_id=hold.id, actor="staff-2", reason="again"
        )
    with pytest.raises(Conflict, match="ended"):
        renew_hold(
            session=session, custody_key=KEY, hold_id=hold.id, actor="staff-2", settings=RULES
        )
    report = purge_expired(
        session=session, store=store, custody_key=KEY, now=T0 + timedelta(days=366)
    )
    assert len(report.purged) == len(refs)


def test_media_in_an_open_review_is_not_purged(session: Session, store: EvidenceStore) -> None:
    made = make_finished_report(session, store, files=1)
    _preserve(session, store, made.report_id)
    reupload = session.get(Item, made.item_ids[0])
    assert reupload is not None
    later = make_finished_report(session, store, files=1)
    # The same bytes were uploaded again and are waiting for a reviewer in another case.
    pending_item = session.get(Item, later.item_ids[0])
    assert pending_item is not None
    pending_item.media_ref = reupload.media_ref
    pending_item.decided_at = None
    pending_item.decision = None
    session.flush()
    report = purge_expired(
        session=session, store=store, custody_key=KEY, now=T0 + timedelta(days=366)
    )
    assert report.in_review == 1
    assert reupload.media_ref is not None
    assert store.exists(reupload.media_ref)


def test_bad_holds_are_refused(session: Session, store: EvidenceStore) -> None:
    made = make_finished_report(session, store, files=1)
    _preserve(session, store, made.report_id)
    refs = refs_for_report(session=session, report_id=made.report_id)

    def place(**overrides: object) -> None:
        arguments: dict[str, object] = {
            "session": session,
            "custody_key": KEY,
            "refs": refs,
            "kind": HoldKind.PRESERVATION_REQUEST,
            "reference": "AGENCY-0002",
            "actor": "staff-1",
            "settings": RULES,
        }
        arguments.update(overrides)
        place_hold(**arguments)  # type: ignore[arg-type]

    with pytest.raises(InvalidInput, match="covers nothing"):
        place(refs=[])
    with pytest.raises(InvalidInput, match="reference"):
        place(reference="   ")
    with pytest.raises(InvalidInput, match="NUL"):
        place(reference="AGENCY\x00")
    with pytest.raises(NotFound, match="not preserved"):
        place(refs=["sha256:" + "0" * 64])
    with pytest.raises(InvalidInput):
        place(refs=["not-a-ref"])
    with pytest.raises(NotFound, match="no reviewed account"):
        refs_for_account(session=session, service="example", platform_user_id="nobody")
    assert session.scalars(select(LegalHold)).all() == []
