"""``hma``: the hash files Meta's HMA and python-threatexchange read and write.

HMA 2.0 has no bulk export or import endpoint: hashes enter a bank one content item at a time
(``POST /c/bank/<name>/signal``) or through an *exchange*. Its ``local_file`` exchange (the
``LocalFileSignalExchangeAPI`` of python-threatexchange) reads a text file with one
``<signal type> <value>`` pair per line -- the same lines ``threatexchange dataset -P -S`` prints
and the exchange itself appends when it records a positive opinion. That line format is the one
way to move a list into HMA, so it is what this module writes.

Reading also accepts the CSV that ``threatexchange dataset -P --csv`` prints
(``signal_type,signal_str,collab,category,tags``), the only export that carries labels.

Signal type names differ in one place: python-threatexchange calls file MD5 and SHA-256
``video_md5`` and ``video_sha256`` (HMA computes them only for videos, but the values are plain
digests of the file bytes), Brightline calls them ``md5`` and ``sha256``. Both directions
translate; every other name (``pdq``, ``vpdq``, ...) is kept as is.

``vpdq`` values are written in python-threatexchange's form (a JSON list of
``"<pdq hex>,<quality>,<seconds>"`` frame strings) and read in either that form or Brightline's
own base64, so video hashes move between HMA and Brightline both ways.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import BinaryIO, ClassVar

from brightline.banks.formats._common import (
    NOT_UTF8,
    TOO_LONG,
    RecordStream,
    Result,
    TextSink,
    bad_text,
    iter_lines,
    refuse_delete,
    single_line,
    utf8_source,
)
from brightline.banks.records import EntryRecord, InvalidRecord
from brightline.errors import InvalidInput
from brightline.signals.video import decode_video_hash, video_hash_to_threatexchange

FROM_THREATEXCHANGE = {"video_md5": "md5", "video_sha256": "sha256"}
"""python-threatexchange signal type name -> Brightline name, where they differ."""
TO_THREATEXCHANGE = {ours: theirs for theirs, ours in FROM_THREATEXCHANGE.items()}

DATASET_CSV_HEADER = ("signal_type", "signal_str", "collab", "category", "tags")
"""Header of ``threatexchange dataset -P --csv``."""

SEED_CATEGORY = "investigation_seed"
"""``EntryRecord.category`` for signals python-threatexchange labels INVESTIGATION_SEED."""


class HmaFormat:
    """``<signal type> <value>`` lines (HMA's local-file exchange), or threatexchange's CSV.

    Tolerates what python-threatexchange tolerates: surrounding whitespace, CRLF, blank lines,
    several spaces or tabs between type and value; the value is the rest of the line, so a
    ``raw_text`` value keeps its inner spaces. Stricter in one place: a line with a type and no
    value is reported (python-threatexchange drops it silently), since it usually means a
    truncated file or a plain list given the wrong format. ``#`` lines are comments here;
    python-threatexchange would read them as an unknown signal type and ignore them, so files
    stay compatible both ways.
    """

    OPTIONS: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> HmaFormat:  # noqa: ARG003
        return cls()

    @property
    def name(self) -> str:
        return "hma"

    def read(self, stream: BinaryIO) -> RecordStream:
        skipped: Counter[str] = Counter()
        return RecordStream(_records(stream, skipped), skipped)

    def write(self, records: Iterable[EntryRecord], stream: BinaryIO) -> None:
        """Write ``<signal type> <value>`` lines; labels are dropped (the format has none)."""
        sink = TextSink(stream)
        for record in records:
            refuse_delete(record, self.name)
            signal_type = TO_THREATEXCHANGE.get(record.signal_type, record.signal_type)
            if (
                not signal_type
                or any(char.isspace() for char in signal_type)
                or signal_type.startswith("#")
            ):
                raise InvalidInput(f"signal type {record.signal_type!r} cannot be written as hma")
            value = record.value
            if record.signal_type == "vpdq":
                value = _threatexchange_vpdq(value)
            sink.write(f"{signal_type} {single_line(value, 'value', self.name)}\n")


def _threatexchange_vpdq(value: str) -> str:
    """A stored vPDQ value in python-threatexchange's form. Formats write values as given
    (banks validated them on the way in), so a value that is not a video hash is left as is."""
    try:
        return video_hash_to_threatexchange(decode_video_hash(value))
    except InvalidInput:
        return value


def _records(stream: BinaryIO, skipped: Counter[str]) -> Iterator[Result]:
    lines = iter_lines(utf8_source(stream))
    for number, text in lines:
        if text is None:
            yield InvalidRecord(number, TOO_LONG)
            continue
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if tuple(cell.strip().lower() for cell in stripped.split(",")) == DATASET_CSV_HEADER:
            yield from _dataset_csv(lines, number, skipped)
            return
        yield _line(number, stripped)
        break
    for number, text in lines:
        if text is None:
            yield InvalidRecord(number, TOO_LONG)
            continue
        stripped = text.strip()
        if stripped and not stripped.startswith("#"):
            yield _line(number, stripped)


def _line(number: int, text: str) -> Result:
    if bad_text(text):
        return InvalidRecord(number, NOT_UTF8)
    parts = text.split(None, 1)
    if len(parts) != 2:
        return InvalidRecord(number, "expected '<signal type> <value>' (is this a plain list?)")
    signal_type, value = parts
    return EntryRecord(
        signal_type=FROM_THREATEXCHANGE.get(signal_type, signal_type), value=value, line=number
    )


def _dataset_csv(
    lines: Iterator[tuple[int, str | None]], header_line: int, skipped: Counter[str]
) -> Iterator[Result]:
    too_long: set[int] = set()

    def texts() -> Iterator[str]:
        for number, text in lines:
            if text is None:
                too_long.add(number)
                yield "\n"
            else:
                yield text

    reader = csv.reader(texts(), strict=True)
    while True:
        start = header_line + reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield InvalidRecord(start, f"malformed CSV: {exc}")
            continue
        if start in too_long:
            yield InvalidRecord(start, TOO_LONG)
            continue
        if not row:
            continue
        cells = [cell.strip() for cell in row]
        if any(bad_text(cell) for cell in cells):
            yield InvalidRecord(start, NOT_UTF8)
            continue
        if len(cells) != len(DATASET_CSV_HEADER):
            yield InvalidRecord(
                start, f"expected {len(DATASET_CSV_HEADER)} fields, found {len(cells)}"
            )
            continue
        signal_type, value, collab, opinion, tags = cells
        if not signal_type or not value:
            yield InvalidRecord(start, "empty signal_type or signal_str")
            continue
        if opinion == "NEGATIVE_CLASS":
            # threatexchange: "signal generates false positives, or is test/example data".
            skipped["hma NEGATIVE_CLASS opinion (false positive or test data)"] += 1
            continue
        if opinion not in ("", "POSITIVE_CLASS", "INVESTIGATION_SEED"):
            yield InvalidRecord(start, f"unknown threatexchange category {opinion!r}")
            continue
        yield EntryRecord(
            signal_type=FROM_THREATEXCHANGE.get(signal_type, signal_type),
            value=value,
            list_name=collab or None,
            category=SEED_CATEGORY if opinion == "INVESTIGATION_SEED" else None,
            note=tags or None,
            line=start,
        )
