"""Confirmed cases → CyberTipline reports: gather, check everything, then write once.

One report per reported user (subject) covering the confirmed items of one case that no standing
report covers yet; earlier *finished* reports on the same subject are listed in
``priorCTReports`` so the clearinghouse can join them up. A case that lacks anything a report
needs is refused with the complete list of what is missing before a single row is written, so
an operator fixes everything in one pass and nothing half-built can ever be sent.

The caller owns the transaction: nothing here commits.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from brightline.errors import InvalidInput, NotFound
from brightline.reports.checks import check_aware, text_problem
from brightline.reports.context import IncidentType, ReportContext
from brightline.reports.models import ACTIVE_STATUSES, Report, ReportItem, ReportStatus
from brightline.reports.report_xml import (
    FileFacts,
    ReportedUser,
    file_details_for_upload,
    file_details_template,
    report_document,
    validate_file_details_xml,
    validate_report_xml,
)
from brightline.review.models import Case, DecisionKind, FileAnnotation, Item, Subject
from brightline.review.text_cases import TEXT_MEDIA_TYPE
from brightline.settings import ReporterSettings

logger = logging.getLogger(__name__)

REPORTED_DECISIONS = (DecisionKind.CONFIRM.value, DecisionKind.ESCALATE.value)
"""Decisions that make an item reportable: an escalation is a confirm that is also urgent."""

_CLASSIFICATIONS = frozenset({"A1", "A2", "B1", "B2"})
_HEX_LENGTHS = {"md5": 32, "sha1": 40}
_SCHEMA_CHECK_REPORT_ID = 1
_SCHEMA_CHECK_FILE_ID = "schema-check"


class IncompleteReport(InvalidInput):
    """A case cannot be reported yet; ``missing`` lists every field that is missing or unusable.

    Entries are field names and item ids (``reporter.contact_email``, ``item 3: uploaded_at``),
    never the values, so the message is safe to log and show.
    """

    def __init__(self, case_id: int, missing: Sequence[str]) -> None:
        self.case_id = case_id
        self.missing = tuple(missing)
        super().__init__(f"case {case_id} cannot be reported; missing: {', '.join(self.missing)}")

    def __reduce__(self) -> tuple[type[IncompleteReport], tuple[int, tuple[str, ...]]]:
        return (IncompleteReport, (self.case_id, self.missing))


@dataclass(frozen=True, slots=True)
class ReportFile:
    """One file to upload with a report, and its ``<fileDetails>`` once the upload is done."""

    item_id: int
    media_ref: str
    """Where the evidence store holds the bytes (opaque here)."""
    md5: str
    sha1: str
    """Both hashes of the bytes as uploaded by the user, computed at intake: the upload's
    answer (an MD5 of what was received) is checked against ``md5``."""
    file_details_template: str

    def file_details(self, report_id: int, file_id: str) -> bytes:
        """The ``<fileDetails>`` document for the clearinghouse's ``report_id`` and ``file_id``."""
        return file_details_for_upload(self.file_details_template, report_id, file_id)


@dataclass(frozen=True, slots=True)
class BuiltReport:
    """A stored draft report, ready for the submission layer."""

    report_id: int
    """The ``reports`` row id (Brightline's own, not the clearinghouse's)."""
    case_id: int
    subject_id: int
    xml: bytes
    files: tuple[ReportFile, ...]


def _reporter_missing(reporter: ReporterSettings) -> list[str]:
    missing: list[str] = []
    required = ("company_name", "contact_first_name", "contact_last_name", "contact_email")
    optional = (
        "contact_phone",
        "company_template",
        "terms_of_service_url",
        "legal_url",
        "esp_service_name",
    )
    for name in required + optional:
        value = getattr(reporter, name)
        if value is None:
            if name in required:
                missing.append(f"reporter.{name}")
        elif text_problem(value) is not None:
            missing.append(f"reporter.{name} (unusable text)")
    return missing


def _optional_subject_text(value: str | None) -> str | None:
    """A subject's optional name or URL: blank means "not known", and is left out."""
    return value if value is not None and value.strip() else None


def _subject_missing(subject: Subject, context: ReportContext) -> list[str]:
    missing: list[str] = []
    fields = {
        "subject.service": subject.service,
        "subject.platform_user_id": (
            subject.platform_user_id if context.esp_identifier is None else None
        ),
        "subject.screen_name": _optional_subject_text(subject.screen_name),
        "subject.display_name": _optional_subject_text(subject.display_name),
        "subject.profile_url": _optional_subject_text(subject.profile_url),
    }
    for name, value in fields.items():
        if value is not None and text_problem(value) is not None:
            missing.append(f"{name} (unusable text)")
    return missing


