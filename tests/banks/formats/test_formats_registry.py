"""The registry: names, options, and guessing a file's format."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brightline.banks.formats import (
    FORMATS,
    PlainFormat,
    RecordStream,
    VicsFormat,
    format_options,
    get_format,
    guess_format,
)
from brightline.banks.records import EntryRecord, InvalidRecord
from brightline.errors import InvalidInput


def test_every_format_is_registered_under_its_own_name() -> None:
    assert sorted(FORMATS) == ["csv", "hma", "ncmec", "plain", "vics"]
    for name, fmt in FORMATS.items():
        assert fmt.name == name
        assert get_format(name) is fmt


def test_an_unknown_format_names_the_known_ones() -> None:
    with pytest.raises(
        InvalidInput, match=r"unknown list format 'xml'.*csv, hma, ncmec, plain, vics"
    ):
        get_format("xml")


def test_options_configure_a_new_instance() -> None:
    fmt = get_format("plain", signal_type="md5")
    assert isinstance(fmt, PlainFormat)
    assert fmt.signal_type == "md5"
    assert fmt is not FORMATS["plain"]
    vics = get_format("vics", scheme="legacy", skip="non_pertinent")
    assert isinstance(vics, VicsFormat)
    assert (vics.scheme, vics.skip) == ("legacy", frozenset({"non_pertinent"}))
    assert get_format("vics", skip="none").skip == frozenset()  # type: ignore[attr-defined]


def test_unknown_options_are_refused_naming_the_accepted_ones() -> None:
    with pytest.raises(InvalidInput, match=r"no option scheme \(accepted: signal_type\)"):
        get_format("plain", scheme="us")
    with pytest.raises(InvalidInput, match=r"no option signal_type \(accepted: none\)"):
        get_format("csv", signal_type="pdq")
    assert format_options("vics") == {"scheme", "skip"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"scheme": "uk"}, "unknown VICS scheme 'uk'"),
        ({"skip": "csam,whatever"}, "unknown VICS category whatever"),
    ],
)
def test_bad_option_values_are_refused(options: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        get_format("vics", **options)


def test_plain_reads_only_with_a_signal_type_and_says_so_at_once() -> None:
    with pytest.raises(InvalidInput, match="signal type"):
        FORMATS["plain"].read(io.BytesIO(b"00ff\n"))
    with pytest.raises(InvalidInput, match="invalid signal type"):
        get_format("plain", signal_type="")


def test_every_reader_returns_a_record_stream() -> None:
    samples = {
        "plain": b"",
        "csv": b"",
        "hma": b"",
        "ncmec": b"<queryResult/>",
        "vics": b'{"value": []}',
    }
    for name, data in samples.items():
        fmt = get_format(name, signal_type="pdq") if name == "plain" else get_format(name)
        stream = fmt.read(io.BytesIO(data))
        assert isinstance(stream, RecordStream)
        assert list(stream) == []
        assert not stream.skipped


@pytest.mark.parametrize(
    ("filename", "head", "expected"),
    [
        ("list.txt", b"<?xml version='1.0'?><queryResult/>", "ncmec"),
        ("download", b"\xef\xbb\xbf  <queryResult>", "ncmec"),
        ("export.dat", b'\n{"@odata.context": "x", "value": []}', "vics"),
        ("export", "\ufeff{}".encode("utf-16-le"), "vics"),
        ("bank.txt", b"signal_type,signal,classification,external_id,note\n", "csv"),
        ("bank", b"\xef\xbb\xbfSignal_Type,Signal,Note,Classification,External_ID\r\n", "csv"),
        (
            "out.csv",
            b"signal_type,signal_str,collab,category,tags\npdq,00,c,POSITIVE_CLASS,\n",
            "hma",
        ),
        ("hashes.txt", b"# synthetic list\n\n0f0f0f0f\n", "plain"),
        ("hashes", b"pdq 0f0f0f0f\nvideo_md5 00ff\n", "hma"),
        ("empty.xml", b"", "ncmec"),
        ("empty.json", b"", "vics"),
        ("sheet.csv", b"", "csv"),
        ("sheet.csv", b"a,b,c\n", "csv"),
    ],
)
def test_guess_format(filename: str, head: bytes, expected: str) -> None:
    assert guess_format(filename, head) == expected


@pytest.mark.parametrize(
    ("filename", "head"),
    [("list", b""), ("list.txt", b"Some Header With Spaces\n"), ("list", b"a,b\n")],
)
def test_guess_format_refuses_to_guess_wildly(filename: str, head: bytes) -> None:
    with pytest.raises(InvalidInput, match="cannot tell the list format"):
        guess_format(filename, head)


_SEEDS = [
    b"signal_type,signal,classification,external_id,note\r\npdq,00,A1,x,n\r\n",
    b"signal_type,signal_str,collab,category,tags\npdq,00,c,POSITIVE_CLASS,\n",
    b"<queryResult><images><image><id>e</id><fingerprints><md5>00</md5></fingerprints>"
    b"</image><deletedImage><id>d</id></deletedImage></images></queryResult>",
    b'{"value": [{"MediaID": 1, "Category": 1, "MD5": "00"}, {"Media": [{"SHA1": "aa"}]}]}',
    "\ufeffpdq 00\n00\n".encode("utf-16-le"),
]


@st.composite
def _damaged(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(_SEEDS)))
    for _ in range(draw(st.integers(0, 6))):
        position = draw(st.integers(0, len(data)))
        if draw(st.booleans()) and data:
            del data[min(position, len(data) - 1)]
        else:
            data[position:position] = draw(
                st.sampled_from([b"<", b">", b"{", b"}", b'"', b",", b"\n", b"\xff", b"&", b"\x00"])
            )
    return bytes(data)


@settings(max_examples=150, deadline=None)
@given(data=_damaged() | st.binary(max_size=100), name=st.sampled_from(sorted(FORMATS)))
def test_readers_report_damage_instead_of_raising(data: bytes, name: str) -> None:
    fmt = get_format(name, signal_type="pdq") if name == "plain" else get_format(name)
    for record in fmt.read(io.BytesIO(data)):
        assert isinstance(record, EntryRecord | InvalidRecord)


def test_every_format_and_option_is_documented() -> None:
    docs = (Path(__file__).parents[3] / "docs" / "formats.md").read_text(encoding="utf-8")
    for name in FORMATS:
        assert f"## `{name}`" in docs, name
        for option in format_options(name):
            assert f"`{option}`" in docs, (name, option)
