"""Report building from cases made through the review core, on SQLite and PostgreSQL.

Every document built here is validated against the reference CyberTipline schema.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from alembic import command
from lxml import etree
from sqlalchemy import Engine, func, inspect, select, update
from sqlalchemy.orm import Session, sessionmaker

from brightline.errors import InvalidInput, NotFound
from brightline.reports import (
    AccountDisabled,
    BuiltReport,
    CaptureEvent,
    CellPhoneIncident,
    ChatImIncident,
    DeviceId,
    EmailIncident,
    FileContext,
    IncidentType,
    IncompleteReport,
    IpCaptureEvent,
    NewsgroupIncident,
    NonInternetIncident,
    OnlineGamingIncident,
    Party,
    PeerToPeerIncident,
    PersonDetails,
    Report,
    ReportAnnotation,
    ReportContext,
    ReporterSettings,
    ReportItem,
    ReportStatus,
    WebPageIncident,
    build_report,
    load_built_report,
    validate_file_details_xml,
    validate_report_xml,
)
from brightline.review import DecisionKind, flag_content, record_reveal, trust_bank
from brightline.storage import upgrade_database
from brightline.storage.migrate import alembic_config, schema_is_current
from tests.reports.helpers import (
    CONTEXT,
    NOW,
    REPORTER,
    UPLOADED,
    content,
    flag,
    parse,
    schema_path,
    settle,
    texts,
    user,
)
from tests.review.helpers import make_bank, match

CP = IncidentType.CHILD_PORNOGRAPHY


def build(
    session: Session,
    case_id: int,
    *,
    context: ReportContext = CONTEXT,
    reporter: ReporterSettings = REPORTER,
) -> BuiltReport:
    return build_report(
        session=session,
        case_id=case_id,
        reporter=reporter,
        context=context,
        incident_type=CP,
        now=NOW,
    )


def check_valid(built: BuiltReport, report_id: int = 987654321) -> dict[int, bytes]:
    """Validate the report and each file's details (with clearinghouse-style ids)."""
    schema = schema_path()
    validate_report_xml(built.xml, schema)
    details = {}
    for n, file in enumerate(built.files):
        document = file.file_details(report_id, f"f{n:032x}")
        validate_file_details_xml(document, schema)
        details[file.item_id] = document
    return details


def viewed_flags(details: dict[int, bytes]) -> dict[int, str]:
    return {item: texts(parse(doc), "fileViewedByEsp")[0] for item, doc in details.items()}


def finish(session: Session, report_id: int, clearinghouse_id: int) -> None:
    """What the submission layer does once the clearinghouse finished the report."""
    session.execute(
        update(Report)
        .where(Report.id == report_id)
        .values(
            status=ReportStatus.FINISHED.value,
            clearinghouse_report_id=clearinghouse_id,
            finished_at=NOW,
        )
    )


