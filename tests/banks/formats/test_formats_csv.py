"""The csv format: Brightline's lossless list."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brightline.banks.formats import get_format
from brightline.banks.formats.csv_format import COLUMNS
from brightline.banks.records import EntryRecord, InvalidRecord
from brightline.errors import InvalidInput
from tests.banks.formats.formats_support import (
    classification,
    csv_text,
    hex_value,
    invalid,
    maybe,
    read_all,
    without_lines,
    write_bytes,
)

CSV = get_format("csv")
HEADER = b"signal_type,signal,classification,external_id,note\n"


def test_rows_become_records() -> None:
    data = HEADER + b'pdq,0a0a,a2,placeholder-1,"synthetic, quoted"\nmd5, 0b0b ,,,\n'
    assert read_all(CSV, data) == [
        EntryRecord(
            "pdq",
            "0a0a",
            classification="A2",
            external_id="placeholder-1",
            note="synthetic, quoted",
            line=2,
        ),
        EntryRecord("md5", "0b0b", line=3),
    ]


def test_columns_in_any_order_with_optional_ones() -> None:
    data = b"Note,LIST_NAME,signal,series,signal_type,category,external_id,classification\r\n" + (
        b"n,list-a,0a0a,series-1,pdq,csam,id-1,B1\r\n"
    )
    assert read_all(CSV, data) == [
        EntryRecord(
            "pdq",
            "0a0a",
            classification="B1",
            external_id="id-1",
            note="n",
            series="series-1",
            category="csam",
            list_name="list-a",
            line=2,
        )
    ]


@pytest.mark.parametrize("prefix", [b"", codecs.BOM_UTF8], ids=["no-bom", "bom"])
@pytest.mark.parametrize("newline", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_bom_and_crlf(prefix: bytes, newline: bytes) -> None:
    data = prefix + newline.join(
        [
            b"signal_type,signal,classification,external_id,note",
            b'pdq,0a0a,,,"two' + newline + b'lines"',
            b"",
        ]
    )
    text = "two" + newline.decode() + "lines"
    assert read_all(CSV, data) == [EntryRecord("pdq", "0a0a", note=text, line=2)]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            b"signal_type,signal,classification,external_id,note,colour,size",
            "unknown column(s) colour, size",
        ),
        (b"signal_type,signal,note", "missing required column(s) classification, external_id"),
        (b"signal_type,signal,classification,external_id,note,note", "duplicated column(s) note"),
    ],
)
def test_a_bad_header_is_one_invalid_record_on_line_1(header: bytes, message: str) -> None:
    records = read_all(CSV, header + b"\npdq,0a0a,,,\n")
    assert len(records) == 1
    assert isinstance(records[0], InvalidRecord)
    assert records[0].line == 1
    assert message in records[0].reason


def test_malformed_rows_are_reported_with_their_line_and_reading_goes_on() -> None:
    data = HEADER + (
        b"pdq,0a0a,,,\n"  # 2 fine
        b"\n"  # 3 blank: ignored
        b"pdq,0b0b\n"  # 4 too few fields
        b"pdq,0c0c,C3,,\n"  # 5 unknown classification
        b",0d0d,,,\n"  # 6 no signal type
        b"pdq,,,,\n"  # 7 no signal
        b'pdq,0e0e,,"multi\nline note",\n'  # 8-9 fine
        b'pdq,"0f"0f,,,\n'  # 10 bad quoting
        b"pdq,\xff,,,\n"  # 11 not UTF-8
        b"pdq,1010,,,\n"  # 12 fine
    )
    records = read_all(CSV, data)
    assert [(r.line, r.value) for r in records if isinstance(r, EntryRecord)] == [
        (2, "0a0a"),
        (8, "0e0e"),
        (12, "1010"),
    ]
    assert [(r.line, r.reason.split(" ")[0]) for r in invalid(records)] == [
        (4, "expected"),
        (5, "unknown"),
        (6, "empty"),
        (7, "empty"),
        (10, "malformed"),
        (11, "not"),
    ]


def test_writer_emits_every_column_and_refuses_deletions() -> None:
    out = write_bytes(CSV, [EntryRecord("pdq", "0a0a", series="s")])
    assert out == (",".join(COLUMNS) + "\r\npdq,0a0a,,,,s,,\r\n").encode()
    with pytest.raises(InvalidInput, match="withdrawn"):
        write_bytes(CSV, [EntryRecord("pdq", "0a0a", delete=True)])


records_strategy = st.lists(
    st.builds(
        EntryRecord,
        signal_type=st.sampled_from(["pdq", "md5", "sha1", "photodna"]),
        value=hex_value | csv_text,
        classification=st.none() | classification,
        external_id=maybe(csv_text),
        series=maybe(csv_text),
        note=maybe(csv_text),
        category=maybe(csv_text),
        list_name=maybe(csv_text),
    ),
    max_size=12,
)


@settings(max_examples=80, deadline=None)
@given(records=records_strategy)
def test_round_trip_is_lossless(records: list[EntryRecord]) -> None:
    assert without_lines(read_all(CSV, write_bytes(CSV, records))) == records
