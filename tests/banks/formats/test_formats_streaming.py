"""Readers stream: memory stays flat however long the list is.

Each test reads a generated input (never materialised) and measures the peak of traced Python
allocations. The bound is far below the size of the input, and a tenfold longer input must not
need more memory than a short one (beyond noise).
"""

from __future__ import annotations

import io
import itertools
import json
import random
import tracemalloc
from collections.abc import Callable, Iterator

import pytest

from brightline.banks.formats import get_format
from brightline.banks.records import BankFormat, EntryRecord
from tests.banks.formats.formats_support import generated, peak_while_reading

MIB = 1 << 20
PEAK_BOUND = 512 * 1024
"""Far below any input here: a reader keeping lines or records would exceed it."""


def _hex_lines(count: int, seed: int, template: str) -> Iterator[bytes]:
    """``count`` lines from ``template`` with random 256-bit hex values, in 1,000-line chunks.

    Sixteen distinct chunks are made now and then repeated, so producing the stream allocates
    nothing while memory is being traced: the peak measured is the reader's own.
    """
    rng = random.Random(seed)
    batch = 1_000
    pool = [
        "".join(
            template.format(value=f"{rng.getrandbits(256):064x}", n=k * batch + n)
            for n in range(batch)
        ).encode()
        for k in range(16)
    ]
    full, rest = divmod(count, batch)
    tail = b"".join(pool[0].splitlines(keepends=True)[:rest])
    return itertools.chain((pool[k % len(pool)] for k in range(full)), [tail] if rest else [])


def test_a_million_line_plain_list_reads_in_bounded_memory() -> None:
    lines = 1_000_000
    count, peak = peak_while_reading(
        get_format("plain", signal_type="pdq"),
        lambda: generated(_hex_lines(lines, 1, "{value}\n")),
    )
    assert count == lines
    # The input is ~65 MB; a reader that kept records or lines would trace hundreds of MB.
    assert peak < PEAK_BOUND


def _repeated(
    head: bytes, pool: list[bytes], count: int, tail: bytes, sep: bytes = b""
) -> Iterator[bytes]:
    """``head``, ``count`` chunks cycling through ``pool`` (joined by ``sep``), ``tail``."""
    chunks = (pool[k % len(pool)] for k in range(count))
    return itertools.chain([head], _joined(chunks, sep), [tail])


def _joined(chunks: Iterator[bytes], sep: bytes) -> Iterator[bytes]:
    for index, chunk in enumerate(chunks):
        yield sep + chunk if index and sep else chunk


def _flat(fmt: BankFormat, make: Callable[[int], io.BufferedReader], small: int) -> None:
    """Reading ``10 * small`` units must not need more memory than reading ``small``."""
    small_count, small_peak = peak_while_reading(fmt, lambda: make(small))
    large_count, large_peak = peak_while_reading(fmt, lambda: make(10 * small))
    assert large_count == 10 * small_count > 0
    assert large_peak < PEAK_BOUND
    assert large_peak < small_peak + 64 * 1024


def test_csv_memory_does_not_grow_with_the_file() -> None:
    header = b"signal_type,signal,classification,external_id,note\r\n"
    pool = list(_hex_lines(16_000, 2, "pdq,{value},A1,placeholder-{n},synthetic row\r\n"))
    _flat(
        get_format("csv"),
        lambda thousands: generated(_repeated(header, pool, thousands, b"")),
        small=5,
    )


def test_ncmec_memory_does_not_grow_with_the_file() -> None:
    rng = random.Random(3)
    pool = [
        b"".join(
            (
                f'<image><member id="1">Placeholder member</member><id>entry-{k}-{n}</id>'
                "<classification>B2</classification><fingerprints>"
                f"<md5>{rng.getrandbits(128):032x}</md5><sha1>{rng.getrandbits(160):040x}</sha1>"
                "</fingerprints></image>\n"
            ).encode()
            for n in range(100)
        )
        for k in range(16)
    ]
    head = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">\n<images>\n'
    )
    tail = b"</images>\n</queryResult>\n"
    _flat(
        get_format("ncmec"),
        lambda hundreds: generated(_repeated(head, pool, hundreds, tail)),
        small=10,
    )


@pytest.mark.parametrize("case", [False, True], ids=["hash-set", "case"])
def test_vics_memory_does_not_grow_with_the_file(case: bool) -> None:
    rng = random.Random(4)
    pool = [
        b",".join(
            json.dumps(
                {"MediaID": k * 100 + n, "Category": 1, "MD5": f"{rng.getrandbits(128):032X}"}
            ).encode()
            for n in range(100)
        )
        for k in range(16)
    ]
    head = b'{"@odata.context": "placeholder", "value": ['
    if case:
        head += b'{"CaseID": "placeholder-case", "Media": ['
    tail = b"]}]}" if case else b"]}"
    _flat(
        get_format("vics"),
        lambda hundreds: generated(_repeated(head, pool, hundreds, tail, sep=b",")),
        small=10,
    )


def test_a_file_without_newlines_is_not_read_whole() -> None:
    """One 64 MiB "line": reported as too long, in bounded memory."""

    def chunks() -> Iterator[bytes]:
        for _ in range(64):
            yield b"a" * MIB

    stream = generated(chunks())
    tracemalloc.start()
    try:
        records = list(get_format("plain", signal_type="md5").read(stream))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(records) == 1
    assert records[0].line == 1
    assert peak < 8 * MIB


class _Discard(io.RawIOBase):
    """A writable sink that keeps nothing."""

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        return len(memoryview(data))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["plain", "csv", "hma", "ncmec", "vics"])
def test_writers_stream(name: str) -> None:
    """Writers consume records as they come: 20,000 cost no more memory than a handful."""
    rng = random.Random(5)
    values = [f"{rng.getrandbits(128):032x}" for _ in range(64)]

    def records(count: int) -> Iterator[EntryRecord]:
        for n in range(count):
            yield EntryRecord(
                "md5", values[n % 64], external_id=f"placeholder-{n % 97}", category="csam"
            )

    fmt = get_format(name)
    peaks = []
    for count in (200, 20_000):
        tracemalloc.start()
        try:
            fmt.write(records(count), _Discard())  # type: ignore[arg-type]
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert peaks[1] < PEAK_BOUND
    assert peaks[1] < peaks[0] + 64 * 1024
