"""The context wire format: strict reading with paths, writing, patches, and its documentation.

Every value is synthetic: documentation IP ranges, ``example.org``, placeholder ids.
"""

from __future__ import annotations

import dataclasses
import json
import re
import typing
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from brightline.errors import InvalidInput
from brightline.reports import (
    AccountDisabled,
    CaptureEvent,
    CellPhoneIncident,
    DeviceId,
    EmailIncident,
    FileContext,
    IpCaptureEvent,
    Party,
    PeerToPeerIncident,
    PersonDetails,
    ReportAnnotation,
    ReportContext,
    WebPageIncident,
)
from brightline.reports.wire import (
    INTERNET_DETAILS_TYPES,
    MAX_DOCUMENT_BYTES,
    InvalidContext,
    context_to_json,
    load_json,
    parse_context_patch,
    read_context,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "reports.md"
T = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)

FULL = ReportContext(
    internet_details=(
        WebPageIncident(urls=("https://example.org/p/1",), third_party_hosted=False),
        EmailIncident(email_addresses=("a@example.org",), content="placeholder"),
        CellPhoneIncident(phone_number="+1 555 0100", latitude=1.5, longitude=-2),
        PeerToPeerIncident(client="Example P2P", ip_capture_events=(IpCaptureEvent("192.0.2.1"),)),
    ),
    esp_identifier="user-0001",
    reported_person=PersonDetails(
        first_name="Placeholder", emails=("u@example.org",), date_of_birth=date(2000, 1, 1)
    ),
    ip_capture_events=(
        IpCaptureEvent("192.0.2.10", CaptureEvent.LOGIN, T, possible_proxy=False, port=443),
    ),
    device_ids=(DeviceId("IDFA", "00000000-0000-0000-0000-000000000001", CaptureEvent.UPLOAD, T),),
    account_temporarily_disabled=AccountDisabled(
        disabled_at=T, user_notified=True, user_notified_at=T, reenabled_at=T + timedelta(days=1)
    ),
    victims=(Party(esp_identifier="user-0002"),),
    intended_recipients=(Party(person=PersonDetails(age=30), screen_name="placeholder2"),),
    files={
        7: FileContext(
            original_file_name="placeholder.jpg",
            location_url="https://example.org/f/7",
            publicly_available=False,
            exif_viewed=True,
            upload_ip=IpCaptureEvent("2001:db8::1", CaptureEvent.UPLOAD),
            upload_device_ids=(DeviceId("IMEI", "000000000000001"),),
        )
    },
    report_annotations=frozenset({ReportAnnotation.SPAM, ReportAnnotation.SEXTORTION}),
    incident_at=T,
)


def refused(document: object) -> InvalidContext:
    with pytest.raises(InvalidContext) as caught:
        read_context(document, source="test answer")
    return caught.value


def test_a_full_context_round_trips_through_json() -> None:
    written = context_to_json(FULL)
    text = json.dumps(written)
    assert read_context(json.loads(text), source="t") == FULL
    assert written["incident_at"] == "2026-11-28T10:00:00Z"
    assert written["report_annotations"] == ["sextortion", "spam"]
    assert written["internet_details"][0] == {  # type: ignore[index]
        "type": "web_page",
        "urls": ["https://example.org/p/1"],
        "third_party_hosted": False,
    }
    assert set(written["files"]) == {"7"}  # type: ignore[arg-type]
    assert context_to_json(ReportContext()) == {}
    assert read_context({}, source="t") == ReportContext()


