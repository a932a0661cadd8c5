"""Preserve a finished report: its files, its XML and the case record, and bank its media.

US law requires a provider to preserve the contents of a CyberTipline report for one year
after making it (18 U.S.C. § 2258A(h); DOMAIN.md §4). A report counts as made once the
clearinghouse has *finished* it, so preservation runs on finished reports, as its own durable
step: a crash between "finished" and "preserved" leaves the report in :func:`pending_reports`
and the next pass preserves it. Nothing here commits; the caller owns the transaction.

The same pass puts the reported media's hashes into the ``reported`` bank, so that a
re-upload of anything already reported is caught at upload time.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from brightline.banks.records import EntryRecord
from brightline.banks.service import add_signals, bank_exists, create_bank
from brightline.clearinghouse_client.outbox import case_receipts
from brightline.custody import CustodyEvent, record_custody
from brightline.errors import BrightlineError, Conflict, NotFound, StorageError
from brightline.evidence.models import EvidenceObject, ObjectRole, Preservation, PreservedObject
from brightline.evidence.store import EvidenceStore
from brightline.reports.models import Report, ReportItem, ReportStatus
from brightline.review.models import Case, Item, Subject
from brightline.settings import PreservationSettings
from brightline.signals import default_registry
from brightline.storage.base import utcnow

log = logging.getLogger(__name__)

REPORTED_BANK = "reported"
PRESERVATION_ACTOR = "system:preservation"
CASE_RECORD_FORMAT = "brightline.case-record/1"


@dataclass(frozen=True, slots=True)
class PreservationOutcome:
    report_id: int
    preservation_id: int
    objects: int
    banked: int


def pending_reports(*, session: Session, limit: int = 1000) -> list[int]:
    """Finished reports not yet preserved, oldest first."""
    return list(
        session.scalars(
            select(Report.id)
            .outerjoin(Preservation, Preservation.report_id == Report.id)
            .where(Report.status == ReportStatus.FINISHED.value, Preservation.id.is_(None))
            .order_by(Report.finished_at, Report.id)
            .limit(limit)
        )
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def case_record(*, session: Session, report: Report) -> bytes:
    """The case as reviewed and reported, as JSON: who decided what and when, the report's
    receipts. Investigators asking "who looked at this file and why was it reported" get the
    answer from here, preserved with the files."""
    case = session.get(Case, report.case_id)
    subject = session.get(Subject, report.subject_id)
    if case is None or subject is None:
        raise NotFound(f"report {report.id}: its case or subject is missing")
    items = session.scalars(
        select(Item)
        .join(ReportItem, ReportItem.item_id == Item.id)
        .where(ReportItem.report_id == report.id)
        .order_by(Item.id)
    )
    receipts = [
        r for r in case_receipts(session=session, case_id=case.id) if r.report_id == report.id
    ]
    record = {
        "format": CASE_RECORD_FORMAT,
        "report": {
            "id": report.id,
            "clearinghouse_report_id": report.clearinghouse_report_id,
            "incident_type": report.incident_type,
            "built_at": _iso(report.built_at),
            "finished_at": _iso(report.finished_at),
        },
        "case": {
            "id": case.id,
            "opened_at": _iso(case.opened_at),
            "closed_at": _iso(case.closed_at),
            "closed_by": case.closed_by,
            "urgent": case.urgent,
            "urgent_reason": case.urgent_reason,
        },
        "subject": {
            "id": subject.id,
            "service": subject.service,
            "platform_user_id": subject.platform_user_id,
            "display_name": subject.display_name,
            "screen_name": subject.screen_name,
            "profile_url": subject.profile_url,
        },
        "items": [
            {
                "id": item.id,
                "media_ref": item.media_ref,
                "media_type": item.media_type,
                "sha256": item.sha256,
                "md5": item.md5,
                "sha1": item.sha1,
                "pdq": item.pdq,
                "uploaded_at": _iso(item.uploaded_at),
                "flagged_at": _iso(item.flagged_at),
                "source": item.source,
                "decision": item.decision,
                "classification": item.classification,
                "annotations": [a for a in item.annotations.split(",") if a],
                "decided_by": item.decided_by,
                "decided_at": _iso(item.decided_at),
                "viewed_by_person": item.viewed_by_person,
                "first_viewed_by": item.first_viewed_by,
                "first_viewed_at": _iso(item.first_viewed_at),
            }
            for item in items
        ],
        "submissions": [
            {
                "submission_id": receipt.submission_id,
                "clearinghouse_report_id": receipt.clearinghouse_report_id,
                "submitted_at": _iso(receipt.submitted_at),
                "finished_at": _iso(receipt.finished_at),
                "files": [
                    {
                        "item_id": file.item_id,
                        "file_id": file.file_id,
                        "received_md5": file.received_md5,
                        "uploaded_at": _iso(file.uploaded_at),
                    }
                    for file in receipt.files
                ],
            }
            for receipt in receipts
        ],
    }
    return json.dumps(record, sort_keys=True, indent=2).encode("utf-8")


def _keep(session: Session, ref: str, now: datetime, retain_until: datetime) -> None:
    row = session.get(EvidenceObject, ref, with_for_update=True)
    if row is None:
        session.add(EvidenceObject(ref=ref, first_preserved_at=now, retain_until=retain_until))
        return
    row.retain_until = max(row.retain_until, retain_until)
    row.purged_at = None  # reported again after a purge: the vault holds it again


def preserve_report(
    *,
    session: Session,
    report_id: int,
    store: EvidenceStore,
    custody_key: bytes,
    settings: PreservationSettings,
    now: datetime | None = None,
) -> PreservationOutcome:
    """Preserve one finished report (its files must be in the vault: they were sent from it)."""
    report = session.get(Report, report_id)
    if report is None:
        raise NotFound(f"no report with id {report_id}")
    if report.status != ReportStatus.FINISHED.value:
        raise Conflict(f"report {report_id} is {report.status}, not finished")
    if session.scalar(select(Preservation.id).where(Preservation.report_id == report_id)):
        raise Conflict(f"report {report_id} is already preserved")
    when = now or utcnow()
    retain_until = when + timedelta(days=settings.retention_days)
    report_items = list(
        session.scalars(
            select(ReportItem).where(ReportItem.report_id == report_id).order_by(ReportItem.item_id)
        )
    )
    missing = [row.item_id for row in report_items if not store.exists(row.media_ref)]
    if missing:
        raise StorageError(
            f"report {report_id}: the vault no longer holds the media of item(s) "
            f"{', '.join(map(str, missing))}"
        )
    objects: list[tuple[str, ObjectRole, int | None]] = [
        (row.media_ref, ObjectRole.MEDIA, row.item_id) for row in report_items
    ]
    objects.append((store.put(report.xml.encode("utf-8")), ObjectRole.REPORT_XML, None))
    objects.append(
        (store.put(case_record(session=session, report=report)), ObjectRole.CASE_RECORD, None)
    )
    preservation = Preservation(
        report_id=report_id,
        case_id=report.case_id,
        subject_id=report.subject_id,
        preserved_at=when,
        retain_until=retain_until,
    )
    session.add(preservation)
    session.flush()
    seen: set[str] = set()
    for ref, role, item_id in objects:
        if ref in seen:  # two items of one report with the same bytes cannot happen; be safe
            continue
        seen.add(ref)
        _keep(session, ref, when, retain_until)
        session.flush()
        session.add(
            PreservedObject(
                preservation_id=preservation.id, ref=ref, role=role.value, item_id=item_id
            )
        )
        record_custody(
            session=session,
            key=custody_key,
            event=CustodyEvent.PRESERVED,
            actor=PRESERVATION_ACTOR,
            object_ref=ref,
            report_id=report_id,
            case_id=report.case_id,
            details={
                "role": role.value,
                "item_id": item_id,
                "retain_until": retain_until.isoformat(),
            },
            now=when,
        )
    preservation.reported_bank_entries = bank_reported_media(
        session=session, item_ids=[row.item_id for row in report_items]
    )
    session.flush()
    return PreservationOutcome(
        report_id, preservation.id, len(seen), preservation.reported_bank_entries
    )


def bank_reported_media(*, session: Session, item_ids: list[int]) -> int:
    """Add the items' exact digests and PDQ hashes to the ``reported`` bank; how many were new.

    Videos enter by their exact digests only: their frame hashes are not kept on the item.
    """
    if not item_ids:
        return 0
    if not bank_exists(session=session, name=REPORTED_BANK):
        create_bank(
            session=session,
            name=REPORTED_BANK,
            description="Media in reports the clearinghouse finished (added automatically)",
        )
    records: list[EntryRecord] = []
    for item in session.scalars(select(Item).where(Item.id.in_(item_ids)).order_by(Item.id)):
        note = f"reported item {item.id}"
        records.append(EntryRecord(signal_type="sha256", value=item.sha256, note=note))
        if item.md5:
            records.append(EntryRecord(signal_type="md5", value=item.md5, note=note))
        if item.pdq:
            records.append(EntryRecord(signal_type="pdq", value=item.pdq, note=note))
    report = add_signals(
        session=session, bank_name=REPORTED_BANK, records=records, registry=default_registry()
    )
    return report.added


def preserve_finished_reports(
    *,
    session: Session,
    store: EvidenceStore,
    custody_key: bytes,
    settings: PreservationSettings,
    now: datetime | None = None,
    limit: int = 100,
) -> tuple[list[PreservationOutcome], list[tuple[int, str]]]:
    """Preserve every pending finished report; ``(done, failed as (report id, reason))``.

    Each report is preserved in a savepoint, so one that cannot be (its media is gone) is
    reported and the rest still are; it stays pending, and loud, until an operator acts.
    """
    done: list[PreservationOutcome] = []
    failed: list[tuple[int, str]] = []
    for report_id in pending_reports(session=session, limit=limit):
        try:
            with session.begin_nested():
                done.append(
                    preserve_report(
                        session=session,
                        report_id=report_id,
                        store=store,
                        custody_key=custody_key,
                        settings=settings,
                        now=now,
                    )
                )
        except BrightlineError as exc:
            log.error("report %d could not be preserved: %s", report_id, type(exc).__name__)
            failed.append((report_id, str(exc)))
    return done, failed
