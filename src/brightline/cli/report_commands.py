"""``brightline reports``: file reports from confirmed cases (build, show) and drive the
CyberTipline submission outbox (pending, deliver, retry)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from brightline.clearinghouse_client.client import CyberTiplineClient
from brightline.clearinghouse_client.delivery import RetryPolicy, deliver_due_reports
from brightline.clearinghouse_client.models import SubmissionStatus
from brightline.clearinghouse_client.outbox import (
    pending_submissions,
    retry_submission,
    submission_counts,
)
from brightline.cli.context import CliContext, default_actor
from brightline.custody import custody_key
from brightline.errors import InvalidInput
from brightline.evidence.preservation import preserve_finished_reports
from brightline.evidence.store import EvidenceStore
from brightline.reports import IncidentType, enricher_from_settings, parse_context_patch
from brightline.reports.filing import file_report, report_overview
from brightline.reports.wire import MAX_DOCUMENT_BYTES
from brightline.storage.base import utcnow


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else "-"


def _warn_failed(failed: int) -> None:
    click.echo(
        f"brightline: {failed} report submission(s) failed: fix the cause, then "
        "`brightline reports retry ID`",
        err=True,
    )


_INCIDENT_TYPES = {kind.name.lower().replace("_", "-"): kind for kind in IncidentType}
"""Short names for the schema's incident types (``child-pornography``, ``online-enticement``):
the schema's own strings are long and full of spaces. Either form is accepted."""


def _incident_type(value: str) -> IncidentType:
    chosen = _INCIDENT_TYPES.get(value.strip().lower())
    if chosen is not None:
        return chosen
    try:
        return IncidentType(value)
    except ValueError:
        raise click.BadParameter(
            f"one of: {', '.join(_INCIDENT_TYPES)} (or the schema's own wording)"
        ) from None


def _read_context_file(path: Path) -> bytes:
    with path.open("rb") as handle:
        data = handle.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InvalidInput(f"the context file is larger than {MAX_DOCUMENT_BYTES} bytes")
    return data


@click.group("reports")
def reports() -> None:
    """CyberTipline reports: build them from confirmed cases, follow them to the clearinghouse."""


@reports.command("build")
@click.argument("case_id", type=int)
@click.option(
    "--incident-type",
    "incident_type",
    required=True,
    help=f"The incident type: {', '.join(_INCIDENT_TYPES)}.",
)
@click.option(
    "--context",
    "context_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON file in the enrichment answer's format, laid over the enricher's answer.",
)
@click.option(
    "--allow-missing-media",
    is_flag=True,
    help="Leave out items whose media is missing from the vault (recorded in the audit log) "
    "instead of refusing.",
)
@click.option("--no-queue", is_flag=True, help="Store the report as a draft; do not queue it.")
@click.option(
    "--by",
    "actor",
    default=default_actor,
    show_default="cli:$USER",
    help="Who is filing (recorded in the review audit log).",
)
@click.pass_obj
def build(
    obj: CliContext,
    case_id: int,
    incident_type: str,
    context_file: Path | None,
    allow_missing_media: bool,
    no_queue: bool,
    actor: str,
) -> None:
    """Build the report on CASE_ID's confirmed items and queue it for submission.

    Checks that every item's media is in the evidence vault, asks the configured enricher
    (BRIGHTLINE_ENRICHMENT_URL or _PLUGIN) for what only the platform knows, builds and stores
    the report, records it in the review audit log and queues it, all in one transaction.
    Prints the report id, the submission id and the items it covers.
    """
    chosen = _incident_type(incident_type)
    overlay = (
        parse_context_patch(_read_context_file(context_file), source="context file")
        if context_file is not None
        else None
    )
    settings = obj.settings
    enricher = enricher_from_settings(settings.enrichment)
    store = EvidenceStore.from_settings(settings)
    with obj.transaction() as session:
        filed = file_report(
            session=session,
            case_id=case_id,
            incident_type=chosen,
            actor=actor,
            reporter=settings.reporter,
            enricher=enricher,
            media=store,
            now=utcnow(),
            allow_missing_media=allow_missing_media,
            overlay=overlay,
            queue=not no_queue,
        )
    items = ",".join(str(file.item_id) for file in filed.built.files)
    queued = f"submission {filed.submission_id}" if filed.submission_id is not None else "draft"
    click.echo(f"report {filed.report_id}\tcase={case_id}\t{queued}\titems={items}")
    if filed.omitted_item_ids:
        omitted = ",".join(str(item_id) for item_id in filed.omitted_item_ids)
        click.echo(
            f"brightline: left out item(s) {omitted}: their media is missing (recorded in the "
            "audit log); file them once the media is restored",
            err=True,
        )


