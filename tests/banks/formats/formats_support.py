"""Helpers for the format tests: synthetic hashes, record strategies, generated streams.

Every hash here is random or a fixed placeholder pattern: none is derived from any real file.
"""

from __future__ import annotations

import dataclasses
import io
import random
import tracemalloc
from collections.abc import Callable, Iterable, Iterator

from hypothesis import strategies as st

from brightline.banks.formats import RecordStream
from brightline.banks.records import BankFormat, EntryRecord, InvalidRecord

HEX = "0123456789abcdef"


def random_hex(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(HEX) for _ in range(length))


def read_all(fmt: BankFormat, data: bytes) -> list[EntryRecord | InvalidRecord]:
    return list(fmt.read(io.BytesIO(data)))


def read_stream(
    fmt: BankFormat, data: bytes
) -> tuple[list[EntryRecord | InvalidRecord], dict[str, int]]:
    stream = fmt.read(io.BytesIO(data))
    assert isinstance(stream, RecordStream)
    records = list(stream)
    return records, dict(stream.skipped)


def write_bytes(fmt: BankFormat, records: Iterable[EntryRecord]) -> bytes:
    out = io.BytesIO()
    fmt.write(records, out)
    return out.getvalue()


def without_lines(records: Iterable[EntryRecord | InvalidRecord]) -> list[EntryRecord]:
    """Records with ``line`` zeroed, for comparing what was written with what was read."""
    result = []
    for record in records:
        assert isinstance(record, EntryRecord), record
        result.append(dataclasses.replace(record, line=0))
    return result


def invalid(records: Iterable[EntryRecord | InvalidRecord]) -> list[InvalidRecord]:
    return [record for record in records if isinstance(record, InvalidRecord)]


# Text a list can carry in a label: printable, no surrounding whitespace (readers strip it).
label_text = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
        min_size=1,
        max_size=20,
    )
    .map(str.strip)
    .filter(bool)
)
# Free text for the CSV format, which must survive commas, quotes and line breaks.
csv_text = (
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=30)
    .map(str.strip)
    .filter(bool)
)
hex_value = st.text(alphabet=HEX, min_size=32, max_size=64)
token = st.text(
    alphabet=st.characters(whitelist_categories=("L", "N", "P", "S")), min_size=1, max_size=40
).filter(lambda s: not s.startswith("#"))
classification = st.sampled_from(["A1", "A2", "B1", "B2"])


def maybe(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str | None]:
    return st.none() | strategy


class GeneratedStream(io.RawIOBase):
    """A read-only binary stream whose content is produced on demand, never held whole.

    ``chunks`` yields byte strings; reads are served from the current one, so a test can feed a
    reader millions of lines while the test itself stays in constant memory.
    """

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._current = b""
        self._offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while self._offset >= len(self._current):
            try:
                self._current = next(self._chunks)
            except StopIteration:
                return 0
            self._offset = 0
        size = min(len(buffer), len(self._current) - self._offset)
        buffer[:size] = self._current[self._offset : self._offset + size]
        self._offset += size
        return size


def generated(chunks: Iterator[bytes]) -> io.BufferedReader:
    return io.BufferedReader(GeneratedStream(chunks), buffer_size=1 << 16)


def peak_while_reading(
    fmt: BankFormat, make_stream: Callable[[], io.BufferedReader]
) -> tuple[int, int]:
    """(records read, peak traced bytes) for reading a whole generated stream."""
    stream = make_stream()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        count = 0
        for record in fmt.read(stream):
            assert isinstance(record, EntryRecord), record
            count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return count, peak
