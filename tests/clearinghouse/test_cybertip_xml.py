"""CyberTipline XML ↔ the model: the project's own builder, hand-written documents, the schema.

Every document written here is validated against the reference XSD (skipped, visibly, where the
reference copy is absent). Reports built by Brightline's report builder are read back.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from brightline import reports as builder
from brightline.clearinghouse import (
    CaptureEvent,
    Classification,
    DeviceId,
    EstimatedLocation,
    FileAnnotation,
    IncidentType,
    IncomingReport,
    IpEvent,
    PaymentHandle,
    ReportAnnotation,
    ReportedFile,
    ReportedPerson,
    ScreenName,
    Victim,
    file_details_xml,
    parse_report_xml,
    report_xml,
)
from brightline.errors import InvalidInput
from brightline.review import DecisionKind, record_reveal
from brightline.review.models import FileAnnotation as ReviewFileAnnotation
from tests.clearinghouse.helpers import NOW, digests, file, person, report
from tests.reports.helpers import CONTEXT, REPORTER, content, flag, schema_path, settle


def test_file_annotations_agree_with_the_review_core() -> None:
    assert [a.value for a in FileAnnotation] == [a.value for a in ReviewFileAnnotation]


def parse(document: bytes, *details: bytes, report_id: str = "987654321") -> IncomingReport:
    return parse_report_xml(
        document,
        report_id=report_id,
        provider="provider-01",
        received_at=NOW,
        file_details=details,
    )


def test_a_report_built_by_the_report_builder_is_read_back(session: Session) -> None:
    flagged = flag(session, 1, 1)
    other = flag(session, 1, 2)
    record_reveal(session=session, item_id=flagged.item.id, reviewer="reviewer-a", now=NOW)
    reason = "Placeholder reason: reviewer judged the risk imminent."
    settle(
        session,
        flagged.job.id,
        DecisionKind.ESCALATE,
        classification="A1",
        annotations=("infant", "physicalHarm"),
        reason=reason,
    )
    settle(session, other.job.id, classification="B2")
    seen = NOW - timedelta(days=3)
    context = replace(
        CONTEXT,
        reported_person=builder.PersonDetails(
            emails=("user-0001@example.org",), phones=("+1 202 555 0143",)
        ),
        ip_capture_events=(
            builder.IpCaptureEvent("2001:DB8::1", builder.CaptureEvent.LOGIN, seen, False, 443),
        ),
        device_ids=(builder.DeviceId("IDFA", "00000000-0000-0000-0000-000000000001"),),
        victims=(builder.Party(person=builder.PersonDetails(age=9)),),
        report_annotations=frozenset({builder.ReportAnnotation.SEXTORTION}),
        incident_at=seen,
    )
    built = builder.build_report(
        session=session,
        case_id=flagged.case.id,
        reporter=REPORTER,
        context=context,
        incident_type=builder.IncidentType.ONLINE_ENTICEMENT,
        now=NOW,
    )
    details = [f.file_details(987654321, f"file-{n}") for n, f in enumerate(built.files)]

    got = parse(built.xml, *details)

    assert got.incident_type is IncidentType.ONLINE_ENTICEMENT
    assert got.incident_at == seen
    assert got.escalation == reason
    assert got.report_annotations == {ReportAnnotation.SEXTORTION}
    assert not got.batched
    (reported,) = got.persons
    assert reported == ReportedPerson(
        esp_identifier="user-0001",
        esp_service="example-service",
        screen_names=(ScreenName("example-service", "placeholder1"),),
        emails=("user-0001@example.org",),
        phones=("+1 202 555 0143",),
        ip_events=(
            IpEvent("2001:db8::1", at=seen, event=CaptureEvent.LOGIN, possible_proxy=False),
        ),
        device_ids=(DeviceId("IDFA", "00000000-0000-0000-0000-000000000001"),),
    )
    assert got.victims == (Victim(age=9),)
    first, second = got.files
    facts = content(1)
    assert (first.file_id, first.md5, first.sha1) == ("file-0", facts.md5, facts.sha1)
    assert first.classification is Classification.A1
    assert first.annotations == {FileAnnotation.INFANT, FileAnnotation.PHYSICAL_HARM}
    assert first.uploaded_at == NOW - timedelta(days=2)
    assert (second.file_id, second.classification) == ("file-1", Classification.B2)


HAND_WRITTEN = b"""<?xml version="1.0" encoding="UTF-8"?>
<report>
  <batchedReport reason="VIRAL_POTENTIAL_MEME"/>
  <incidentSummary>
    <incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>
    <platform>Example Platform</platform>
    <reportAnnotations><spam>true</spam><sadisticOnlineExploitation/></reportAnnotations>
    <incidentDateTime>2026-11-28T10:00:00</incidentDateTime>
  </incidentSummary>
  <reporter><reportingPerson><email>reports@example.org</email></reportingPerson></reporter>
  <personOrUserReported>
    <personOrUserReportedPerson>
      <phone countryCallingCode="+44">7700 900123</phone>
      <email type="Home">Someone@Example.net</email>
    </personOrUserReportedPerson>
    <espIdentifier>acct-42</espIdentifier>
    <screenName>placeholder42</screenName>
    <ipCaptureEvent>
      <ipAddress>198.51.100.7</ipAddress><eventName>Upload</eventName>
      <dateTime>2026-11-28T09:59:00+01:00</dateTime><possibleProxy>true</possibleProxy>
    </ipCaptureEvent>
    <priorCTReports>123</priorCTReports>
    <estimatedLocation verified="true"><region>CA</region><countryCode>US</countryCode>
    </estimatedLocation>
    <associatedAccount type="Parent/Guardian"/>
    <associatedAccount type="Linked">
      <email>other@example.org</email><espService>example-chat</espService>
      <screenName>placeholder-chat</screenName>
    </associatedAccount>
    <associatedAccount type="Billing"><platform>ExamplePay</platform>
      <screenName>$placeholder</screenName></associatedAccount>
    <associatedAccount type="Billing"><platform>Cryptocurrency</platform>
      <espIdentifier>bc1qplaceholder</espIdentifier></associatedAccount>
    <associatedAccount type="Business"><platform>Ignored</platform>
      <espIdentifier>not-a-handle</espIdentifier></associatedAccount>
  </personOrUserReported>
  <victim><victimPerson/></victim>
  <victim><victimPerson><age>7</age></victimPerson>
    <estimatedLocation><countryCode>GB</countryCode></estimatedLocation></victim>