def test_offsets_are_kept_as_instants() -> None:
    context = read_context({"incident_at": "2026-11-28T11:00:00+01:00"}, source="t")
    assert context.incident_at == T
    assert context.incident_at.utcoffset() == timedelta(hours=1)  # type: ignore[union-attr]
    assert context_to_json(context)["incident_at"] == "2026-11-28T10:00:00Z"
    assert context.incident_at.tzinfo == timezone(timedelta(hours=1))  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("document", "path", "problem"),
    [
        ({"x": 1}, "$", 'unknown field "x"'),
        ({"files": {"7": {"publically_available": False}}}, "$.files.7", "unknown field"),
        ({"esp_identifier": 5}, "$.esp_identifier", "expected a string, got a number"),
        ({"files": {"7": {"exif_viewed": "true"}}}, "$.files.7.exif_viewed", "true or false"),
        ({"files": {"7": {"exif_viewed": 1}}}, "$.files.7.exif_viewed", "got a number"),
        ({"ip_capture_events": [{"ip_address": "192.0.2.1", "port": True}]}, "[0].port", "integer"),
        ({"ip_capture_events": [{"ip_address": "192.0.2.1", "port": 1.5}]}, "[0].port", "integer"),
        ({"ip_capture_events": [{"event": "Login"}]}, "[0].ip_address", "is required"),
        ({"ip_capture_events": [{"ip_address": None}]}, "[0].ip_address", "must not be null"),
        ({"ip_capture_events": [{"ip_address": "999.1.1.1"}]}, "$.ip_capture_events[0]", "IPv4"),
        ({"ip_capture_events": [{"ip_address": "192.0.2.1", "event": "login"}]}, ".event", "Login"),
        ({"ip_capture_events": {}}, "$.ip_capture_events", "expected an array, got an object"),
        ({"incident_at": "2026-11-28T10:00:00"}, "$.incident_at", "UTC offset"),
        ({"incident_at": "2026-11-28"}, "$.incident_at", "UTC offset"),
        ({"incident_at": "yesterday"}, "$.incident_at", "RFC 3339"),
        ({"incident_at": 1764324000}, "$.incident_at", "timestamp string"),
        ({"reported_person": {"date_of_birth": "2000-1-1"}}, "date_of_birth", "YYYY-MM-DD"),
        ({"reported_person": {"date_of_birth": "2000-02-30"}}, "date_of_birth", "is not a date"),
        ({"reported_person": {"age": 200}}, "$.reported_person", "age must be 0 to 150"),
        ({"reported_person": {"first_name": " "}}, "$.reported_person", "is blank"),
        ({"victims": [{}]}, "$.victims[0]", "at least one known detail"),
        ({"internet_details": [{"urls": []}]}, "$.internet_details[0].type", "web_page"),
        ({"internet_details": [{"type": "web"}]}, "$.internet_details[0].type", "expected one of"),
        ({"internet_details": [{"type": "email", "urls": []}]}, "[0]", 'unknown field "urls"'),
        ({"internet_details": [{"type": "cell_phone", "latitude": 91}]}, "[0]", "latitude"),
        ({"internet_details": [{"type": "cell_phone", "latitude": "1"}]}, "latitude", "number"),
        ({"report_annotations": ["Spam"]}, "$.report_annotations[0]", "sextortion"),
        ({"files": {"07": {}}}, "$.files", "item ids"),
        ({"files": {"-1": {}}}, "$.files", "item ids"),
        ({"files": {"9" * 30: {}}}, "$.files", "item ids"),
        ({"files": []}, "$.files", "keyed by item id"),
        ({"files": {"7": {"upload_ip": {"ip_address": "x"}}}}, "$.files.7.upload_ip", "IPv4"),
        ({"device_ids": [{"id_type": "IDFA"}]}, "$.device_ids[0].id_value", "required"),
        (
            {"account_permanently_disabled": {"reenabled_at": "2026-11-28T10:00:00Z"}},
            "$",
            "permanently disabled",
        ),
        ([], "$", "expected an object, got an array"),
        ("text", "$", "expected an object, got a string"),
        (None, "$", "expected an object, got null"),
    ],
)
def test_refusals_name_the_path_and_the_problem(document: object, path: str, problem: str) -> None:
    error = refused(document)
    assert isinstance(error, InvalidInput)
    assert path in error.path
    assert problem in error.problem
    assert str(error).startswith("test answer: $")


