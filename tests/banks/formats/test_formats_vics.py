"""The vics format: Project VIC JSON, both category schemes, and what is left out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brightline.banks.formats import get_format
from brightline.banks.formats.vics import CATEGORIES, MAX_EVENTS_PER_MEDIA, SCHEMES
from brightline.banks.records import EntryRecord, InvalidRecord
from brightline.errors import InvalidInput
from tests.banks.formats.formats_support import (
    hex_value,
    invalid,
    label_text,
    read_all,
    read_stream,
    without_lines,
    write_bytes,
)

VICS = get_format("vics")
LEGACY = get_format("vics", scheme="legacy")
KEEP_ALL = get_format("vics", skip="none")
MD5, SHA1, PDNA = "A" * 32, "B" * 40, "0C" * 72


def hash_set(*media: dict[str, Any]) -> bytes:
    context = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"
    return json.dumps({"@odata.context": context, "value": list(media)}).encode()


def case(*media: dict[str, Any]) -> bytes:
    context = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases"
    document = {
        "@odata.context": context,
        "value": [
            {
                "CaseID": "placeholder-case",
                "CaseNumber": "placeholder",
                "Media": list(media),
                "After": [1],
            }
        ],
    }
    return json.dumps(document).encode()


FULL_MEDIA = {
    "MediaID": 17,
    "Category": 1,
    "MD5": MD5,
    "SHA1": SHA1,
    "PhotoDNA": PDNA,
    "MediaSize": 1234,
    "MimeType": "image/jpeg",
    "VictimIdentified": False,
    "OffenderIdentified": False,
    "IsDistributed": True,
    "SelfGenerated": False,
    "Series": "placeholder-series",
    "Tags": "placeholder-tag",
    "Comments": "synthetic note",
}


@pytest.mark.parametrize("shape", [hash_set, case], ids=["hash-set", "case"])
def test_one_record_per_hash_sharing_the_media_id(shape: Any) -> None:
    expected = [
        EntryRecord(
            signal_type,
            value,
            external_id="17",
            series="placeholder-series",
            note="synthetic note",
            category="csam",
            line=1,
        )
        for signal_type, value in (("md5", MD5), ("sha1", SHA1), ("photodna", PDNA))
    ]
    assert read_all(VICS, shape(FULL_MEDIA)) == expected


def test_vics_1x_case_shape_and_alternative_hashes() -> None:
    document = {
        "odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Cases",
        "value": [
            {"Media": [{"MediaID": "m-1", "Category": "2", "md5": MD5}]},
            {
                "Media": [
                    {
                        "MediaID": 2,
                        "Category": 3,
                        "AlternativeHashes": [
                            {"HashName": "PhotoDNA", "HashValue": PDNA},
                            {"HashName": "PDQ", "HashValue": "f" * 64},
                            {"HashName": "SomeVendorHash", "HashValue": "00"},
                        ],
                    }
                ]
            },
        ],
    }
    records, skipped = read_stream(VICS, json.dumps(document).encode())
    assert records == [
        EntryRecord("md5", MD5, external_id="m-1", category="exploitive", line=1),
        EntryRecord("photodna", PDNA, external_id="2", category="cgi_animation", line=2),
        EntryRecord("pdq", "f" * 64, external_id="2", category="cgi_animation", line=2),
    ]
    assert skipped == {"vics alternative hash SomeVendorHash (no Brightline signal type)": 1}


@pytest.mark.parametrize(
    ("scheme", "number", "expected"),
    [(name, number, label) for name, table in SCHEMES.items() for number, label in table.items()],
)
def test_both_schemes(scheme: str, number: int | None, expected: str) -> None:
    fmt = get_format("vics", scheme=scheme, skip="none")
    records = read_all(fmt, hash_set({"MediaID": 1, "Category": number, "MD5": MD5}))
    assert records == [EntryRecord("md5", MD5, external_id="1", category=expected, line=1)]


def test_non_pertinent_comparison_and_uncategorised_are_skipped_and_counted() -> None:
    data = hash_set(
        {"MediaID": 1, "Category": 0, "MD5": MD5},  # us: non-pertinent
        {"MediaID": 2, "Category": 4, "MD5": MD5},  # comparison
        {"MediaID": 3, "Category": None, "MD5": MD5},  # uncategorised
        {"MediaID": 4, "MD5": MD5},  # uncategorised
        {"MediaID": 5, "Category": 1, "MD5": MD5, "SHA1": SHA1},
    )
    records, skipped = read_stream(VICS, data)
    assert [(r.external_id, r.signal_type) for r in records if isinstance(r, EntryRecord)] == [
        ("5", "md5"),
        ("5", "sha1"),
    ]
    assert records[0].line == 5
    assert skipped == {
        "vics category non_pertinent": 1,
        "vics category comparison": 1,
        "vics category uncategorised": 2,
    }
    kept, nothing = read_stream(get_format("vics", skip="non_pertinent"), data)
    assert [r.category for r in kept if isinstance(r, EntryRecord)] == [
        "comparison",
        "uncategorised",
        "uncategorised",
        "csam",
        "csam",
    ]
    assert nothing == {"vics category non_pertinent": 1}


def test_legacy_scheme_reads_0_as_uncategorised_and_5_as_non_pertinent() -> None:
    data = hash_set(
        {"MediaID": 1, "Category": 5, "MD5": MD5}, {"MediaID": 2, "Category": 0, "MD5": MD5}
    )
    records, skipped = read_stream(LEGACY, data)
    assert records == []
    assert skipped == {"vics category non_pertinent": 1, "vics category uncategorised": 1}
    (wrong,) = read_all(VICS, data[: data.index(b"}") + 1] + b"]}")
    assert isinstance(wrong, InvalidRecord)
    assert "use scheme=legacy" in wrong.reason


@pytest.mark.parametrize(
    ("media", "reason"),
    [
        ({"MediaID": 1, "Category": 9, "MD5": MD5}, "unknown Category 9 in the us scheme"),
        ({"MediaID": 1, "Category": "one", "MD5": MD5}, "is not a number"),
        ({"MediaID": 1, "Category": True, "MD5": MD5}, "is not a number"),
        ({"MediaID": 1, "Category": 1}, "carries no MD5, SHA1 or PhotoDNA"),
        ({"MediaID": 1, "Category": 1, "MD5": ["x"]}, "MD5 is not text or a number"),
        ({"MediaID": {"x": 1}, "Category": 1, "MD5": MD5}, "MediaID is not text or a number"),
        ({"MediaID": 1, "Category": 1, "AlternativeHashes": {}}, "AlternativeHashes is not a list"),
        (
            {"MediaID": 1, "Category": 1, "AlternativeHashes": [{"HashName": "PDQ"}]},
            "without HashName or",
        ),
    ],
)
def test_malformed_media_are_reported_by_number_and_reading_goes_on(
    media: dict[str, Any], reason: str
) -> None:
    good = {"MediaID": 2, "Category": 1, "MD5": MD5}
    records = read_all(VICS, hash_set(good, media, good))
    assert records[0] == EntryRecord("md5", MD5, external_id="2", category="csam", line=1)
    assert records[2] == EntryRecord("md5", MD5, external_id="2", category="csam", line=3)
    assert isinstance(records[1], InvalidRecord)
    assert records[1].line == 2
    assert reason in records[1].reason


def test_a_media_entry_that_is_not_an_object() -> None:
    assert read_all(VICS, b'{"value": ["x", {"Category": 1, "MD5": "00"}]}') == [
        InvalidRecord(1, "media entry is not a JSON object"),
        EntryRecord("md5", "00", category="csam", line=2),
    ]


@pytest.mark.parametrize(
    ("data", "line", "reason"),
    [
        (
            b'{"value": [{"Category": 1, "MD5": "00"}, {"Category": ',
            2,
            "malformed JSON after media object 1",
        ),
        (b'{"value": [{"Category": 1, "MD5": "00"}, \xff]}', 2, "malformed JSON"),
        (b'{"value": [{"Category": 1, "MD5": "00"}, {"\xe0\x80": 1}]}', 2, "malformed JSON"),
        (b"", 1, "malformed JSON"),
        (b'{"Media": []}', 0, 'no top-level "value" array'),
        (b"[1, 2]", 0, 'no top-level "value" array'),
    ],
)
def test_broken_documents(data: bytes, line: int, reason: str) -> None:
    records = read_all(VICS, data)
    assert isinstance(records[-1], InvalidRecord)
    assert records[-1].line == line
    assert reason in records[-1].reason


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_byte_order_marks(encoding: str) -> None:
    text = hash_set({"MediaID": 1, "Category": 1, "MD5": MD5, "Comments": "Ünïcödé"}).decode()
    records = read_all(VICS, text.encode(encoding))
    assert records == [
        EntryRecord("md5", MD5, external_id="1", note="Ünïcödé", category="csam", line=1)
    ]


def test_writer_writes_a_hash_set_in_the_chosen_scheme() -> None:
    records = [
        EntryRecord(
            "md5",
            MD5,
            external_id="17",
            category="non_pertinent",
            series="s",
            note="n",
            list_name="dropped",
        ),
        EntryRecord(
            "photodna", PDNA, external_id="17", category="non_pertinent", series="s", note="n"
        ),
        EntryRecord(
            "pdq", "f" * 64, external_id="17", category="non_pertinent", series="s", note="n"
        ),
        EntryRecord("sha1", SHA1, external_id="x-1"),
    ]
    for fmt, number, uncategorised in ((VICS, 0, None), (LEGACY, 5, 0)):
        document = json.loads(write_bytes(fmt, records))
        assert document["@odata.context"].startswith("http://github.com/VICSDATAMODEL/")
        assert document["value"] == [
            {
                "MediaID": 17,
                "Category": number,
                "MD5": MD5,
                "PhotoDNA": PDNA,
                "AlternativeHashes": [{"HashName": "PDQ", "HashValue": "f" * 64}],
                "Series": "s",
                "Comments": "n",
            },
            {"MediaID": "x-1", "Category": uncategorised, "SHA1": SHA1},
        ]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (EntryRecord("md5", MD5, delete=True), "withdrawn"),
        (EntryRecord("vpdq", MD5), "cannot carry signal type 'vpdq'"),
        (EntryRecord("md5", MD5, category="other"), "category 'other' has no number"),
    ],
)
def test_writer_refuses_what_vics_cannot_carry(record: EntryRecord, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        write_bytes(VICS, [record])


media_id = st.integers(min_value=0, max_value=10**12).map(str) | label_text


@settings(max_examples=60, deadline=None)
@given(
    records=st.lists(
        st.builds(
            EntryRecord,
            signal_type=st.sampled_from(["md5", "sha1", "photodna", "pdq", "sha256"]),
            value=hex_value,
            external_id=st.none() | media_id,
            series=st.none() | label_text,
            note=st.none() | label_text,
            category=st.sampled_from(sorted(CATEGORIES)),
        ),
        max_size=12,
    ),
    scheme=st.sampled_from(sorted(SCHEMES)),
)
def test_round_trip(records: list[EntryRecord], scheme: str) -> None:
    fmt = get_format("vics", scheme=scheme, skip="none")
    read_back = read_all(fmt, write_bytes(fmt, records))
    assert not invalid(read_back)
    assert without_lines(read_back) == records


def test_an_absurdly_large_media_object_is_reported_and_reading_goes_on() -> None:
    huge = {"MediaID": 1, "Category": 1, "MD5": MD5, "Exifs": list(range(MAX_EVENTS_PER_MEDIA))}
    records = read_all(VICS, hash_set(huge, {"MediaID": 2, "Category": 1, "MD5": MD5}))
    assert records == [
        InvalidRecord(1, f"media object has more than {MAX_EVENTS_PER_MEDIA} values"),
        EntryRecord("md5", MD5, external_id="2", category="csam", line=2),
    ]
