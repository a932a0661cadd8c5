"""``brightline reports``: the CyberTipline submission outbox (pending, deliver, retry)."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from brightline.clearinghouse_client.client import CyberTiplineClient
from brightline.clearinghouse_client.delivery import RetryPolicy, deliver_due_reports
from brightline.clearinghouse_client.models import SubmissionStatus
from brightline.clearinghouse_client.outbox import (
    pending_submissions,
    retry_submission,
    submission_counts,
)
from brightline.cli.context import CliContext
from brightline.evidence.store import EvidenceStore


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else "-"


def _warn_failed(failed: int) -> None:
    click.echo(
        f"brightline: {failed} report submission(s) failed: fix the cause, then "
        "`brightline reports retry ID`",
        err=True,
    )


@click.group("reports")
def reports() -> None:
    """CyberTipline reports on their way to the clearinghouse."""


@reports.command("pending")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.pass_obj
def pending(obj: CliContext, limit: int) -> None:
    """Queued, in-progress and failed submissions. Exit status 1 if any has failed.

    One line each: submission id, report id, status, clearinghouse report id, attempts, next
    attempt, last error.
    """
    with obj.transaction() as session:
        rows = pending_submissions(session=session, limit=limit)
        for row in rows:
            click.echo(
                f"{row.id}\treport={row.report_id}\t{row.status}\t"
                f"remote={row.clearinghouse_report_id or '-'}\tattempts={row.attempts}\t"
                f"{_when(row.next_attempt_at)}\t{row.last_error or ''}"
            )
        counts = submission_counts(session=session)
    if not rows:
        click.echo("no pending report submissions", err=True)
    if counts[SubmissionStatus.FAILED.value]:
        _warn_failed(counts[SubmissionStatus.FAILED.value])
        sys.exit(1)


@reports.command("deliver")
@click.pass_obj
def deliver(obj: CliContext) -> None:
    """Carry the due submissions through the API now (one pass). Exit status 1 if any failed."""
    config = obj.settings.cybertipline
    store = EvidenceStore.from_settings(obj.settings)
    with CyberTiplineClient.from_settings(config) as client:
        result = deliver_due_reports(
            obj.sessions,
            client,
            store,
            batch=config.batch_size,
            policy=RetryPolicy.from_settings(config),
        )
    with obj.transaction() as session:
        counts = submission_counts(session=session)
    waiting = sum(
        counts[status.value]
        for status in SubmissionStatus
        if status not in (SubmissionStatus.FINISHED, SubmissionStatus.FAILED)
    )
    click.echo(
        f"{result.finished} finished, {result.retrying} to retry, {result.failed} failed now; "
        f"{waiting} pending, {counts[SubmissionStatus.FAILED.value]} failed in all"
    )
    if counts[SubmissionStatus.FAILED.value]:
        _warn_failed(counts[SubmissionStatus.FAILED.value])
        sys.exit(1)


@reports.command("retry")
@click.argument("submission_id", type=int)
@click.pass_obj
def retry(obj: CliContext, submission_id: int) -> None:
    """Re-queue failed submission SUBMISSION_ID from the start (a new remote report)."""
    with obj.transaction() as session:
        retry_submission(session=session, submission_id=submission_id)
    click.echo(f"re-queued report submission {submission_id}")
