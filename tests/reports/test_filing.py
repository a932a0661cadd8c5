"""Filing: media check, enrichment, build, audit and queue in one transaction (SQLite, PostgreSQL).

Content is synthetic (digests of a seed, ``evidence://test/<seed>`` references, placeholder
users); the vault is a set of references.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from brightline.clearinghouse_client.models import ReportSubmission, SubmissionStatus
from brightline.clearinghouse_client.outbox import failed_case_ids
from brightline.errors import Conflict, InvalidInput, NotFound, StorageError, UpstreamError
from brightline.reports import (
    EnrichmentFailed,
    EnrichmentRequest,
    FileContext,
    IncidentType,
    IncompleteReport,
    NoEnrichment,
    Report,
    ReportContext,
    ReportItem,
    ReportStatus,
    parse_context_patch,
)
from brightline.reports.filing import (
    FiledReport,
    MissingMedia,
    case_reports,
    file_report,
    media_missing,
    report_overview,
)
from brightline.review import AuditAction, DecisionKind, query_audit, record_reveal
from brightline.review.models import Item
from tests.reports.helpers import CONTEXT, NOW, REPORTER, flag, parse, settle, texts
from tests.reports.plugins import Enricher

CP = IncidentType.CHILD_PORNOGRAPHY


@dataclass
class Vault:
    """A stand-in for the evidence vault: ``exists`` is all filing asks of it."""

    refs: set[str] = field(default_factory=set)
    broken: bool = False

    def exists(self, ref: str) -> bool:
        if self.broken:
            raise PermissionError(13, "Permission denied")
        if not ref.startswith("evidence://"):
            raise InvalidInput("not an evidence reference")
        return ref in self.refs


@dataclass
class Recorder:
    """An enricher that answers a fixed context and remembers what it was asked."""

    context: ReportContext = CONTEXT
    requests: list[EnrichmentRequest] = field(default_factory=list)

    def enrich(self, request: EnrichmentRequest) -> ReportContext:
        self.requests.append(request)
        return self.context


def confirmed_case(session: Session, seeds: tuple[int, ...] = (1, 2), who: int = 1) -> list[int]:
    """A case of ``who`` with one confirmed item per seed; returns the item ids."""
    item_ids = []
    for seed in seeds:
        flagged = flag(session, who, seed)
        settle(session, flagged.job.id)
        item_ids.append(flagged.item.id)
    session.flush()
    return item_ids


def case_of(session: Session, item_id: int) -> int:
    item = session.get(Item, item_id)
    assert item is not None
    return item.case_id


def vault_for(session: Session, item_ids: list[int]) -> Vault:
    refs = set()
    for item_id in item_ids:
        item = session.get(Item, item_id)
        assert item is not None
        assert item.media_ref is not None
        refs.add(item.media_ref)
    return Vault(refs)


def file(session: Session, case_id: int, **overrides: object) -> FiledReport:
    arguments: dict[str, object] = {
        "session": session,
        "case_id": case_id,
        "incident_type": CP,
        "actor": "lead-a",
        "reporter": REPORTER,
        "enricher": Recorder(),
        "media": Vault(),
        "now": NOW,
    }
    arguments.update(overrides)
    return file_report(**arguments)  # type: ignore[arg-type]


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_filing_enriches_builds_audits_and_queues_in_one_transaction(session: Session) -> None:
    item_ids = confirmed_case(session)
    case_id = case_of(session, item_ids[0])
    record_reveal(session=session, item_id=item_ids[0], reviewer="reviewer-a", now=NOW)
    recorder = Recorder(
        context=ReportContext(
            internet_details=CONTEXT.internet_details,
            files={item_ids[0]: FileContext(original_file_name="placeholder.jpg")},
        )
    )
    filed = file_report(
        session=session,
        case_id=case_id,
        incident_type=CP,
        actor="lead-a",
        reporter=REPORTER,
        enricher=recorder,
        media=vault_for(session, item_ids),
        now=NOW,
    )
    session.commit()

    (request,) = recorder.requests
    assert request.case_id == case_id
    assert request.item_ids == tuple(item_ids)
    assert request.subject.platform_user_id == "user-0001"
    assert request.items[0].viewed_by_person is True
    assert request.items[1].viewed_by_person is False
    assert request.items[0].decision == "confirm"
    assert request.items[0].classification == "A2"

    assert filed.omitted_item_ids == ()
    assert [f.item_id for f in filed.built.files] == item_ids
    root = parse(filed.built.xml)
    assert texts(root, "incidentSummary/incidentType") == [CP.value]
    detail = parse(filed.built.files[0].file_details(1, "f1"))
    assert texts(detail, "originalFileName") == ["placeholder.jpg"]

    report = session.get(Report, filed.report_id)
    assert report is not None
    assert report.status == ReportStatus.QUEUED.value
    submission = session.get(ReportSubmission, filed.submission_id)
    assert submission is not None
    assert submission.report_id == filed.report_id
    assert submission.status == SubmissionStatus.QUEUED.value

    (entry,) = query_audit(session=session, action=AuditAction.REPORT_BUILD)
    assert entry.actor == "lead-a"
    assert entry.object_type == "report"
    assert entry.object_id == str(filed.report_id)
    assert json.loads(entry.detail) == {
        "case_id": case_id,
        "subject_id": report.subject_id,
        "incident_type": "CHILD_PORNOGRAPHY",
        "item_ids": item_ids,
        "omitted_item_ids": [],
        "enrichment": "Recorder",
        "overlay": False,
        "submission_id": filed.submission_id,
    }


def test_without_queueing_the_report_stays_a_draft(session: Session) -> None:
    item_ids = confirmed_case(session)
    filed = file(
        session, case_of(session, item_ids[0]), media=vault_for(session, item_ids), queue=False
    )
    assert filed.submission_id is None
    report = session.get(Report, filed.report_id)
    assert report is not None
    assert report.status == ReportStatus.DRAFT.value
    assert count(session, ReportSubmission) == 0


def test_missing_media_is_refused_naming_the_items_and_nothing_is_asked_or_written(
    session: Session,
) -> None:
    item_ids = confirmed_case(session, seeds=(1, 2, 3))
    case_id = case_of(session, item_ids[0])
    vault = vault_for(session, [item_ids[1]])
    recorder = Recorder()
    with pytest.raises(MissingMedia) as caught:
        file(session, case_id, media=vault, enricher=recorder)
    error = caught.value
    assert isinstance(error, Conflict)
    assert error.item_ids == (item_ids[0], item_ids[2])
    assert f"item(s) {item_ids[0]}, {item_ids[2]} is missing" in str(error)
    assert "allow missing media" in str(error)
    assert recorder.requests == []
    assert count(session, Report) == 0
    assert query_audit(session=session, action=AuditAction.REPORT_BUILD) == []


def test_unset_and_malformed_references_are_missing_and_an_unreadable_vault_is_not(
    session: Session,
) -> None:
    item_ids = confirmed_case(session, seeds=(1, 2))
    session.execute(update(Item).where(Item.id == item_ids[0]).values(media_ref=None))
    session.execute(update(Item).where(Item.id == item_ids[1]).values(media_ref="no-scheme"))
    items = list(session.scalars(select(Item).where(Item.id.in_(item_ids)).order_by(Item.id)))
    assert media_missing(items=items, media=Vault()) == item_ids
    with pytest.raises(StorageError, match="cannot read the evidence vault"):
        media_missing(items=items[1:], media=Vault(broken=True))


def test_allowing_missing_media_files_the_rest_and_audits_each_omission(session: Session) -> None:
    item_ids = confirmed_case(session, seeds=(1, 2, 3))
    case_id = case_of(session, item_ids[0])
    recorder = Recorder()
    filed = file(
        session,
        case_id,
        media=vault_for(session, [item_ids[1]]),
        enricher=recorder,
        allow_missing_media=True,
    )
    omitted = [item_ids[0], item_ids[2]]
    assert filed.omitted_item_ids == tuple(omitted)
    assert [f.item_id for f in filed.built.files] == [item_ids[1]]
    assert recorder.requests[0].item_ids == (item_ids[1],)  # not asked about omitted items

    rows = query_audit(session=session, action=AuditAction.REPORT_OMIT)
    assert [int(row.object_id) for row in rows] == omitted
    for row in rows:
        assert row.object_type == "item"
        assert row.actor == "lead-a"
        assert "media missing" in (row.reason or "")
        assert json.loads(row.detail) == {
            "report_id": filed.report_id,
            "case_id": case_id,
            "cause": "media_missing",
        }
    (built,) = query_audit(session=session, action=AuditAction.REPORT_BUILD)
    assert json.loads(built.detail)["omitted_item_ids"] == omitted

    # The omitted items stay reportable: once their media is back, they are filed on their own.
    again = file(session, case_id, media=vault_for(session, item_ids))
    assert [f.item_id for f in again.built.files] == omitted


def test_when_every_item_lacks_media_even_allowing_it_refuses(session: Session) -> None:
    item_ids = confirmed_case(session)
    with pytest.raises(MissingMedia, match="no item with media is left"):
        file(session, case_of(session, item_ids[0]), allow_missing_media=True)
    assert count(session, Report) == 0


def test_an_enrichment_failure_writes_nothing(session: Session) -> None:
    item_ids = confirmed_case(session)

    class Failing:
        def enrich(self, request: EnrichmentRequest) -> ReportContext:
            raise EnrichmentFailed("the enrichment webhook at https://example.org failed")

    with pytest.raises(UpstreamError):
        file(
            session,
            case_of(session, item_ids[0]),
            media=vault_for(session, item_ids),
            enricher=Failing(),
        )
    assert count(session, Report) == 0
    assert query_audit(session=session, action=AuditAction.REPORT_BUILD) == []

    class Wrong:
        def enrich(self, request: EnrichmentRequest) -> object:
            return {"internet_details": []}

    with pytest.raises(EnrichmentFailed, match="returned dict, not a ReportContext"):
        file(
            session,
            case_of(session, item_ids[0]),
            media=vault_for(session, item_ids),
            enricher=Wrong(),
        )


def test_no_enrichment_lists_what_is_missing_and_an_overlay_supplies_it(session: Session) -> None:
    item_ids = confirmed_case(session)
    case_id = case_of(session, item_ids[0])
    vault = vault_for(session, item_ids)
    with pytest.raises(IncompleteReport, match=r"missing: context\.internet_details"):
        file(session, case_id, media=vault, enricher=NoEnrichment())
    overlay = parse_context_patch(
        json.dumps(
            {
                "internet_details": [{"type": "web_page", "urls": ["https://example.org/p/9"]}],
                "files": {str(item_ids[1]): {"publicly_available": True}},
            }
        ),
        source="context file",
    )
    filed = file(session, case_id, media=vault, enricher=NoEnrichment(), overlay=overlay)
    root = parse(filed.built.xml)
    assert texts(root, "internetDetails/webPageIncident/url") == ["https://example.org/p/9"]
    detail = parse(filed.built.files[1].file_details(1, "f"))
    assert texts(detail, "publiclyAvailable") == ["true"]
    (entry,) = query_audit(session=session, action=AuditAction.REPORT_BUILD)
    assert json.loads(entry.detail)["overlay"] is True
    assert json.loads(entry.detail)["enrichment"] == "NoEnrichment"


def test_a_plugin_enricher_is_used_as_is(session: Session) -> None:
    item_ids = confirmed_case(session)
    filed = file(
        session,
        case_of(session, item_ids[0]),
        media=vault_for(session, item_ids),
        enricher=Enricher(),
    )
    detail = parse(filed.built.files[0].file_details(1, "f"))
    assert texts(detail, "originalFileName") == ["placeholder.png"]


def test_refusals_before_anything_is_asked(session: Session) -> None:
    with pytest.raises(NotFound):
        file(session, 999_999)
    item_ids = confirmed_case(session)
    case_id = case_of(session, item_ids[0])
    with pytest.raises(IncompleteReport, match="incident_type"):
        file(session, case_id, incident_type="Not a type")
    with pytest.raises(InvalidInput, match="actor"):
        file(session, case_id, actor=" ")
    undecided = flag(session, 2, 50)
    recorder = Recorder()
    with pytest.raises(IncompleteReport, match="confirmed items not yet reported"):
        file(session, undecided.case.id, enricher=recorder)
    assert recorder.requests == []


def test_nothing_is_filed_twice(session: Session) -> None:
    item_ids = confirmed_case(session)
    case_id = case_of(session, item_ids[0])
    vault = vault_for(session, item_ids)
    file(session, case_id, media=vault)
    with pytest.raises(IncompleteReport, match="confirmed items not yet reported"):
        file(session, case_id, media=vault)


def test_a_case_that_changes_while_the_platform_answers_is_refused(session: Session) -> None:
    item_ids = confirmed_case(session)
    case_id = case_of(session, item_ids[0])
    late = flag(session, 1, 60)
    vault = vault_for(session, [*item_ids, late.item.id])

    class ConfirmsMeanwhile:
        """Another reviewer confirms a new item while the platform is being asked."""

        def enrich(self, request: EnrichmentRequest) -> ReportContext:
            settle(session, late.job.id, reviewer="reviewer-b")
            return CONTEXT

    with pytest.raises(Conflict, match="changed while its report was being prepared"):
        file(session, case_id, media=vault, enricher=ConfirmsMeanwhile())


def test_case_reports_show_status_receipts_and_failures(session: Session) -> None:
    item_ids = confirmed_case(session, seeds=(1, 2))
    case_id = case_of(session, item_ids[0])
    filed = file(session, case_id, media=vault_for(session, item_ids))
    (overview,) = case_reports(session=session, case_id=case_id)
    assert overview.report_id == filed.report_id
    assert overview.status == "queued"
    assert overview.item_ids == tuple(item_ids)
    assert overview.submission is not None
    assert overview.submission.status == "queued"
    assert overview.receipt_for(item_ids[0]) is not None
    assert overview.receipt_for(999) is None
    assert not overview.failed
    assert report_overview(session=session, report_id=overview.report_id) == overview
    with pytest.raises(NotFound):
        report_overview(session=session, report_id=999_999)

    session.execute(
        update(ReportSubmission)
        .where(ReportSubmission.id == overview.submission.submission_id)
        .values(status="failed", last_error="ReportRejected: 4100 validation failed")
    )
    session.execute(update(Report).where(Report.id == overview.report_id).values(status="failed"))
    session.expire_all()
    (failed,) = case_reports(session=session, case_id=case_id)
    assert failed.failed
    assert failed.submission is not None
    assert failed.submission.last_error == "ReportRejected: 4100 validation failed"
    assert failed_case_ids(session=session) == [case_id]


def test_a_draft_report_has_no_receipt(session: Session) -> None:
    item_ids = confirmed_case(session)
    filed = file(
        session, case_of(session, item_ids[0]), media=vault_for(session, item_ids), queue=False
    )
    overview = report_overview(session=session, report_id=filed.report_id)
    assert overview.submission is None
    assert overview.receipt_for(item_ids[0]) is None
    assert count(session, ReportItem) == 2


def test_escalated_items_are_filed(session: Session) -> None:
    flagged = flag(session, 3, 70)
    settle(session, flagged.job.id, DecisionKind.ESCALATE, reason="imminent risk (synthetic)")
    filed = file(session, flagged.case.id, media=vault_for(session, [flagged.item.id]))
    root = parse(filed.built.xml)
    assert texts(root, "incidentSummary/escalateToHighPriority") == ["imminent risk (synthetic)"]
