"""The ncmec format: NCMEC hash-sharing XML, including deletions and hostile input."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brightline.banks.formats import get_format
from brightline.banks.formats.ncmec import MAX_ELEMENTS_PER_ENTRY, NcmecFormat
from brightline.banks.records import EntryRecord, InvalidRecord
from brightline.errors import InvalidInput
from tests.banks.formats.formats_support import (
    classification,
    hex_value,
    invalid,
    label_text,
    read_all,
    read_stream,
    without_lines,
    write_bytes,
)

NCMEC = get_format("ncmec")
MD5_A, SHA1_A, PDNA_A = "a" * 32, "a" * 40, "0a" * 72
MD5_B = "b" * 32

# Synthetic, shaped like the documented API response; every value is a placeholder.
SAMPLE = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">
    <images count="2" maxTimestamp="2020-01-02T00:00:00Z">
        <image>
            <member id="42">Placeholder Member</member>
            <timestamp>2020-01-01T00:00:00Z</timestamp>
            <id>entry-1</id>
            <classification>a1</classification>
            <fingerprints>
                <md5>{MD5_A}</md5>
                <sha1>{SHA1_A}</sha1>
                <pdna>{PDNA_A}</pdna>
            </fingerprints>
            <feedback lastUpdateTimestamp="2020-01-01T00:00:00Z">
                <affirmativeFeedback type="Md5">
                    <members><member id="43">Other Member</member></members>
                </affirmativeFeedback>
            </feedback>
        </image>
        <deletedImage>
            <member id="43">Other Member</member>
            <id>entry-0</id>
            <timestamp>2020-01-02T00:00:00Z</timestamp>
        </deletedImage>
    </images>
    <videos count="2" maxTimestamp="2020-01-02T00:00:00Z">
        <video>
            <member id="42">Placeholder Member</member>
            <id>entry-2</id>
            <fingerprints>
                <md5>{MD5_B}</md5>
                <tmk-pdqf rel="self" href="/v2/entries/2/fingerprints/TMK_PDQF"/>
                <netclean>0c0c</netclean>
            </fingerprints>
        </video>
        <deletedVideo><member id="44"/><id>entry-3</id></deletedVideo>
    </videos>
    <paging><next>/v2/entries?start=2001&amp;size=1000</next></paging>
</queryResult>
""".encode()


def test_documented_shape() -> None:
    records, skipped = read_stream(NCMEC, SAMPLE)
    member = "Placeholder Member"
    assert records == [
        EntryRecord(
            "md5", MD5_A, classification="A1", external_id="entry-1", list_name=member, line=10
        ),
        EntryRecord(
            "sha1", SHA1_A, classification="A1", external_id="entry-1", list_name=member, line=11
        ),
        EntryRecord(
            "photodna",
            PDNA_A,
            classification="A1",
            external_id="entry-1",
            list_name=member,
            line=12,
        ),
        EntryRecord("", "", external_id="entry-0", list_name="Other Member", line=20, delete=True),
        EntryRecord("md5", MD5_B, external_id="entry-2", list_name=member, line=31),
        EntryRecord("", "", external_id="entry-3", list_name="44", line=36, delete=True),
    ]
    assert skipped == {
        "ncmec fingerprint given only as a link": 1,
        "ncmec netclean fingerprint (no Brightline signal type)": 1,
    }


def test_without_namespace_and_with_fingerprints_in_a_deletion() -> None:
    data = (
        b"<queryResult><images>"
        b"<image><id>e1</id><fingerprints><pdq>" + b"f" * 64 + b"</pdq></fingerprints></image>"
        b"<deletedImage><id>e2</id><classification>B2</classification>"
        b"<fingerprints><md5>" + MD5_A.encode() + b"</md5></fingerprints></deletedImage>"
        b"</images></queryResult>"
    )
    assert without_lines(read_all(NCMEC, data)) == [
        EntryRecord("pdq", "f" * 64, external_id="e1"),
        EntryRecord("md5", MD5_A, classification="B2", external_id="e2", delete=True),
    ]


def test_a_plugin_can_map_more_fingerprint_types() -> None:
    fmt = NcmecFormat({"md5": "md5", "netclean": "netclean"})
    records, skipped = read_stream(fmt, SAMPLE)
    assert ("netclean", "0c0c") in [
        (r.signal_type, r.value) for r in records if isinstance(r, EntryRecord)
    ]
    assert "ncmec sha1 fingerprint (no Brightline signal type)" in skipped


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        (b"<image><classification>A1</classification></image>", "entry without an <id>"),
        (b"<image><id>x</id><id>y</id></image>", "entry has more than one <id>"),
        (
            b"<image><id>x</id><classification>C</classification></image>",
            "unknown classification 'C'",
        ),
        (b"<image><id>x</id></image>", "entry without fingerprints"),
        (
            b"<image><id>x</id><fingerprints><md5> </md5></fingerprints></image>",
            "empty <md5> fingerprint",
        ),
    ],
)
def test_malformed_entries_are_reported_and_reading_goes_on(entry: bytes, reason: str) -> None:
    good = (
        b"<image><id>ok</id><fingerprints><md5>" + MD5_A.encode() + b"</md5></fingerprints></image>"
    )
    data = b"<queryResult>\n<images>\n" + entry + b"\n" + good + b"\n</images>\n</queryResult>"
    problem, good_record = read_all(NCMEC, data)
    assert isinstance(problem, InvalidRecord)
    assert problem.line == 3
    assert reason in problem.reason
    assert good_record == EntryRecord("md5", MD5_A, external_id="ok", line=4)