def test_a_report_covers_the_confirmed_items_and_validates(session: Session) -> None:
    revealed = flag(session, 1, 1)
    unseen = flag(session, 1, 2)
    rejected = flag(session, 1, 3)
    record_reveal(session=session, item_id=revealed.item.id, reviewer="reviewer-a", now=NOW)
    settle(session, revealed.job.id, classification="A1", annotations=("infant", "viral"))
    settle(session, unseen.job.id, classification="B2")
    settle(session, rejected.job.id, DecisionKind.FALSE_POSITIVE)

    built = build_report(
        session=session,
        case_id=revealed.case.id,
        reporter=replace(REPORTER, schema_path=schema_path()),
        context=CONTEXT,
        incident_type=CP,
        now=NOW,
    )
    details = check_valid(built)

    assert [f.item_id for f in built.files] == [revealed.item.id, unseen.item.id]
    assert viewed_flags(details) == {revealed.item.id: "true", unseen.item.id: "false"}
    facts = content(1)
    first = parse(details[revealed.item.id])
    assert texts(first, "reportId") == ["987654321"]
    assert [(h.get("hashType"), h.text) for h in first.iterfind("originalFileHash")] == [
        ("MD5", facts.md5),
        ("SHA1", facts.sha1),
    ]
    assert texts(first, "industryClassification") == ["A1"]
    assert [e.tag for e in first.iterfind("fileAnnotations/*")] == ["viral", "infant"]
    assert texts(first, "uploadedToEspTimestamp") == ["2026-11-29T08:00:00Z"]
    assert not first.findall("exifViewedByEsp")
    assert not first.findall("publiclyAvailable")
    assert texts(parse(details[unseen.item.id]), "industryClassification") == ["B2"]
    assert built.files[0].md5 == facts.md5
    assert built.files[0].sha1 == facts.sha1
    assert built.files[0].media_ref == "evidence://test/1"

    report = parse(built.xml)
    assert [child.tag for child in report] == [
        "incidentSummary",
        "internetDetails",
        "reporter",
        "personOrUserReported",
    ]
    assert texts(report, "incidentSummary/incidentType") == [CP.value]
    assert texts(report, "incidentSummary/platform") == ["Example Service"]
    assert not report.findall("incidentSummary/escalateToHighPriority")
    assert texts(report, "incidentSummary/incidentDateTime") == ["2026-11-29T08:00:00Z"]
    assert texts(report, "internetDetails/webPageIncident/url") == ["https://example.org/p/1"]
    assert texts(report, "reporter/reportingPerson/firstName") == ["Placeholder"]
    assert texts(report, "reporter/reportingPerson/email") == ["reports@example.org"]
    assert texts(report, "reporter/companyTemplate")[0].startswith("Example Platform Inc.\n")
    assert texts(report, "reporter/termsOfService") == ["https://example.org/terms"]
    assert texts(report, "reporter/legalURL") == ["https://example.org/law-enforcement"]
    reported = report.find("personOrUserReported")
    assert reported is not None
    assert [(child.tag, child.text) for child in reported] == [
        ("espIdentifier", "user-0001"),
        ("espService", "example-service"),
        ("screenName", "placeholder1"),
        ("displayName", "Placeholder 1"),
        ("profileUrl", "https://example.org/u/user-0001"),
    ]

    row = session.get(Report, built.report_id)
    assert row is not None
    assert (row.status, row.case_id, row.incident_type) == ("draft", revealed.case.id, CP.value)
    assert (row.clearinghouse_report_id, row.finished_at, row.built_at) == (None, None, NOW)
    assert row.xml.encode() == built.xml
    assert load_built_report(session=session, report_id=built.report_id) == built
    with pytest.raises(NotFound):
        load_built_report(session=session, report_id=built.report_id + 1)


def test_items_decided_via_a_group_are_not_viewed(session: Session) -> None:
    """Same file for two users: one job; only the revealed representative counts as viewed."""
    first = flag(session, 1, 7)
    second = flag(session, 2, 7)
    assert second.grouped
    assert second.job.id == first.job.id
    record_reveal(session=session, item_id=first.item.id, reviewer="reviewer-a", now=NOW)
    settle(session, first.job.id)

    one = check_valid(build(session, first.case.id))
    two = check_valid(build(session, second.case.id))
    assert viewed_flags(one) == {first.item.id: "true"}
    assert viewed_flags(two) == {second.item.id: "false"}


def test_nothing_viewed_means_every_file_says_false(session: Session) -> None:
    items = [flag(session, 1, seed) for seed in (1, 2)]
    for flagged in items:
        settle(session, flagged.job.id)
    details = check_valid(build(session, items[0].case.id))
    assert set(viewed_flags(details).values()) == {"false"}


def test_items_confirmed_by_a_trusted_bank_policy_are_not_viewed(session: Session) -> None:
    entries = make_bank(session, "trusted", count=1, classification="A1")
    trust_bank(session=session, bank_name="trusted", actor="admin")
    auto = flag_content(
        session=session,
        subject=user(1),
        content=content(1),
        matches=[match(entries[0], "trusted")],
        source="upload",
        now=NOW,
    )
    assert auto.auto_confirmed
    details = check_valid(build(session, auto.case.id))
    assert viewed_flags(details) == {auto.item.id: "false"}
    assert texts(parse(details[auto.item.id]), "industryClassification") == ["A1"]


