"""``csv``: Brightline's own lossless list format, one hash per row.

Required header columns ``signal_type,signal,classification,external_id,note``; optional
``series,category,list_name``; any order. A spreadsheet is how most teams review a list before
importing it, so every field of :class:`EntryRecord` except deletions has a column.
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
    classification,
    iter_lines,
    refuse_delete,
    utf8_source,
)
from brightline.banks.records import EntryRecord, InvalidRecord
from brightline.errors import InvalidInput

REQUIRED_COLUMNS = ("signal_type", "signal", "classification", "external_id", "note")
OPTIONAL_COLUMNS = ("series", "category", "list_name")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS


class CsvFormat:
    """RFC 4180 CSV in UTF-8 (BOM and CRLF accepted), header first.

    Cells are stripped of surrounding whitespace and an empty cell means "not given", so a
    hand-edited sheet (``pdq, 0f3c...``) reads as intended. The writer always emits all eight
    columns (CRLF line endings, as RFC 4180 says): a streaming writer cannot know in advance
    whether some later record has a series, and a fixed header keeps exports diffable.
    """

    OPTIONS: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> CsvFormat:  # noqa: ARG003
        return cls()

    @property
    def name(self) -> str:
        return "csv"

    def read(self, stream: BinaryIO) -> RecordStream:
        return RecordStream(_records(stream), Counter())

    def write(self, records: Iterable[EntryRecord], stream: BinaryIO) -> None:
        # CRLF as RFC 4180 says; it also makes the csv module quote a cell holding a lone "\r",
        # which it leaves bare with an "\n" terminator (and the file would not read back).
        writer = csv.writer(TextSink(stream), lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for record in records:
            refuse_delete(record, self.name)
            if not record.signal_type or not record.value:
                raise InvalidInput("the csv format needs a signal type and a value on every row")
            writer.writerow(
                [
                    record.signal_type,
                    record.value,
                    record.classification or "",
                    record.external_id or "",
                    record.note or "",
                    record.series or "",
                    record.category or "",
                    record.list_name or "",
                ]
            )


def _records(stream: BinaryIO) -> Iterator[Result]:
    too_long: set[int] = set()

    def lines() -> Iterator[str]:
        for number, text in iter_lines(utf8_source(stream)):
            if text is None:
                too_long.add(number)
                yield "\n"
            else:
                yield text

    reader = csv.reader(lines(), strict=True)
    header: list[str] | None = None
    while True:
        start = reader.line_num + 1
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
            continue  # a blank line
        cells = [cell.strip() for cell in row]
        if any(bad_text(cell) for cell in cells):
            yield InvalidRecord(start, NOT_UTF8)
            if header is None:
                return
            continue
        if header is None:
            problem = _header_problem(cells)
            if problem:
                yield InvalidRecord(start, problem)
                return
            header = [cell.lower() for cell in cells]
            continue
        if len(cells) != len(header):
            yield InvalidRecord(start, f"expected {len(header)} fields, found {len(cells)}")
            continue
        yield _record(dict(zip(header, cells, strict=True)), start)


def _header_problem(cells: list[str]) -> str | None:
    """What is wrong with a header row (every problem at once), or ``None``."""
    names = [cell.lower() for cell in cells]
    problems = []
    unknown = [cell for cell, name in zip(cells, names, strict=True) if name not in COLUMNS]
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)}")
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        problems.append(f"missing required column(s) {', '.join(missing)}")
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        problems.append(f"duplicated column(s) {', '.join(duplicated)}")
    if not problems:
        return None
    return (
        f"bad CSV header: {'; '.join(problems)} (required: {','.join(REQUIRED_COLUMNS)}; "
        f"optional: {','.join(OPTIONAL_COLUMNS)})"
    )


def _record(row: dict[str, str], line: int) -> Result:
    if not row["signal_type"]:
        return InvalidRecord(line, "empty signal_type")
    if not row["signal"]:
        return InvalidRecord(line, "empty signal")
    try:
        label = classification(row["classification"])
    except ValueError as exc:
        return InvalidRecord(line, str(exc))
    return EntryRecord(
        signal_type=row["signal_type"],
        value=row["signal"],
        classification=label,
        external_id=row["external_id"] or None,
        note=row["note"] or None,
        series=row.get("series") or None,
        category=row.get("category") or None,
        list_name=row.get("list_name") or None,
        line=line,
    )