def test_broken_xml_stops_with_the_line_of_the_error() -> None:
    data = (
        b"<queryResult><images>\n"
        b"<image><id>ok</id><fingerprints><md5>"
        + MD5_A.encode()
        + b"</md5></fingerprints></image>\n"
        b"<image><id>broken</image>\n"
        b"</images></queryResult>\n"
    )
    records = read_all(NCMEC, data)
    assert records[0] == EntryRecord("md5", MD5_A, external_id="ok", line=2)
    assert len(records) == 2
    assert isinstance(records[1], InvalidRecord)
    assert records[1].line == 3
    assert records[1].reason.startswith("malformed XML")


@pytest.mark.parametrize(
    "data",
    [b"", b"not xml at all", b"<report><id>1</id></report>"],
    ids=["empty", "text", "other-document"],
)
def test_not_an_ncmec_document(data: bytes) -> None:
    records = read_all(NCMEC, data)
    assert len(records) == 1
    assert isinstance(records[0], InvalidRecord)


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE queryResult [\n <!ENTITY lol "lol">\n'
    + b"".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b"]>\n<queryResult><images><image><id>&lol9;</id><fingerprints><md5>"
    + MD5_A.encode()
    + b"</md5></fingerprints></image></images></queryResult>\n"
)


def test_entity_expansion_is_refused_without_expanding() -> None:
    tracemalloc.start()
    try:
        records = read_all(NCMEC, BILLION_LAUGHS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(records) == 1
    assert isinstance(records[0], InvalidRecord)
    assert peak < 1 << 20  # expanded, &lol9; alone is 3 GB


def test_external_entities_are_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("placeholder-secret")
    data = (
        f'<?xml version="1.0"?><!DOCTYPE queryResult [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<queryResult><images><image><id>&x;</id><fingerprints><md5>00</md5></fingerprints>"
        "</image></images></queryResult>"
    ).encode()
    records = read_all(NCMEC, data)
    assert records == [InvalidRecord(1, "DTDs and entity declarations are not allowed")]


def test_any_doctype_is_refused() -> None:
    for doctype in (
        b"<!DOCTYPE queryResult>",
        b'<!DOCTYPE queryResult SYSTEM "http://192.0.2.1/x.dtd">',
    ):
        records = read_all(NCMEC, doctype + b"\n<queryResult><images/></queryResult>")
        assert records == [InvalidRecord(2, "DTDs and entity declarations are not allowed")]


def test_an_absurdly_large_entry_stops_the_parse() -> None:
    noise = b"<feedback>" + b"<x/>" * (MAX_ELEMENTS_PER_ENTRY + 1) + b"</feedback>"
    data = b"<queryResult><images><image><id>e</id>" + noise + b"</image></images></queryResult>"
    records = read_all(NCMEC, data)
    assert len(records) == 1
    assert isinstance(records[0], InvalidRecord)
    assert "more than" in records[0].reason


def test_writer_groups_consecutive_records_into_entries() -> None:
    records = [
        EntryRecord(
            "md5", MD5_A, classification="A2", external_id="e1", list_name="Placeholder", note="x"
        ),
        EntryRecord(
            "photodna", PDNA_A, classification="A2", external_id="e1", list_name="Placeholder"
        ),
        EntryRecord("", "", external_id="e0", delete=True),
    ]
    out = write_bytes(NCMEC, records).decode()
    assert out.startswith("<?xml version='1.0' encoding='utf-8'?>\n")
    assert '<queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">' in out
    assert out.count("<image>") == 1
    assert "<deletedImage><id>e0</id></deletedImage>" in out
    assert f"<fingerprints><md5>{MD5_A}</md5><pdna>{PDNA_A}</pdna></fingerprints>" in out


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (EntryRecord("md5", MD5_A), "needs an external_id"),
        (EntryRecord("sha256", MD5_A, external_id="e"), "no fingerprint for signal type 'sha256'"),
        (EntryRecord("", "", external_id="e"), "has no signal type"),
        (EntryRecord("md5", MD5_A, external_id="bell\x07"), "cannot write ncmec XML"),
    ],
)
def test_writer_refuses_what_ncmec_cannot_carry(record: EntryRecord, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        write_bytes(NCMEC, [record])


xml_text = label_text.filter(lambda s: all(c not in s for c in "\ufffe\uffff"))
fingerprint_record = st.builds(
    EntryRecord,
    signal_type=st.sampled_from(["md5", "sha1", "photodna", "pdq"]),
    value=hex_value,
    classification=st.none() | classification,
    external_id=xml_text,
    list_name=st.none() | xml_text,
    delete=st.booleans(),
)
id_only_deletion = st.builds(
    EntryRecord,
    signal_type=st.just(""),
    value=st.just(""),
    classification=st.none() | classification,
    external_id=xml_text,
    list_name=st.none() | xml_text,
    delete=st.just(True),
)


@settings(max_examples=60, deadline=None)
@given(records=st.lists(fingerprint_record | id_only_deletion, max_size=12))
def test_round_trip(records: list[EntryRecord]) -> None:
    read_back = read_all(NCMEC, write_bytes(NCMEC, records))
    assert not invalid(read_back)
    assert without_lines(read_back) == records


def test_entries_outside_their_container_are_reported() -> None:
    data = b"<queryResult>\n<image><id>e</id></image>\n</queryResult>"
    assert read_all(NCMEC, data) == [InvalidRecord(2, "<image> outside <images>/<videos>")]