def test_escalation_carries_the_reviewers_reason_only_when_escalated(session: Session) -> None:
    calm = flag(session, 1, 1)
    settle(session, calm.job.id)
    urgent = flag(session, 2, 2)
    reason = "Placeholder reason: reviewer judged the risk imminent."
    settle(session, urgent.job.id, DecisionKind.ESCALATE, reason=reason)

    calm_report = build(session, calm.case.id)
    urgent_report = build(session, urgent.case.id)
    check_valid(calm_report)
    check_valid(urgent_report)
    assert not parse(calm_report.xml).findall("incidentSummary/escalateToHighPriority")
    summary = parse(urgent_report.xml).find("incidentSummary")
    assert summary is not None
    assert [child.tag for child in summary] == [
        "incidentType",
        "platform",
        "escalateToHighPriority",
        "incidentDateTime",
    ]
    assert texts(summary, "escalateToHighPriority") == [reason]


def test_a_later_report_lists_earlier_finished_ones(session: Session) -> None:
    first = flag(session, 1, 1)
    settle(session, first.job.id)
    earlier = build(session, first.case.id)
    assert not parse(earlier.xml).findall("personOrUserReported/priorCTReports")

    # Nothing new to report on that case yet: refused, and nothing written.
    with pytest.raises(IncompleteReport, match="confirmed items not yet reported"):
        build(session, first.case.id)

    finish(session, earlier.report_id, 5_000_000_001)
    later_item = flag(session, 1, 2)
    settle(session, later_item.job.id)
    # A report that is still in flight is not a prior report; only finished ones are.
    other = flag(session, 1, 3)
    settle(session, other.job.id)
    pending = build(session, first.case.id)
    assert [f.item_id for f in pending.files] == [later_item.item.id, other.item.id]
    assert texts(parse(pending.xml), "personOrUserReported/priorCTReports") == ["5000000001"]

    finish(session, pending.report_id, 5_000_000_002)
    last = flag(session, 1, 4)
    settle(session, last.job.id)
    latest = build(session, first.case.id)
    check_valid(latest)
    reported = parse(latest.xml).find("personOrUserReported")
    assert reported is not None
    assert texts(reported, "priorCTReports") == ["5000000001", "5000000002"]
    assert [child.tag for child in reported][-2:] == ["priorCTReports", "priorCTReports"]


def test_items_of_a_failed_report_can_be_reported_again(session: Session) -> None:
    flagged = flag(session, 1, 1)
    settle(session, flagged.job.id)
    failed = build(session, flagged.case.id)
    session.execute(
        update(Report).where(Report.id == failed.report_id).values(status="failed", error="4100")
    )
    again = build(session, flagged.case.id)
    assert [f.item_id for f in again.files] == [flagged.item.id]
    assert not parse(again.xml).findall("personOrUserReported/priorCTReports")


def test_missing_data_is_refused_with_every_field_and_nothing_is_written(
    session: Session,
) -> None:
    bare = flag(session, 1, 1, uploaded_at=None, sha1=False, media_ref=False)
    fine = flag(session, 1, 2)
    settle(session, bare.job.id)
    settle(session, fine.job.id)
    context = ReportContext(files={fine.item.id + 100: FileContext(original_file_name="x.jpg")})

    with pytest.raises(IncompleteReport) as refused:
        build(session, bare.case.id, context=context, reporter=ReporterSettings())
    item = bare.item.id
    assert refused.value.missing == (
        "reporter.company_name",
        "reporter.contact_first_name",
        "reporter.contact_last_name",
        "reporter.contact_email",
        "context.internet_details",
        f"context.files: item {fine.item.id + 100} is not a confirmed, unreported item",
        f"item {item}: uploaded_at",
        f"item {item}: sha1",
        f"item {item}: media_ref",
    )
    assert isinstance(refused.value, InvalidInput)
    assert "user-0001" not in str(refused.value)
    assert "x.jpg" not in str(refused.value)
    assert session.scalar(select(func.count()).select_from(Report)) == 0
    assert session.scalar(select(func.count()).select_from(ReportItem)) == 0