def test_messages_never_carry_the_values() -> None:
    personal = "user-placeholder-value"
    for document in (
        {"esp_identifier": [personal]},
        {"ip_capture_events": [{"ip_address": personal}]},
        {"reported_person": {"date_of_birth": personal}},
        {"incident_at": personal},
        {"report_annotations": [personal]},
    ):
        assert personal not in str(refused(document))
    long_key = "k" * 500
    assert len(str(refused({long_key: 1}))) < 200


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"a": 1, "a": 2}', "duplicate key"),
        ('{"incident_at": NaN}', "NaN"),
        ('{"incident_at": Infinity}', "Infinity"),
        ('{"x": 1', "at line 1"),
        ("[" * 200_000, "nested too deeply"),
        ('{"n": ' + "9" * 5000 + "}", "not valid JSON"),
    ],
)
def test_load_json_is_strict(text: str, problem: str) -> None:
    with pytest.raises(InvalidContext) as caught:
        load_json(text, source="file")
    assert problem in str(caught.value)


def test_oversized_documents_are_refused_before_parsing() -> None:
    with pytest.raises(InvalidContext, match="larger than"):
        load_json(b" " * (MAX_DOCUMENT_BYTES + 1), source="file")


def test_a_patch_replaces_what_it_sets_and_merges_files_per_field() -> None:
    base = dataclasses.replace(
        FULL, files={**FULL.files, 8: FileContext(original_file_name="other.png")}
    )
    patch = parse_context_patch(
        json.dumps(
            {
                "esp_identifier": "user-0009",
                "victims": [],
                "files": {
                    "7": {"publicly_available": True, "location_url": None},
                    "9": {"exif_viewed": False},
                },
            }
        ),
        source="context file",
    )
    assert patch.fields == {"esp_identifier", "victims", "files"}
    merged = patch.apply(base)
    assert merged.esp_identifier == "user-0009"
    assert merged.victims == ()
    assert merged.ip_capture_events == FULL.ip_capture_events  # not set: kept
    assert merged.files[7].publicly_available is True
    assert merged.files[7].location_url is None
    assert merged.files[7].original_file_name == "placeholder.jpg"  # kept, field by field
    assert merged.files[8] == base.files[8]
    assert merged.files[9] == FileContext(exif_viewed=False)
    assert parse_context_patch("{}", source="f").apply(base) == base


def _docs_block(name: str) -> object:
    text = DOCS.read_text(encoding="utf-8")
    match = re.search(rf"<!-- wire: {name} -->\n```json\n(.*?)\n```", text, re.DOTALL)
    assert match is not None, f"docs/reports.md has no '{name}' example"
    return json.loads(match.group(1))


def test_the_documented_answer_is_valid() -> None:
    context = read_context(_docs_block("response"), source="docs")
    assert context.internet_details
    assert 7 in context.files


def _field_names(kind: type, seen: set[type]) -> set[str]:
    """Every field name of ``kind`` and of the dataclasses it contains."""
    if kind in seen:
        return set()
    seen.add(kind)
    names: set[str] = set()
    for spec in dataclasses.fields(kind):
        names.add(spec.name)
        for hint in [typing.get_type_hints(kind)[spec.name]]:
            stack = [hint]
            while stack:
                one = stack.pop()
                stack.extend(typing.get_args(one))
                if dataclasses.is_dataclass(one) and isinstance(one, type):
                    names |= _field_names(one, seen)
    return names


def test_every_field_and_type_of_the_wire_format_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("### The wire format") : text.index("## What a report covers")]
    for name in sorted(_field_names(ReportContext, set())):
        assert f"`{name}`" in section, f"wire field {name} is not documented"
    for kind in INTERNET_DETAILS_TYPES:
        assert f"`{kind}`" in section, f"internet_details type {kind} is not documented"


def test_the_documented_request_matches_what_is_sent() -> None:
    from brightline.reports import EnrichmentItem, EnrichmentRequest, EnrichmentSubject

    documented = _docs_block("request")
    assert isinstance(documented, dict)
    request = EnrichmentRequest(
        case_id=3,
        subject=EnrichmentSubject(subject_id=1, service="example-service", platform_user_id="u"),
        items=(
            EnrichmentItem(item_id=7, sha256="0" * 64, media_type="image/jpeg", decision="confirm"),
        ),
    )
    sent = request.to_json()
    assert set(documented) == {"type", "request_id", "created_at", "data"}
    assert set(documented["data"]) == set(sent)
    assert set(documented["data"]["subject"]) == set(sent["subject"])  # type: ignore[arg-type]
    assert set(documented["data"]["items"][0]) == set(sent["items"][0])  # type: ignore[index]