def _hex(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if len(lowered) != _HEX_LENGTHS[name] or any(c not in "0123456789abcdef" for c in lowered):
        return None
    return lowered


def _item_facts(
    item: Item, context: ReportContext, missing: list[str]
) -> tuple[FileFacts, str] | None:
    """The file facts of one item and its media reference, or None after noting what lacks."""
    before = len(missing)
    label = f"item {item.id}"
    if item.uploaded_at is None:
        missing.append(f"{label}: uploaded_at")
    md5, sha1 = _hex(item.md5, "md5"), _hex(item.sha1, "sha1")
    if md5 is None:
        missing.append(f"{label}: md5")
    if sha1 is None:
        missing.append(f"{label}: sha1")
    if item.media_ref is None or text_problem(item.media_ref) is not None:
        missing.append(f"{label}: media_ref")
    if item.classification is not None and item.classification not in _CLASSIFICATIONS:
        missing.append(f"{label}: industry classification (unknown value)")
    annotations: list[FileAnnotation] = []
    for value in filter(None, (item.annotations or "").split(",")):
        try:
            annotations.append(FileAnnotation(value))
        except ValueError:
            missing.append(f"{label}: file annotations (unknown value)")
    if len(missing) > before or item.uploaded_at is None or md5 is None or sha1 is None:
        return None
    facts = context.files.get(item.id)
    file_facts = FileFacts(
        uploaded_at=item.uploaded_at,
        # Exactly the review record: true only after a recorded reveal by a named person.
        # Deciding (alone, by group or by policy) is not viewing (United States v. Wilson).
        viewed_by_esp=item.viewed_by_person is True,
        md5=md5,
        sha1=sha1,
        original_file_name=facts.original_file_name if facts else None,
        location_url=facts.location_url if facts else None,
        exif_viewed=facts.exif_viewed if facts else None,
        publicly_available=facts.publicly_available if facts else None,
        annotations=tuple(annotations),
        classification=item.classification,
        upload_ip=facts.upload_ip if facts else None,
        upload_device_ids=facts.upload_device_ids if facts else (),
    )
    return file_facts, item.media_ref or ""


def reportable_items(*, session: Session, case_id: int) -> list[Item]:
    """Confirmed items of the case that no standing (draft … finished) report covers, by id."""
    covered = (
        select(ReportItem.item_id)
        .join(Report, Report.id == ReportItem.report_id)
        .where(
            ReportItem.item_id == Item.id,
            Report.status.in_([status.value for status in ACTIVE_STATUSES]),
        )
    )
    return list(
        session.scalars(
            select(Item)
            .where(
                Item.case_id == case_id,
                Item.decision.in_(REPORTED_DECISIONS),
                # Text items are for review only: never a file of a report (docs/text.md).
                Item.media_type != TEXT_MEDIA_TYPE,
                ~exists(covered),
            )
            .order_by(Item.id)
        )
    )


def prior_report_ids(*, session: Session, subject_id: int) -> list[int]:
    """Clearinghouse ids of the subject's finished reports, oldest first (``priorCTReports``)."""
    return list(
        session.scalars(
            select(Report.clearinghouse_report_id)
            .where(
                Report.subject_id == subject_id,
                Report.status == ReportStatus.FINISHED.value,
                Report.clearinghouse_report_id.is_not(None),
            )
            .order_by(Report.finished_at, Report.id)
        )
    )


def _incident_type(value: IncidentType | str, missing: list[str]) -> IncidentType | None:
    try:
        return IncidentType(value)
    except ValueError:
        missing.append("incident_type (not one of the schema's incident types)")
        return None


def build_report(
    *,
    session: Session,
    case_id: int,
    reporter: ReporterSettings,
    context: ReportContext,
    incident_type: IncidentType | str,
    now: datetime,
    omit_item_ids: Collection[int] = (),
) -> BuiltReport:
    """Build and store (as a draft) the report on ``case_id``'s confirmed, unreported items.

    ``omit_item_ids`` leaves those items out of this report (they stay reportable later): the
    filing service uses it when an operator files without items whose media is missing, and
    records the omission (:func:`brightline.reports.filing.file_report`).

    Raises :class:`NotFound` for an unknown case and :class:`IncompleteReport` (an
    :class:`InvalidInput`) listing everything missing; in both cases nothing is written. When
    ``reporter.schema_path`` is set, the report and every file's details are validated against
    that XSD before anything is stored.
    """
    check_aware("now", now)
    if not isinstance(context, ReportContext):
        raise InvalidInput("context must be a ReportContext")
    # Lock the case row (PostgreSQL) so that two builds of one case cannot both take its items.
    case = session.get(Case, case_id, with_for_update=True)
    if case is None:
        raise NotFound(f"no case with id {case_id}")
    subject = session.get(Subject, case.subject_id)
    if subject is None:  # the foreign key makes this unreachable; refuse rather than guess
        raise NotFound(f"no subject with id {case.subject_id}")

    missing = _reporter_missing(reporter)
    chosen_type = _incident_type(incident_type, missing)
    if not context.internet_details:
        missing.append("context.internet_details")
    missing.extend(_subject_missing(subject, context))
    escalation: str | None = None
    if case.urgent:
        escalation = (case.urgent_reason or "").strip() or None
        if escalation is None or text_problem(escalation) is not None:
            missing.append("case.urgent_reason")

    omitted = frozenset(omit_item_ids)
    items = [
        item
        for item in reportable_items(session=session, case_id=case_id)
        if item.id not in omitted
    ]
    if not items:
        missing.append("confirmed items not yet reported")
    item_ids = {item.id for item in items}
    for extra in sorted(set(context.files) - item_ids):
        missing.append(f"context.files: item {extra} is not a confirmed, unreported item")
    gathered = [(item, _item_facts(item, context, missing)) for item in items]

    if missing or chosen_type is None:
        logger.info("case %d refused for reporting: %d fields missing", case_id, len(missing))
        raise IncompleteReport(case_id, missing)

    files: list[tuple[int, str, FileFacts, str]] = []
    for item, result in gathered:
        if result is None:  # unreachable: every None added to ``missing`` above
            raise IncompleteReport(case_id, [f"item {item.id}"])
        facts, media_ref = result
        files.append((item.id, media_ref, facts, file_details_template(facts)))

    upload_times = [facts.uploaded_at for _, _, facts, _ in files]
    user = ReportedUser(
        esp_identifier=context.esp_identifier or subject.platform_user_id,
        esp_service=subject.service,
        screen_name=_optional_subject_text(subject.screen_name),
        display_name=_optional_subject_text(subject.display_name),
        profile_url=_optional_subject_text(subject.profile_url),
        person=context.reported_person,
        ip_capture_events=context.ip_capture_events,
        device_ids=context.device_ids,
        prior_report_ids=tuple(prior_report_ids(session=session, subject_id=subject.id)),
        temporarily_disabled=context.account_temporarily_disabled,
        permanently_disabled=context.account_permanently_disabled,
    )
    document = report_document(
        incident_type=chosen_type,
        platform=reporter.esp_service_name,
        escalation_reason=escalation,
        report_annotations=context.report_annotations,
        incident_at=context.incident_at or min(upload_times),
        internet_details=context.internet_details,
        reporter=reporter,
        reported_user=user,
        victims=context.victims,
        intended_recipients=context.intended_recipients,
    )
    if reporter.schema_path is not None:
        validate_report_xml(document, reporter.schema_path)
        for _, _, _, template in files:
            validate_file_details_xml(
                file_details_for_upload(template, _SCHEMA_CHECK_REPORT_ID, _SCHEMA_CHECK_FILE_ID),
                reporter.schema_path,
            )

    report = Report(
        subject_id=subject.id,
        case_id=case.id,
        status=ReportStatus.DRAFT.value,
        incident_type=chosen_type.value,
        built_at=now,
        xml=document.decode("utf-8"),
    )
    session.add(report)
    session.flush()
    session.add_all(
        ReportItem(
            report_id=report.id,
            item_id=item_id,
            file_details_xml=template,
            media_ref=media_ref,
            md5=facts.md5,
            sha1=facts.sha1,
        )
        for item_id, media_ref, facts, template in files
    )
    session.flush()
    logger.info(
        "built report %d on case %d: %d files, %d prior reports, urgent=%s",
        report.id,
        case.id,
        len(files),
        len(user.prior_report_ids),
        escalation is not None,
    )
    return BuiltReport(
        report_id=report.id,
        case_id=case.id,
        subject_id=subject.id,
        xml=document,
        files=tuple(
            ReportFile(
                item_id=item_id,
                media_ref=media_ref,
                md5=facts.md5,
                sha1=facts.sha1,
                file_details_template=template,
            )
            for item_id, media_ref, facts, template in files
        ),
    )


def load_built_report(*, session: Session, report_id: int) -> BuiltReport:
    """A stored report as the submission layer needs it (e.g. after a restart)."""
    report = session.get(Report, report_id)
    if report is None:
        raise NotFound(f"no report with id {report_id}")
    rows = session.scalars(
        select(ReportItem).where(ReportItem.report_id == report_id).order_by(ReportItem.item_id)
    )
    return BuiltReport(
        report_id=report.id,
        case_id=report.case_id,
        subject_id=report.subject_id,
        xml=report.xml.encode("utf-8"),
        files=tuple(
            ReportFile(
                item_id=row.item_id,
                media_ref=row.media_ref,
                md5=row.md5,
                sha1=row.sha1,
                file_details_template=row.file_details_xml,
            )
            for row in rows
        ),
    )
