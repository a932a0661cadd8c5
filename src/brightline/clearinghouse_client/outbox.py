"""Queue built reports for submission, inspect the outbox, re-queue failures, read receipts.

Every function takes the caller's session and never commits: :func:`enqueue_report` can share
the transaction that approves a report, so a report is queued exactly when the approval commits.
The sending itself is :func:`brightline.clearinghouse_client.delivery.deliver_due_reports`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from brightline.clearinghouse_client.models import (
    ACTIVE_STATUSES,
    ReportSubmission,
    SubmissionFile,
    SubmissionStatus,
)
from brightline.errors import Conflict, InvalidInput, NotFound
from brightline.reports import load_built_report
from brightline.reports.models import ACTIVE_STATUSES as REPORT_ACTIVE_STATUSES
from brightline.reports.models import Report, ReportItem, ReportStatus
from brightline.storage.base import utcnow

MAX_LISTED = 1000


def enqueue_report(
    *, session: Session, report_id: int, now: datetime | None = None
) -> ReportSubmission:
    """Put a built (``draft``) report in the outbox, with one file row per report item.

    A report is queued at most once (a unique constraint backs this check): a second
    submission of the same report is exactly the duplicate the outbox exists to prevent.
    """
    report = session.get(Report, report_id)
    if report is None:
        raise NotFound(f"no report with id {report_id}")
    existing = session.scalar(
        select(ReportSubmission.id).where(ReportSubmission.report_id == report_id)
    )
    if existing is not None:
        raise Conflict(f"report {report_id} is already queued (submission {existing})")
    if report.status != ReportStatus.DRAFT.value:
        raise Conflict(f"report {report_id} is {report.status}, not draft")
    when = now or utcnow()
    submission = ReportSubmission(
        report_id=report_id,
        status=SubmissionStatus.QUEUED.value,
        attempts=0,
        submits_started=0,
        next_attempt_at=when,
        created_at=when,
    )
    session.add(submission)
    session.flush()
    for file in load_built_report(session=session, report_id=report_id).files:
        session.add(
            SubmissionFile(
                submission_id=submission.id,
                item_id=file.item_id,
                media_ref=file.media_ref,
                md5=file.md5.lower(),
                uploads_started=0,
            )
        )
    report.status = ReportStatus.QUEUED.value
    session.flush()
    return submission


def get_submission(*, session: Session, submission_id: int) -> ReportSubmission:
    submission = session.get(ReportSubmission, submission_id)
    if submission is None:
        raise NotFound(f"no report submission with id {submission_id}")
    return submission


def list_submissions(
    *,
    session: Session,
    statuses: Iterable[SubmissionStatus] | None = None,
    limit: int = 100,
) -> list[ReportSubmission]:
    """Oldest first (the order they are sent in); all statuses unless ``statuses`` is given."""
    if not 1 <= limit <= MAX_LISTED:
        raise InvalidInput(f"limit must be between 1 and {MAX_LISTED}")
    query = select(ReportSubmission)
    if statuses is not None:
        query = query.where(ReportSubmission.status.in_([s.value for s in statuses]))
    return list(session.scalars(query.order_by(ReportSubmission.id).limit(limit)))


def pending_submissions(*, session: Session, limit: int = 100) -> list[ReportSubmission]:
    """What still needs something: in progress, waiting to be sent, or failed."""
    return list_submissions(
        session=session, statuses=[*ACTIVE_STATUSES, SubmissionStatus.FAILED], limit=limit
    )


def retry_submission(
    *, session: Session, submission_id: int, now: datetime | None = None
) -> ReportSubmission:
    """Re-queue a failed submission from the start, with a fresh set of attempts.

    It starts from ``submit`` again, with no remote ids: a failed submission's remote report
    (if any) was retracted or is left unfinished, and either way can never be finished now, so
    the only way to exactly one *finished* report is a new remote report.
    """
    submission = get_submission(session=session, submission_id=submission_id)
    if submission.status != SubmissionStatus.FAILED.value:
        raise Conflict(f"submission {submission_id} is {submission.status}, not failed")
    # A failed report's items become reportable again; if one has since gone into another
    # standing report, re-sending this one would report it twice.
    ours = select(ReportItem.item_id).where(ReportItem.report_id == submission.report_id)
    taken = session.scalars(
        select(ReportItem.item_id)
        .join(Report, Report.id == ReportItem.report_id)
        .where(
            ReportItem.item_id.in_(ours),
            Report.id != submission.report_id,
            Report.status.in_([status.value for status in REPORT_ACTIVE_STATUSES]),
        )
        .order_by(ReportItem.item_id)
    ).all()
    if taken:
        raise Conflict(
            f"submission {submission_id}: item(s) {', '.join(map(str, taken))} are already in "
            "another report; file the case again instead of retrying"
        )
    session.execute(
        update(ReportSubmission)
        .where(
            ReportSubmission.id == submission_id,
            ReportSubmission.status == SubmissionStatus.FAILED.value,
        )
        .values(
            status=SubmissionStatus.QUEUED.value,
            clearinghouse_report_id=None,
            attempts=0,
            next_attempt_at=now or utcnow(),
            lease_until=None,
            lease_token=None,
            last_error=None,
            submit_started_at=None,
            submitted_at=None,
            finish_started_at=None,
            failed_at=None,
            retracted_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(SubmissionFile)
        .where(SubmissionFile.submission_id == submission_id)
        .values(
            file_id=None,
            received_md5=None,
            upload_started_at=None,
            uploaded_at=None,
            fileinfo_sent_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Report)
        .where(Report.id == submission.report_id)
        .values(status=ReportStatus.QUEUED.value, clearinghouse_report_id=None, error=None)
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    return get_submission(session=session, submission_id=submission_id)


def submission_counts(*, session: Session) -> dict[str, int]:
    """Submissions per status, every status present (zero when none): for metrics and the CLI.

    ``failed`` above zero is the alarm: a report that the law requires to be made is stuck.
    """
    counts = {status.value: 0 for status in SubmissionStatus}
    for status, count in session.execute(
        select(ReportSubmission.status, func.count()).group_by(ReportSubmission.status)
    ):
        counts[status] = int(count)
    return counts


def failed_case_ids(*, session: Session) -> list[int]:
    """Cases with a failed submission: what the dashboard banner and case list flag."""
    query = (
        select(Report.case_id)
        .join(ReportSubmission, ReportSubmission.report_id == Report.id)
        .where(ReportSubmission.status == SubmissionStatus.FAILED.value)
        .distinct()
        .order_by(Report.case_id)
    )
    return [int(case_id) for case_id in session.scalars(query)]


@dataclass(frozen=True, slots=True)
class FileReceipt:
    item_id: int
    file_id: str | None
    received_md5: str | None
    uploaded_at: datetime | None
    fileinfo_sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class SubmissionReceipt:
    """What a case page shows about one report's submission: ids, times, state, error."""

    submission_id: int
    report_id: int
    status: str
    clearinghouse_report_id: int | None
    created_at: datetime
    submitted_at: datetime | None
    finished_at: datetime | None
    failed_at: datetime | None
    retracted_at: datetime | None
    last_error: str | None
    files: tuple[FileReceipt, ...]


