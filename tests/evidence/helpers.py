"""Finished reports with synthetic files, for preservation, retention and package tests.

Files are random bytes, people are placeholders (``user-…``, ``example.org``).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from brightline.evidence.store import EvidenceStore
from brightline.reports.models import Report, ReportItem
from brightline.review.models import Case, Item, Job, Queue, Subject

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
REPORT_XML = "<report><!-- synthetic placeholder report --></report>"


@dataclass(frozen=True)
class FinishedReport:
    report_id: int
    case_id: int
    subject_id: int
    service: str
    platform_user_id: str
    item_ids: tuple[int, ...]
    media_refs: tuple[str, ...]


def make_finished_report(
    session: Session,
    store: EvidenceStore,
    *,
    files: int = 2,
    size: int = 3000,
    subject: Subject | None = None,
    clearinghouse_report_id: int | None = None,
) -> FinishedReport:
    """A report the clearinghouse finished, its items confirmed (commits nothing)."""
    tag = uuid.uuid4().hex[:12]
    if subject is None:
        subject = Subject(service="example", platform_user_id=f"user-{tag}", screen_name="sn")
        session.add(subject)
    queue = Queue(name=f"queue-{tag}")
    session.add(queue)
    session.flush()
    case = Case(subject_id=subject.id)
    job = Job(queue_id=queue.id)
    session.add_all([case, job])
    session.flush()
    report = Report(
        subject_id=subject.id,
        case_id=case.id,
        status="finished",
        incident_type="Child Pornography (possession, manufacture, and distribution)",
        built_at=T0,
        finished_at=T0,
        clearinghouse_report_id=clearinghouse_report_id or int(uuid.uuid4().int % 10**12),
        xml=REPORT_XML,
    )
    session.add(report)
    session.flush()
    item_ids, refs = [], []
    for number in range(files):
        data = os.urandom(size)
        ref = store.put(data)
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        sha1 = hashlib.sha1(data, usedforsecurity=False).hexdigest()
        item = Item(
            case_id=case.id,
            job_id=job.id,
            sha256=hashlib.sha256(data).hexdigest(),
            md5=md5,
            sha1=sha1,
            pdq=os.urandom(32).hex() if number == 0 else None,
            media_type="image/jpeg",
            media_ref=ref,
            source="test",
            decision="confirm",
            decided_by="reviewer-1",
            decided_at=T0,
        )
        session.add(item)
        session.flush()
        session.add(
            ReportItem(
                report_id=report.id,
                item_id=item.id,
                file_details_xml="<fileDetails/>",
                media_ref=ref,
                md5=md5,
                sha1=sha1,
            )
        )
        item_ids.append(item.id)
        refs.append(ref)
    session.flush()
    return FinishedReport(
        report_id=report.id,
        case_id=case.id,
        subject_id=subject.id,
        service=subject.service,
        platform_user_id=subject.platform_user_id,
        item_ids=tuple(item_ids),
        media_refs=tuple(refs),
    )