def test_an_urgent_case_without_its_reason_and_a_case_with_nothing_confirmed(
    session: Session,
) -> None:
    rejected = flag(session, 1, 1)
    settle(session, rejected.job.id, DecisionKind.FALSE_POSITIVE)
    with pytest.raises(IncompleteReport) as refused:
        build(session, rejected.case.id)
    assert refused.value.missing == ("confirmed items not yet reported",)

    urgent = flag(session, 2, 2)
    settle(session, urgent.job.id)
    session.execute(
        update(type(urgent.case)).where(type(urgent.case).id == urgent.case.id).values(urgent=True)
    )
    session.expire_all()
    with pytest.raises(IncompleteReport) as refused:
        build(session, urgent.case.id)
    assert refused.value.missing == ("case.urgent_reason",)
    with pytest.raises(NotFound):
        build(session, urgent.case.id + 100)
    with pytest.raises(IncompleteReport, match="incident_type"):
        build_report(
            session=session,
            case_id=urgent.case.id,
            reporter=REPORTER,
            context=CONTEXT,
            incident_type="Something Else",
            now=NOW,
        )


def test_a_full_context_fills_every_section_in_schema_order(session: Session) -> None:
    flagged = flag(session, 1, 1)
    record_reveal(session=session, item_id=flagged.item.id, reviewer="reviewer-a", now=NOW)
    settle(session, flagged.job.id, classification="B1", annotations=("generativeAi",))
    seen = NOW - timedelta(days=3)
    context = ReportContext(
        internet_details=(
            WebPageIncident(
                urls=("https://example.org/a", "https://example.org/b"), third_party_hosted=False
            ),
            EmailIncident(email_addresses=("sender@example.org",), content="placeholder text"),
            NewsgroupIncident(name="example.group", email_addresses=("poster@example.org",)),
            ChatImIncident(chat_client="Example Chat", chat_room_name="room-1", content="hi"),
            OnlineGamingIncident(game_name="Example Game", console="Example Console"),
            CellPhoneIncident(phone_number="+1 555 0101", latitude=51.5, longitude=-0.12),
            NonInternetIncident(location_name="Placeholder Place"),
            PeerToPeerIncident(
                client="example-p2p",
                ip_capture_events=(IpCaptureEvent("192.0.2.7"),),
                file_names="placeholder.bin",
            ),
        ),
        esp_identifier="account-0001",
        reported_person=PersonDetails(first_name="Placeholder", emails=("user@example.org",)),
        ip_capture_events=(
            IpCaptureEvent("2001:DB8::1", CaptureEvent.LOGIN, seen, possible_proxy=False, port=443),
            IpCaptureEvent("198.51.100.4", CaptureEvent.UPLOAD),
        ),
        device_ids=(
            DeviceId("IDFA", "00000000-0000-0000-0000-000000000001", CaptureEvent.LOGIN, seen),
        ),
        account_temporarily_disabled=AccountDisabled(
            disabled_at=NOW, reenabled_at=NOW + timedelta(days=1)
        ),
        account_permanently_disabled=AccountDisabled(disabled_at=NOW, user_notified=False),
        victims=(Party(person=PersonDetails(age=14)), Party(screen_name="placeholder-v")),
        intended_recipients=(Party(esp_identifier="user-0002", esp_service="example-service"),),
        files={
            flagged.item.id: FileContext(
                original_file_name="placeholder-original.jpg",
                location_url="https://example.org/f/1",
                publicly_available=True,
                exif_viewed=False,
                upload_ip=IpCaptureEvent("192.0.2.9", CaptureEvent.UPLOAD, UPLOADED),
                upload_device_ids=(DeviceId("IMEI", "000000000000001"),),
            )
        },
        report_annotations=frozenset({ReportAnnotation.SPAM, ReportAnnotation.SEXTORTION}),
        incident_at=seen,
    )
    built = build(session, flagged.case.id, context=context)
    details = check_valid(built)

    report = parse(built.xml)
    assert [child.tag for child in report] == [
        "incidentSummary",
        *["internetDetails"] * 8,
        "reporter",
        "personOrUserReported",
        "intendedRecipient",
        "victim",
        "victim",
    ]
    assert [e.tag for e in report.iterfind("incidentSummary/reportAnnotations/*")] == [
        "sextortion",
        "spam",
    ]
    assert texts(report, "incidentSummary/incidentDateTime") == ["2026-11-28T08:00:00Z"]
    reported = report.find("personOrUserReported")
    assert reported is not None
    assert [child.tag for child in reported] == [
        "personOrUserReportedPerson",
        "espIdentifier",
        "espService",
        "screenName",
        "displayName",
        "profileUrl",
        "ipCaptureEvent",
        "ipCaptureEvent",
        "deviceId",
        "accountTemporarilyDisabled",
        "accountPermanentlyDisabled",
    ]
    assert texts(reported, "espIdentifier") == ["account-0001"]
    assert texts(reported, "ipCaptureEvent/ipAddress") == ["2001:db8::1", "198.51.100.4"]
    assert texts(reported, "ipCaptureEvent/eventName") == ["Login", "Upload"]
    temporary = reported.find("accountTemporarilyDisabled")
    assert temporary is not None
    assert temporary.get("reenabledDate") == "2026-12-02T08:00:00Z"
    assert texts(report, "victim[1]/victimPerson/age") == ["14"]
    assert texts(report, "victim[2]/screenName") == ["placeholder-v"]
    assert report.findall("victim[2]/victimPerson")  # required by the schema, even when empty
    assert not report.findall("intendedRecipient/intendedRecipientPerson")

    file = parse(details[flagged.item.id])
    assert [child.tag for child in file] == [
        "reportId",
        "fileId",
        "originalFileName",
        "uploadedToEspTimestamp",
        "locationOfFile",
        "fileViewedByEsp",
        "exifViewedByEsp",
        "publiclyAvailable",
        "fileAnnotations",
        "industryClassification",
        "originalFileHash",
        "originalFileHash",
        "ipCaptureEvent",
        "deviceId",
    ]
    assert texts(file, "fileViewedByEsp") == ["true"]
    assert texts(file, "exifViewedByEsp") == ["false"]
    assert texts(file, "publiclyAvailable") == ["true"]