@reports.command("show")
@click.argument("report_id", type=int)
@click.pass_obj
def show(obj: CliContext, report_id: int) -> None:
    """Status, clearinghouse report id, file ids, times and last error of REPORT_ID.

    Exit status 1 if its submission has failed.
    """
    with obj.transaction() as session:
        report = report_overview(session=session, report_id=report_id)
    sub = report.submission
    lines = [
        ("report", str(report.report_id)),
        ("case", str(report.case_id)),
        ("status", report.status),
        ("incident type", report.incident_type),
        ("built", _when(report.built_at)),
        ("clearinghouse report id", str(report.clearinghouse_report_id or "-")),
        ("submission", f"{sub.submission_id} ({sub.status})" if sub is not None else "-"),
        ("queued", _when(sub.created_at) if sub is not None else "-"),
        ("submitted", _when(sub.submitted_at) if sub is not None else "-"),
        ("finished", _when(report.finished_at or (sub.finished_at if sub else None))),
        ("failed", _when(sub.failed_at) if sub is not None else "-"),
        ("retracted", _when(sub.retracted_at) if sub is not None else "-"),
        ("last error", (sub.last_error if sub is not None else None) or report.error or "-"),
    ]
    for label, value in lines:
        click.echo(f"{label}:\t{value}")
    for item_id in report.item_ids:
        receipt = report.receipt_for(item_id)
        click.echo(
            f"item {item_id}:\tfile id={(receipt.file_id if receipt else None) or '-'}\t"
            f"received md5={(receipt.received_md5 if receipt else None) or '-'}\t"
            f"uploaded={_when(receipt.uploaded_at if receipt else None)}\t"
            f"details sent={_when(receipt.fileinfo_sent_at if receipt else None)}"
        )
    if report.failed:
        retry_hint = (
            f"`brightline reports retry {sub.submission_id}`" if sub else "a rebuilt report"
        )
        click.echo(
            f"brightline: report {report_id} failed to reach the clearinghouse: fix the cause "
            f"(last error above), then {retry_hint}",
            err=True,
        )
        sys.exit(1)


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
    # A finished report must be preserved (a year, by law): do it in the same run.
    with obj.transaction() as session:
        preserved, unpreserved = preserve_finished_reports(
            session=session,
            store=store,
            custody_key=custody_key(obj.settings),
            settings=obj.settings.preservation,
        )
        counts = submission_counts(session=session)
    for report_id, reason in unpreserved:
        click.echo(f"brightline: report {report_id} not preserved: {reason}", err=True)
    waiting = sum(
        counts[status.value]
        for status in SubmissionStatus
        if status not in (SubmissionStatus.FINISHED, SubmissionStatus.FAILED)
    )
    click.echo(
        f"{result.finished} finished, {result.retrying} to retry, {result.failed} failed now; "
        f"{waiting} pending, {counts[SubmissionStatus.FAILED.value]} failed in all; "
        f"{len(preserved)} report(s) preserved"
    )
    if counts[SubmissionStatus.FAILED.value]:
        _warn_failed(counts[SubmissionStatus.FAILED.value])
    if counts[SubmissionStatus.FAILED.value] or unpreserved:
        sys.exit(1)


@reports.command("retry")
@click.argument("submission_id", type=int)
@click.pass_obj
def retry(obj: CliContext, submission_id: int) -> None:
    """Re-queue failed submission SUBMISSION_ID from the start (a new remote report)."""
    with obj.transaction() as session:
        retry_submission(session=session, submission_id=submission_id)
    click.echo(f"re-queued report submission {submission_id}")