</report>
"""

HAND_WRITTEN_FILE = b"""<fileDetails>
  <reportId>555</reportId><fileId>abc</fileId>
  <potentialMeme>true</potentialMeme>
  <originalFileHash hashType="md5">%s</originalFileHash>
  <originalFileHash hashType="PDQ">%s</originalFileHash>
  <details type="HASH"><nameValuePair><name>PDQ_QUALITY</name><value>88</value></nameValuePair>
  </details>
</fileDetails>
"""


def test_a_hand_written_report_uses_every_convention() -> None:
    md5 = digests(1)["md5"].upper().encode()
    pdq = ("f" * 64).encode()
    got = parse(HAND_WRITTEN, HAND_WRITTEN_FILE % (md5, pdq), report_id="555")
    assert got.batched
    assert got.incident_at == datetime(2026, 11, 28, 10, 0, tzinfo=UTC)  # no offset: UTC
    assert got.report_annotations == {
        ReportAnnotation.SPAM,
        ReportAnnotation.SADISTIC_ONLINE_EXPLOITATION,
    }
    (p,) = got.persons
    assert p.phones == ("+44 7700 900123",)
    assert p.emails == ("Someone@Example.net", "other@example.org")
    assert p.screen_names == (
        ScreenName("Example Platform", "placeholder42"),  # no espService: the platform
        ScreenName("example-chat", "placeholder-chat"),
    )
    assert p.ip_events == (
        IpEvent(
            "198.51.100.7",
            at=datetime(2026, 11, 28, 8, 59, tzinfo=UTC),
            event=CaptureEvent.UPLOAD,
            possible_proxy=True,
        ),
    )
    assert p.prior_report_ids == ("123",)
    assert p.estimated_location == EstimatedLocation("US", "CA", verified=True)
    assert p.parent_guardian_account
    assert p.payment_handles == (PaymentHandle("ExamplePay", "$placeholder"),)
    assert p.wallet_addresses == ("bc1qplaceholder",)
    assert got.victims == (Victim(), Victim(7, EstimatedLocation("GB")))
    (f,) = got.files
    assert f == ReportedFile(
        "abc",
        md5=md5.decode().lower(),
        pdq="f" * 64,
        pdq_quality=88,
        annotations=frozenset({FileAnnotation.POTENTIAL_MEME}),
    )


def test_namespaced_documents_are_read_by_local_name() -> None:
    document = HAND_WRITTEN.replace(b"<report>", b'<report xmlns="urn:example:cybertip">')
    assert parse(document).batched


XML_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE report [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<report><incidentSummary><incidentType>&c;</incidentType></incidentSummary></report>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE report [<!ENTITY x SYSTEM "file:///etc/hostname">]>
<report><incidentSummary><incidentType>&x;</incidentType></incidentSummary></report>"""


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (XML_BOMB, "DTDs and entity declarations are not allowed"),
        (EXTERNAL_ENTITY, "DTDs and entity declarations are not allowed"),
        (b"<report><incidentSummary>", "not well-formed XML"),
        (b"<fileDetails/>", "expected a <report> document"),
        (b"<report/>", "report/incidentSummary: required"),
        (
            HAND_WRITTEN.replace(b"2026-11-28T10:00:00<", b"Tuesday<"),
            "incidentDateTime: not an xs:dateTime",
        ),
        (HAND_WRITTEN.replace(b"<spam>true", b"<spam>yes"), "spam: not an xs:boolean"),
        (HAND_WRITTEN.replace(b"<spam>true</spam>", b"<cute/>"), "cute: not one of the schema"),
        (HAND_WRITTEN.replace(b"VIRAL_POTENTIAL_MEME", b"OTHER"), "batchedReport/@reason"),
        (HAND_WRITTEN.replace(b"198.51.100.7", b"198.51.100.700"), "ip is not an IPv4"),
        (HAND_WRITTEN.replace(b"<age>7", b"<age>seven"), "age: not an xs:int"),
        (
            HAND_WRITTEN.replace(b"</platform>", b"</platform><platform>x</platform>"),
            "platform: appears more than once",
        ),
        (b"x" * 5000, "larger than 4096 bytes"),
    ],
)
def test_bad_and_hostile_documents_are_refused(document: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_report_xml(document, report_id="1", provider="p", received_at=NOW, max_bytes=4096)


def test_file_details_must_belong_to_the_report_and_carry_valid_hashes() -> None:
    good = HAND_WRITTEN_FILE % (digests(1)["md5"].encode(), b"f" * 64)
    with pytest.raises(InvalidInput, match=r"fileDetails\[1\]/reportId: not this report's id"):
        parse(HAND_WRITTEN, good, report_id="556")
    with pytest.raises(InvalidInput, match=r"fileDetails\[1\]: md5 is not a valid hex digest"):
        parse(HAND_WRITTEN, HAND_WRITTEN_FILE % (b"nothex", b"f" * 64), report_id="555")
    with pytest.raises(InvalidInput, match=r"fileDetails\[2\]: expected a <fileDetails>"):
        parse(HAND_WRITTEN, good, b"<report/>", report_id="555")
    with pytest.raises(InvalidInput, match="file ids must be unique"):
        parse(HAND_WRITTEN, good, good, report_id="555")


def rich_report() -> IncomingReport:
    return report(
        100000002,
        incident_type=IncidentType.CHILD_SEX_TRAFFICKING,
        escalation="Placeholder escalation reason.",
        report_annotations=frozenset({ReportAnnotation.CSAM_SOLICITATION}),
        batched=True,
        persons=(
            person(
                esp_identifier="user-0002",
                esp_service="example-service",
                screen_names=(
                    ScreenName("example-service", "placeholder2"),
                    ScreenName("example-chat", "placeholder-chat"),
                ),
                emails=("user-0002@example.org",),
                phones=("+1 202 555 0144",),
                ip_events=(IpEvent("203.0.113.5", at=NOW, event=CaptureEvent.LOGIN),),
                device_ids=(DeviceId("IMEI", "490154203237518"),),
                payment_handles=(PaymentHandle("examplepay", "placeholder"),),
                wallet_addresses=("0x" + "cd" * 20,),
                prior_report_ids=("100000001",),
                estimated_location=EstimatedLocation("DE", city="Placeholder City"),
                parent_guardian_account=True,
            ),
            person(screen_names=(ScreenName("provider-01", "no-service"),)),
        ),
        victims=(Victim(age=4, estimated_location=EstimatedLocation("US", "NY")),),
        files=(
            file(
                "f1",
                pdq="1" * 64,
                pdq_quality=77,
                annotations=frozenset(FileAnnotation),
                classification=Classification.A2,
                uploaded_at=NOW,
            ),
            ReportedFile("f2"),
        ),
    )


def validate(report_: IncomingReport) -> None:
    schema = schema_path()
    builder.validate_report_xml(report_xml(report_), schema)
    for f in report_.files:
        builder.validate_file_details_xml(file_details_xml(report_, f), schema)


def test_written_documents_are_schema_valid_and_read_back_unchanged() -> None:
    original = rich_report()
    validate(original)
    details = [file_details_xml(original, f) for f in original.files]
    assert parse(report_xml(original), *details, report_id=original.report_id) == replace(
        original, received_at=NOW
    )


def test_what_the_schema_cannot_carry_is_refused_when_writing() -> None:
    with pytest.raises(InvalidInput, match="xs:long"):
        report_xml(report(1, persons=(person(prior_report_ids=("R-1",)),)))
    with pytest.raises(InvalidInput, match="xs:long"):
        file_details_xml(report("R1"), file())
    with pytest.raises(InvalidInput, match="XML cannot carry"):
        report_xml(report(1, escalation="bad \x01 text"))
    with pytest.raises(InvalidInput, match="cannot be named"):
        report_xml(
            report(1, persons=(person(payment_handles=(PaymentHandle("Cryptocurrency", "x"),)),))
        )


xml_text = st.text(
    st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff"),
    min_size=1,
    max_size=8,
).filter(lambda s: s.strip() == s and " ".join(s.split()) == s)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@st.composite
def writable_reports(draw: st.DrawFn) -> IncomingReport:
    service = draw(st.none() | xml_text)
    own = service or "provider-01"
    names = draw(st.lists(st.builds(ScreenName, xml_text, xml_text), max_size=2))
    if draw(st.booleans()):
        names.insert(0, ScreenName(own, draw(xml_text)))
    else:
        names = [n for n in names if n.service != own]
    p = ReportedPerson(
        esp_identifier=draw(st.none() | xml_text),
        esp_service=service,
        screen_names=tuple(names),
        emails=tuple(draw(st.lists(xml_text, max_size=2))),
        phones=tuple(draw(st.lists(xml_text, max_size=2))),
        ip_events=tuple(
            draw(
                st.lists(
                    st.builds(
                        IpEvent,
                        st.ip_addresses().map(str),
                        at=st.none() | times,
                        event=st.none() | st.sampled_from(CaptureEvent),
                        possible_proxy=st.none() | st.booleans(),
                    ),
                    max_size=2,
                )
            )
        ),
        device_ids=tuple(draw(st.lists(st.builds(DeviceId, xml_text, xml_text), max_size=2))),
        payment_handles=tuple(
            draw(
                st.lists(
                    st.builds(
                        PaymentHandle,
                        xml_text.filter(lambda s: s.casefold() != "cryptocurrency"),
                        xml_text,
                    ),
                    max_size=1,
                )
            )
        ),
        wallet_addresses=tuple(draw(st.lists(xml_text, max_size=1))),
        prior_report_ids=tuple(draw(st.lists(st.integers(1, 2**62).map(str), max_size=2))),
        estimated_location=draw(
            st.none()
            | st.builds(
                EstimatedLocation,
                st.none() | st.sampled_from(["US", "GB", "DE"]),
                st.none() | xml_text,
                st.none() | xml_text,
                st.none() | st.booleans(),
            )
        ),
        parent_guardian_account=draw(st.booleans()),
    )
    files = draw(
        st.lists(
            st.builds(
                ReportedFile,
                file_id=xml_text,
                md5=st.none() | st.binary(min_size=16, max_size=16).map(bytes.hex),
                sha1=st.none() | st.binary(min_size=20, max_size=20).map(bytes.hex),
                pdq=st.none() | st.binary(min_size=32, max_size=32).map(bytes.hex),
                annotations=st.frozensets(st.sampled_from(FileAnnotation)),
                classification=st.none() | st.sampled_from(Classification),
                uploaded_at=st.none() | times,
            ),
            max_size=2,
            unique_by=lambda f: f.file_id,
        )
    )
    return IncomingReport(
        report_id=str(draw(st.integers(1, 2**62))),
        provider="provider-01",
        incident_type=draw(st.sampled_from(IncidentType)),
        incident_at=draw(times),
        received_at=NOW,
        escalation=draw(st.none() | xml_text),
        report_annotations=draw(st.frozensets(st.sampled_from(ReportAnnotation))),
        batched=draw(st.booleans()),
        persons=(p,),
        victims=tuple(
            draw(st.lists(st.builds(Victim, st.none() | st.integers(0, 150)), max_size=2))
        ),
        files=tuple(files),
    )


def test_any_writable_report_is_schema_valid_and_round_trips() -> None:
    schema = schema_path()

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(writable_reports())
    def check(original: IncomingReport) -> None:
        document = report_xml(original)
        details = [file_details_xml(original, f) for f in original.files]
        builder.validate_report_xml(document, schema)
        for d in details:
            builder.validate_file_details_xml(d, schema)
        assert parse(document, *details, report_id=original.report_id) == original

    check()