def test_a_configured_schema_refuses_an_invalid_document(session: Session) -> None:
    schema = schema_path()
    flagged = flag(session, 1, 1)
    settle(session, flagged.job.id)
    built = build(session, flagged.case.id)
    swapped = built.xml.replace(b"<incidentSummary>", b"<reporterX>", 1)
    with pytest.raises(InvalidInput, match="not well-formed"):
        validate_report_xml(swapped, schema)
    root = parse(built.xml)
    summary = root[0]
    root.remove(summary)
    root.append(summary)  # out of sequence order
    with pytest.raises(InvalidInput, match="invalid against the CyberTipline schema") as invalid:
        validate_report_xml(etree.tostring(root), schema)
    assert "user-0001" not in str(invalid.value)
    with pytest.raises(InvalidInput, match="expected a <fileDetails>"):
        validate_file_details_xml(built.xml, schema)


def test_file_details_refuse_ids_the_clearinghouse_would_not_have_sent(session: Session) -> None:
    flagged = flag(session, 1, 1)
    settle(session, flagged.job.id)
    file = build(session, flagged.case.id).files[0]
    for report_id, file_id in ((0, "abc"), (2**63, "abc"), (1, ""), (1, " abc"), (1, "a\nb")):
        with pytest.raises(InvalidInput):
            file.file_details(report_id, file_id)


def test_0007_downgrades_and_upgrades_again(engine: Engine) -> None:
    assert {"reports", "report_items"} <= set(inspect(engine).get_table_names())
    command.downgrade(alembic_config(engine), "0006")
    assert not {"reports", "report_items"} & set(inspect(engine).get_table_names())
    upgrade_database(engine)
    assert schema_is_current(engine)


def test_two_builds_of_one_case_cannot_both_take_its_items(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    """The second build waits for the first (PostgreSQL row lock) and then finds nothing new.

    SQLite runs one writer at a time, so the question only arises on PostgreSQL.
    """
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite serialises writers")
    with sessions() as setup:
        flagged = flag(setup, 1, 1)
        settle(setup, flagged.job.id)
        setup.commit()
        case_id = flagged.case.id
    outcome: list[object] = []
    first = sessions()
    built = build(first, case_id)

    def second_build() -> None:
        with sessions() as second:
            try:
                outcome.append(build(second, case_id))
            except IncompleteReport as refused:
                outcome.append(refused.missing)

    thread = threading.Thread(target=second_build)
    thread.start()
    thread.join(timeout=1.0)
    assert thread.is_alive()  # blocked on the case row while the first build is uncommitted
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert outcome == [("confirmed items not yet reported",)]
    with sessions() as check:
        assert check.scalar(select(func.count()).select_from(Report)) == 1
        assert check.get(Report, built.report_id) is not None
