"""The typed model checks itself; JSON lines round-trip it exactly and refuse anything else."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brightline.clearinghouse import (
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
    iter_jsonl,
    read_jsonl,
    report_from_json,
    report_to_json,
    write_jsonl,
)
from brightline.errors import InvalidInput
from tests.clearinghouse.helpers import NOW, file, person, report


def test_values_are_normalised_once_when_made() -> None:
    f = ReportedFile("f1", md5="D41D8CD98F00B204E9800998ECF8427E", pdq=" " + "A" * 64)
    assert f.md5 == "d41d8cd98f00b204e9800998ecf8427e"
    assert f.pdq == "a" * 64
    assert IpEvent("2001:DB8:0:0::1").ip == "2001:db8::1"
    assert EstimatedLocation(country_code="us", region=" CA ").country_code == "US"
    assert ReportedPerson(esp_identifier="  user-1 ").esp_identifier == "user-1"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ReportedFile("f1", md5="xyz"), "md5 is not a valid hex digest"),
        (lambda: ReportedFile("f1", sha1="ab" * 21), "sha1 is not a valid hex digest"),
        (lambda: ReportedFile("f1", pdq_quality=101), "pdq_quality must be 0 to 100"),
        (lambda: ReportedFile(" "), "file_id is blank"),
        (lambda: IpEvent("192.0.2.300"), "ip is not an IPv4 or IPv6 address"),
        (lambda: IpEvent("192.0.2.1", at=datetime(2026, 1, 1)), "must be timezone-aware"),
        (lambda: Victim(age=151), "victim age must be 0 to 150"),
        (lambda: Victim(age=True), "victim age must be 0 to 150"),  # type: ignore[arg-type]
        (lambda: EstimatedLocation(country_code="USA"), "country_code must be two letters"),
        (lambda: ReportedPerson(emails=("",)), "emails[0] is blank"),
        (lambda: ReportedPerson(emails=["x"]), "emails must be a tuple"),  # type: ignore[arg-type]
        (
            lambda: report(1, files=(file("f1"), file("f1", seed=2))),
            "file ids must be unique within a report",
        ),
        (
            lambda: report(1, report_annotations=frozenset({"spam"})),
            "report annotations must be a frozenset of ReportAnnotation",
        ),
    ],
)
def test_bad_values_are_refused_naming_the_field_not_the_value(make, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput, match=message.replace("[", r"\[").replace("]", r"\]")):
        make()


def full_report() -> IncomingReport:
    return report(
        100000001,
        provider="provider-02",
        incident_type=IncidentType.ONLINE_ENTICEMENT,
        escalation="Placeholder escalation reason.",
        report_annotations=frozenset({ReportAnnotation.SEXTORTION, ReportAnnotation.SPAM}),
        batched=True,
        persons=(
            person(
                esp_identifier="user-0001",
                esp_service="example-service",
                screen_names=(ScreenName("example-service", "placeholder1"),),
                emails=("user-0001@example.org",),
                phones=("+1 202 555 0143",),
                ip_events=(
                    IpEvent("192.0.2.10", at=NOW, possible_proxy=False),
                    IpEvent("2001:db8::1"),
                ),
                device_ids=(DeviceId("IDFA", "00000000-0000-0000-0000-000000000001"),),
                payment_handles=(PaymentHandle("examplepay", "$placeholder"),),
                wallet_addresses=("0x" + "ab" * 20,),
                prior_report_ids=("100000000",),
                estimated_location=EstimatedLocation("US", "CA", "Placeholder City", False),
                parent_guardian_account=True,
            ),
            person(),
        ),
        victims=(Victim(age=12, estimated_location=EstimatedLocation("GB")), Victim()),
        files=(
            file(
                "f1",
                pdq="0" * 63 + "1",
                pdq_quality=90,
                annotations=frozenset({FileAnnotation.INFANT, FileAnnotation.VIRAL}),
                classification=Classification.A1,
                uploaded_at=NOW - timedelta(hours=2),
            ),
            ReportedFile("f2"),
        ),
    )


def test_a_full_report_round_trips_through_json() -> None:
    original = full_report()
    line = report_to_json(original)
    assert "\n" not in line
    assert report_from_json(line) == original
    data = json.loads(line)
    assert data["persons"][1] == {}  # nothing known, nothing written
    assert data["persons"][0]["estimated_location"]["verified"] is False
    assert "batched" in data
    assert "batched" not in json.loads(report_to_json(report(2)))


def test_jsonl_files_round_trip_and_refuse_duplicate_ids(tmp_path) -> None:  # type: ignore[no-untyped-def]
    buffer = io.StringIO()
    assert write_jsonl([full_report(), report(2)], buffer) == 2
    path = tmp_path / "reports.jsonl"
    path.write_text(buffer.getvalue() + "\n", encoding="utf-8")
    assert read_jsonl(path) == [full_report(), report(2)]
    path.write_text(buffer.getvalue() + report_to_json(report(2)) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="unique"):
        read_jsonl(path)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(extra=1), r"\$: unknown field 'extra'"),
        (lambda d: d.update(incident_at="2026-11-28T10:00:00"), "needs an offset"),
        (lambda d: d.update(incident_at="yesterday"), "not an RFC 3339 timestamp"),
        (lambda d: d.update(incident_type="Other"), "not one of the schema's IncidentType"),
        (lambda d: d.update(batched="true"), "expected true or false"),
        (lambda d: d["persons"][0].update(emails="x@example.org"), "expected an array"),
        (lambda d: d["persons"][0]["ip_events"][0].update(ip="nope"), r"ip_events\[0\]: ip is not"),
        (lambda d: d["files"][0].update(pdq_quality=1.5), "expected an integer"),
        (lambda d: d["files"][0].update(annotations=["cute"]), "FileAnnotation"),
        (lambda d: d["victims"][0].update(age=200), r"victims\[0\]: victim age"),
        (lambda d: d.pop("provider"), "provider: required"),
    ],
)
def test_reading_is_strict_and_names_the_path(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(report_to_json(full_report()))
    mutate(data)
    with pytest.raises(InvalidInput, match=message):
        report_from_json(json.dumps(data))


def test_duplicate_keys_nan_and_broken_lines_are_refused() -> None:
    line = report_to_json(report(1))
    with pytest.raises(InvalidInput, match="duplicated key"):
        report_from_json(line[:-1] + ',"provider":"provider-02"}')
    with pytest.raises(InvalidInput, match="NaN is not allowed"):
        report_from_json(line[:-1] + ',"victims":[{"age":NaN}]}')
    with pytest.raises(InvalidInput, match=r"reports\.jsonl:2: not valid JSON"):
        list(iter_jsonl([line, "{", ""], "reports.jsonl"))


text = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=8).filter(
    lambda s: s.strip() == s and s
)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
persons = st.builds(
    ReportedPerson,
    esp_identifier=st.none() | text,
    screen_names=st.lists(st.builds(ScreenName, text, text), max_size=2).map(tuple),
    emails=st.lists(text, max_size=2).map(tuple),
    ip_events=st.lists(
        st.builds(IpEvent, st.ip_addresses().map(str), at=st.none() | times), max_size=2
    ).map(tuple),
    device_ids=st.lists(st.builds(DeviceId, text, text), max_size=2).map(tuple),
    parent_guardian_account=st.booleans(),
)
files = st.builds(
    ReportedFile,
    file_id=text,
    md5=st.none() | st.binary(min_size=16, max_size=16).map(bytes.hex),
    pdq=st.none() | st.binary(min_size=32, max_size=32).map(bytes.hex),
    annotations=st.frozensets(st.sampled_from(FileAnnotation)),
    classification=st.none() | st.sampled_from(Classification),
)
reports = st.builds(
    IncomingReport,
    report_id=text,
    provider=text,
    incident_type=st.sampled_from(IncidentType),
    incident_at=times,
    received_at=times,
    escalation=st.none() | text,
    report_annotations=st.frozensets(st.sampled_from(ReportAnnotation)),
    batched=st.booleans(),
    persons=st.lists(persons, max_size=2).map(tuple),
    victims=st.lists(st.builds(Victim, age=st.none() | st.integers(0, 150)), max_size=2).map(tuple),
    files=st.lists(files, max_size=3, unique_by=lambda f: f.file_id).map(tuple),
)


@settings(max_examples=150, deadline=None)
@given(reports)
def test_any_report_round_trips_through_json(original: IncomingReport) -> None:
    assert report_from_json(report_to_json(original)) == original
