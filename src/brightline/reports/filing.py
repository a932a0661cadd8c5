"""Filing a report: confirmed case → media check → enrichment → built report → audit → outbox.

:func:`file_report` is what the console's *File report* form and ``brightline reports build``
call. It runs in the caller's transaction and never commits, so the built report, its audit
entries and its outbox row are stored together or not at all. The enrichment step is called
before anything is written: no row is locked while the platform is being asked.

Missing media is never dropped silently. Before anything else, every confirmed item's media
reference is checked in the evidence vault; if any is missing the filing is refused with
:class:`MissingMedia`, naming the items, unless the operator explicitly allows it, in which case
those items are left out of this report (they stay reportable) and each omission is written to
the review audit log.

Imported as ``brightline.reports.filing`` (not re-exported by ``brightline.reports``): it uses
the submission outbox, which itself reads built reports.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from brightline.clearinghouse_client.models import SubmissionStatus
from brightline.clearinghouse_client.outbox import (
    FileReceipt,
    SubmissionReceipt,
    case_receipts,
    enqueue_report,
)
from brightline.errors import Conflict, InvalidInput, NotFound, StorageError
from brightline.reports.builder import (
    BuiltReport,
    IncompleteReport,
    build_report,
    reportable_items,
)
from brightline.reports.checks import check_aware
from brightline.reports.context import IncidentType, ReportContext
from brightline.reports.enrichment import (
    EnrichmentFailed,
    ReportEnricher,
    enrichment_request,
)
from brightline.reports.models import Report, ReportItem, ReportStatus
from brightline.reports.wire import ContextPatch
from brightline.review.audit import AuditAction, audit
from brightline.review.models import Case, Item, Subject
from brightline.settings import ReporterSettings

log = logging.getLogger(__name__)

_SAFE_CODE = re.compile(r"[A-Za-z0-9_.:\-]{1,100}")


class MediaStore(Protocol):
    """What filing needs of the evidence vault: whether it holds an object."""

    def exists(self, ref: str) -> bool: ...


class MissingMedia(Conflict):
    """Confirmed items whose media is not in the evidence vault; ``item_ids`` names them.

    A report that silently dropped them would look complete while evidence is missing, so the
    operator must either restore the media or file without those items explicitly.
    """

    def __init__(self, case_id: int, item_ids: Sequence[int], *, nothing_left: bool = False):
        self.case_id = case_id
        self.item_ids = tuple(item_ids)
        self.nothing_left = nothing_left
        listed = ", ".join(str(item_id) for item_id in self.item_ids)
        advice = (
            "no item with media is left to report; restore the media first"
            if nothing_left
            else "restore the media, or file without these items (allow missing media: the "
            "omission is recorded in the audit log)"
        )
        super().__init__(
            f"case {case_id}: the media of item(s) {listed} is missing from the evidence "
            f"vault; {advice}"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (_missing_media, (self.case_id, self.item_ids, self.nothing_left))


def _missing_media(case_id: int, item_ids: tuple[int, ...], nothing_left: bool) -> MissingMedia:
    return MissingMedia(case_id, item_ids, nothing_left=nothing_left)


@dataclass(frozen=True, slots=True)
class FiledReport:
    """What :func:`file_report` stored."""

    built: BuiltReport
    submission_id: int | None
    """The outbox row (None when filed with ``queue=False``: the report stays a draft)."""
    omitted_item_ids: tuple[int, ...]
    """Confirmed items left out because their media is missing (recorded in the audit log)."""

    @property
    def report_id(self) -> int:
        return self.built.report_id


def media_missing(*, items: Sequence[Item], media: MediaStore) -> list[int]:
    """Ids of ``items`` whose media reference is unset, malformed or not in the vault."""
    missing: list[int] = []
    for item in items:
        ref = item.media_ref
        try:
            present = bool(ref) and media.exists(ref or "")
        except InvalidInput:  # a malformed reference names no object
            present = False
        except OSError as exc:  # unreadable is not the same as missing: refuse to guess
            raise StorageError(f"cannot read the evidence vault: {exc.strerror}") from None
        if not present:
            missing.append(item.id)
    return missing


def _source_code(enricher: ReportEnricher) -> str:
    """The enricher's class name as an audit code (``WebhookEnricher``, ``NoEnrichment``)."""
    name = type(enricher).__name__
    return name if _SAFE_CODE.fullmatch(name) else "custom"