def case_receipts(*, session: Session, case_id: int) -> list[SubmissionReceipt]:
    """Every submission of the case's reports, oldest first, with the file receipts."""
    submissions = list(
        session.scalars(
            select(ReportSubmission)
            .join(Report, Report.id == ReportSubmission.report_id)
            .where(Report.case_id == case_id)
            .order_by(ReportSubmission.id)
        )
    )
    receipts = []
    for submission in submissions:
        files = session.scalars(
            select(SubmissionFile)
            .where(SubmissionFile.submission_id == submission.id)
            .order_by(SubmissionFile.item_id)
        )
        receipts.append(
            SubmissionReceipt(
                submission_id=submission.id,
                report_id=submission.report_id,
                status=submission.status,
                clearinghouse_report_id=submission.clearinghouse_report_id,
                created_at=submission.created_at,
                submitted_at=submission.submitted_at,
                finished_at=submission.finished_at,
                failed_at=submission.failed_at,
                retracted_at=submission.retracted_at,
                last_error=submission.last_error,
                files=tuple(
                    FileReceipt(
                        item_id=f.item_id,
                        file_id=f.file_id,
                        received_md5=f.received_md5,
                        uploaded_at=f.uploaded_at,
                        fileinfo_sent_at=f.fileinfo_sent_at,
                    )
                    for f in files
                ),
            )
        )
    return receipts
