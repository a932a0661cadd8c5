"""The plain format: one value per line."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brightline.banks.formats import get_format
from brightline.banks.records import EntryRecord, InvalidRecord
from brightline.errors import InvalidInput
from tests.banks.formats.formats_support import (
    hex_value,
    read_all,
    token,
    without_lines,
    write_bytes,
)

PDQ = get_format("plain", signal_type="pdq")


def test_values_comments_blank_lines_and_line_numbers() -> None:
    data = b"# synthetic test list\n\n0a0a\n   0b0b  \n#0c0c\n0d0d"
    assert read_all(PDQ, data) == [
        EntryRecord("pdq", "0a0a", line=3),
        EntryRecord("pdq", "0b0b", line=4),
        EntryRecord("pdq", "0d0d", line=6),
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"0a0a\r\n0b0b\r\n",
        codecs.BOM_UTF8 + b"0a0a\r\n0b0b\r\n",
        codecs.BOM_UTF8 + b"0a0a\n0b0b",
        "\ufeff0a0a\r\n0b0b\r\n".encode("utf-16-le"),
        "\ufeff0a0a\n0b0b\n".encode("utf-16-be"),
    ],
    ids=["crlf", "utf8-bom-crlf", "utf8-bom-lf", "utf16le", "utf16be"],
)
def test_bom_and_line_endings_do_not_matter(data: bytes) -> None:
    assert read_all(PDQ, data) == [
        EntryRecord("pdq", "0a0a", line=1),
        EntryRecord("pdq", "0b0b", line=2),
    ]


def test_values_are_not_validated_here() -> None:
    """Whether ``zz`` is a PDQ hash is the bank service's call, made once for all formats."""
    assert read_all(PDQ, b"zz\n") == [EntryRecord("pdq", "zz", line=1)]


def test_a_line_that_is_not_utf8_is_reported_and_reading_goes_on() -> None:
    assert read_all(PDQ, b"0a0a\n\xff\xfe\x00\n0b0b\n") == [
        EntryRecord("pdq", "0a0a", line=1),
        InvalidRecord(2, "not valid UTF-8"),
        EntryRecord("pdq", "0b0b", line=3),
    ]


def test_an_overlong_line_is_reported_and_reading_goes_on() -> None:
    data = b"0a0a\n" + b"f" * (2 << 20) + b"\n0b0b\n"
    records = read_all(PDQ, data)
    assert records[0] == EntryRecord("pdq", "0a0a", line=1)
    assert isinstance(records[1], InvalidRecord)
    assert records[1].line == 2
    assert "longer than" in records[1].reason
    assert records[2] == EntryRecord("pdq", "0b0b", line=3)


def test_writer_writes_values_only() -> None:
    records = [
        EntryRecord("md5", "00ff", note="dropped", external_id="x"),
        EntryRecord("md5", "ff00"),
    ]
    assert write_bytes(get_format("plain"), records) == b"00ff\nff00\n"


def test_writer_refuses_mixed_types_deletions_and_unreadable_values() -> None:
    with pytest.raises(InvalidInput, match="one signal type"):
        write_bytes(get_format("plain"), [EntryRecord("md5", "00"), EntryRecord("pdq", "11")])
    with pytest.raises(InvalidInput, match="one signal type"):
        write_bytes(PDQ, [EntryRecord("md5", "00")])
    with pytest.raises(InvalidInput, match="withdrawn"):
        write_bytes(PDQ, [EntryRecord("pdq", "00", delete=True)])
    for value in ("", " 00", "0\n0", "#00"):
        with pytest.raises(InvalidInput):
            write_bytes(PDQ, [EntryRecord("pdq", value)])


@settings(max_examples=60, deadline=None)
@given(values=st.lists(hex_value | token, max_size=30))
def test_round_trip(values: list[str]) -> None:
    records = [EntryRecord("pdq", value) for value in values]
    assert without_lines(read_all(PDQ, write_bytes(PDQ, records))) == records


def test_broken_utf16_is_reported_by_line() -> None:
    data = (
        "\ufeff0a0a\n".encode("utf-16-le")
        + b"\x00\xd8\n\x00"
        + "0b0b\n".encode("utf-16-le")
        + b"\x00"
    )
    assert read_all(PDQ, data) == [
        EntryRecord("pdq", "0a0a", line=1),
        InvalidRecord(2, "not valid UTF-8"),
        EntryRecord("pdq", "0b0b", line=3),
        InvalidRecord(4, "not valid UTF-8"),
    ]