def file_report(
    *,
    session: Session,
    case_id: int,
    incident_type: IncidentType | str,
    actor: str,
    reporter: ReporterSettings,
    enricher: ReportEnricher,
    media: MediaStore,
    now: datetime,
    allow_missing_media: bool = False,
    overlay: ContextPatch | None = None,
    queue: bool = True,
) -> FiledReport:
    """Enrich, build, audit and (unless ``queue=False``) queue the report on ``case_id``.

    * ``actor`` is who files it (an account name, ``cli:<user>``); recorded in the audit log.
    * ``overlay``: an operator's context document (same wire format as the enrichment answer),
      laid over the enricher's answer (:meth:`ContextPatch.apply`).
    * ``allow_missing_media``: file without the items whose media is missing instead of
      refusing (:class:`MissingMedia`); each omission is audited.

    Refusals, all before anything is written: :class:`NotFound` (unknown case),
    :class:`IncompleteReport` (nothing confirmed left to report, or fields missing),
    :class:`MissingMedia`, :class:`EnrichmentFailed` (webhook or plugin failed; an
    ``UpstreamError``), :class:`~brightline.errors.Conflict` (the case changed meanwhile).
    """
    check_aware("now", now)
    if not actor.strip():
        raise InvalidInput("filing a report needs an actor")
    chosen = _incident_type(incident_type, case_id)
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case with id {case_id}")
    subject = session.get(Subject, case.subject_id)
    if subject is None:  # the foreign key makes this unreachable
        raise NotFound(f"no subject with id {case.subject_id}")
    items = reportable_items(session=session, case_id=case_id)
    if not items:
        raise IncompleteReport(case_id, ["confirmed items not yet reported"])

    missing = media_missing(items=items, media=media)
    if missing and (not allow_missing_media or len(missing) == len(items)):
        log.info("case %d refused for filing: %d items lack media", case_id, len(missing))
        raise MissingMedia(case_id, missing, nothing_left=len(missing) == len(items))
    kept = [item for item in items if item.id not in frozenset(missing)]

    # The platform is asked before anything is written: no lock is held while it answers.
    request = enrichment_request(case=case, subject=subject, items=kept, now=now)
    context = enricher.enrich(request)
    if not isinstance(context, ReportContext):
        raise EnrichmentFailed(
            f"the enricher returned {type(context).__name__}, not a ReportContext"
        )
    if overlay is not None:
        context = overlay.apply(context)

    built = build_report(
        session=session,
        case_id=case_id,
        reporter=reporter,
        context=context,
        incident_type=chosen,
        now=now,
        omit_item_ids=missing,
    )
    covered = tuple(file.item_id for file in built.files)
    if covered != request.item_ids:
        # Another filing or decision changed the case while the platform was being asked: the
        # context was gathered for other items. The caller's transaction rolls this back.
        raise Conflict(f"case {case_id} changed while its report was being prepared; try again")

    submission_id = (
        enqueue_report(session=session, report_id=built.report_id, now=now).id if queue else None
    )
    audit(
        session=session,
        actor=actor,
        action=AuditAction.REPORT_BUILD,
        object_type="report",
        object_id=built.report_id,
        at=now,
        detail={
            "case_id": case_id,
            "subject_id": subject.id,
            "incident_type": chosen.name,
            "item_ids": list(covered),
            "omitted_item_ids": list(missing),
            "enrichment": _source_code(enricher),
            "overlay": overlay is not None,
            "submission_id": submission_id,
        },
    )
    for item_id in missing:
        audit(
            session=session,
            actor=actor,
            action=AuditAction.REPORT_OMIT,
            object_type="item",
            object_id=item_id,
            at=now,
            reason="media missing from the evidence vault; filed without it (allow missing media)",
            detail={"report_id": built.report_id, "case_id": case_id, "cause": "media_missing"},
        )
    log.info(
        "filed report %d on case %d: %d files, %d omitted, queued=%s",
        built.report_id,
        case_id,
        len(covered),
        len(missing),
        queue,
    )
    return FiledReport(built=built, submission_id=submission_id, omitted_item_ids=tuple(missing))


def _incident_type(value: IncidentType | str, case_id: int) -> IncidentType:
    try:
        return IncidentType(value)
    except ValueError:
        raise IncompleteReport(
            case_id, ["incident_type (not one of the schema's incident types)"]
        ) from None


# --- reading: a case's reports with their receipts ------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportOverview:
    """One report as the console and ``brightline reports show`` present it.

    ``status`` is the report's own (``draft`` … ``failed``); ``submission`` is its outbox row
    with the clearinghouse's receipts (None for a draft that was never queued).
    """

    report_id: int
    case_id: int
    subject_id: int
    status: str
    incident_type: str
    built_at: datetime
    clearinghouse_report_id: int | None
    finished_at: datetime | None
    error: str | None
    item_ids: tuple[int, ...]
    submission: SubmissionReceipt | None

    def receipt_for(self, item_id: int) -> FileReceipt | None:
        """The clearinghouse's receipt (file id, received MD5, times) for one of its items."""
        if self.submission is None:
            return None
        return next((file for file in self.submission.files if file.item_id == item_id), None)

    @property
    def failed(self) -> bool:
        """The submission failed for good: a report the law requires is stuck."""
        return self.status == ReportStatus.FAILED.value or (
            self.submission is not None and self.submission.status == SubmissionStatus.FAILED.value
        )


def _overviews(session: Session, reports: Sequence[Report]) -> list[ReportOverview]:
    receipts: dict[int, SubmissionReceipt] = {}
    for case_id in {report.case_id for report in reports}:
        for receipt in case_receipts(session=session, case_id=case_id):
            receipts[receipt.report_id] = receipt
    item_ids: dict[int, list[int]] = {report.id: [] for report in reports}
    if item_ids:
        for report_id, item_id in session.execute(
            select(ReportItem.report_id, ReportItem.item_id)
            .where(ReportItem.report_id.in_(list(item_ids)))
            .order_by(ReportItem.item_id)
        ):
            item_ids[report_id].append(item_id)
    return [
        ReportOverview(
            report_id=report.id,
            case_id=report.case_id,
            subject_id=report.subject_id,
            status=report.status,
            incident_type=report.incident_type,
            built_at=report.built_at,
            clearinghouse_report_id=report.clearinghouse_report_id,
            finished_at=report.finished_at,
            error=report.error,
            item_ids=tuple(item_ids[report.id]),
            submission=receipts.get(report.id),
        )
        for report in reports
    ]


def case_reports(*, session: Session, case_id: int) -> list[ReportOverview]:
    """Every report built on ``case_id``, oldest first, with its submission receipts."""
    reports = list(
        session.scalars(select(Report).where(Report.case_id == case_id).order_by(Report.id))
    )
    return _overviews(session, reports)


def report_overview(*, session: Session, report_id: int) -> ReportOverview:
    report = session.get(Report, report_id)
    if report is None:
        raise NotFound(f"no report with id {report_id}")
    return _overviews(session, [report])[0]
