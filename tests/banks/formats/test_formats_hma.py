"""The hma format: python-threatexchange / HMA signal files."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brightline.banks.formats import get_format
from brightline.banks.records import EntryRecord, InvalidRecord
from brightline.errors import InvalidInput
from tests.banks.formats.formats_support import (
    hex_value,
    random_hex,
    read_all,
    read_stream,
    token,
    without_lines,
    write_bytes,
)

HMA = get_format("hma")


def test_type_value_lines_with_threatexchange_names_translated() -> None:
    data = (
        b"pdq 0a0a\r\n\n  video_md5\t 0b0b  \nvideo_sha256 0c0c\nvpdq 0d0d\nraw_text two  words\n"
    )
    assert read_all(HMA, data) == [
        EntryRecord("pdq", "0a0a", line=1),
        EntryRecord("md5", "0b0b", line=3),
        EntryRecord("sha256", "0c0c", line=4),
        EntryRecord("vpdq", "0d0d", line=5),
        EntryRecord("raw_text", "two  words", line=6),
    ]


def test_a_line_without_a_value_is_reported() -> None:
    assert read_all(HMA, b"pdq 0a0a\n0b0b\n# comment\npdq 0c0c\n") == [
        EntryRecord("pdq", "0a0a", line=1),
        InvalidRecord(2, "expected '<signal type> <value>' (is this a plain list?)"),
        EntryRecord("pdq", "0c0c", line=4),
    ]


def test_threatexchange_dataset_csv() -> None:
    data = (
        b"\xef\xbb\xbfsignal_type,signal_str,collab,category,tags\r\n"
        b"pdq,0a0a,Placeholder Collab,POSITIVE_CLASS,tag-a tag-b\r\n"
        b"pdq,0b0b,Placeholder Collab,NEGATIVE_CLASS,\r\n"
        b"video_md5,0c0c,Other,INVESTIGATION_SEED,\r\n"
        b"pdq,0d0d,Other,MAYBE,\r\n"
        b"pdq,0e0e\r\n"
    )
    records, skipped = read_stream(HMA, data)
    assert records == [
        EntryRecord("pdq", "0a0a", list_name="Placeholder Collab", note="tag-a tag-b", line=2),
        EntryRecord("md5", "0c0c", list_name="Other", category="investigation_seed", line=4),
        InvalidRecord(5, "unknown threatexchange category 'MAYBE'"),
        InvalidRecord(6, "expected 5 fields, found 2"),
    ]
    assert skipped == {"hma NEGATIVE_CLASS opinion (false positive or test data)": 1}


def test_writer_uses_threatexchange_names_and_drops_labels() -> None:
    records = [
        EntryRecord("pdq", "0a0a", classification="A1", note="dropped"),
        EntryRecord("md5", "0b0b"),
        EntryRecord("sha256", "0c0c"),
    ]
    assert write_bytes(HMA, records) == b"pdq 0a0a\nvideo_md5 0b0b\nvideo_sha256 0c0c\n"
    with pytest.raises(InvalidInput, match="withdrawn"):
        write_bytes(HMA, [EntryRecord("pdq", "0a0a", delete=True)])
    with pytest.raises(InvalidInput):
        write_bytes(HMA, [EntryRecord("two words", "0a0a")])


@settings(max_examples=60, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(st.sampled_from(["pdq", "md5", "sha256", "vpdq", "photodna"]), hex_value | token),
        max_size=20,
    )
)
def test_round_trip(pairs: list[tuple[str, str]]) -> None:
    records = [EntryRecord(signal_type, value) for signal_type, value in pairs]
    assert without_lines(read_all(HMA, write_bytes(HMA, records))) == records


class TestCompatibilityWithThreatExchange:
    """Checked against the real python-threatexchange when it is installed (the bench extra)."""

    @pytest.fixture
    def file_api(self) -> type:
        file_api = pytest.importorskip("threatexchange.exchanges.impl.file_api")
        return file_api.LocalFileSignalExchangeAPI  # type: ignore[no-any-return]

    def _fetch(self, api_cls: type, path: Path) -> set[tuple[str, str]]:
        from threatexchange.exchanges.impl.file_api import FileCollaborationConfig

        api = api_cls(FileCollaborationConfig(filename=str(path), name="placeholder"))
        signals: set[tuple[str, str]] = set()
        for delta in api.fetch_iter([], None):
            signals.update(delta.updates)
        return signals

    def test_hma_local_file_exchange_reads_what_we_write(
        self, file_api: type, tmp_path: Path
    ) -> None:
        rng = random.Random(7)
        records = [EntryRecord("pdq", random_hex(rng, 64)) for _ in range(5)]
        records += [EntryRecord("md5", random_hex(rng, 32)) for _ in range(3)]
        path = tmp_path / "signals.txt"
        path.write_bytes(write_bytes(HMA, records))
        expected = {("pdq" if r.signal_type == "pdq" else "video_md5", r.value) for r in records}
        assert self._fetch(file_api, path) == expected
