"""``plain``: one hash value per line, nothing else.

The commonest list anyone hands over: ``md5sum``-style output trimmed to the hash, or a column
pasted out of a spreadsheet. The file cannot say what kind of hash it holds, so the signal type is
an option of the format, not something guessed from the values' length.
"""

from __future__ import annotations

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


class PlainFormat:
    """One value per line; blank lines and ``#`` comment lines are ignored.

    ``signal_type`` is required to read (every record gets it) and optional to write: when given,
    the writer refuses records of any other type; when not, it refuses a second type, because a
    plain file mixing two hash types could never be read back correctly.
    """

    OPTIONS: ClassVar[frozenset[str]] = frozenset({"signal_type"})

    def __init__(self, signal_type: str | None = None) -> None:
        if signal_type is not None and (not signal_type or signal_type != signal_type.strip()):
            raise InvalidInput(f"invalid signal type {signal_type!r} for the plain format")
        self.signal_type = signal_type

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> PlainFormat:
        return cls(signal_type=options.get("signal_type"))

    @property
    def name(self) -> str:
        return "plain"

    def read(self, stream: BinaryIO) -> RecordStream:
        """Stream the file's records; raises :class:`InvalidInput` now if no signal type is set."""
        if self.signal_type is None:
            raise InvalidInput(
                "the plain format does not name its signal type: give one "
                "(get_format('plain', signal_type=...), on the command line --signal-type)"
            )
        return RecordStream(_records(stream, self.signal_type), Counter())

    def write(self, records: Iterable[EntryRecord], stream: BinaryIO) -> None:
        sink = TextSink(stream)
        expected = self.signal_type
        for record in records:
            refuse_delete(record, self.name)
            if expected is None:
                expected = record.signal_type
            elif record.signal_type != expected:
                raise InvalidInput(
                    f"a plain list holds one signal type: got {record.signal_type!r} "
                    f"after {expected!r} (use the csv or hma format for mixed lists)"
                )
            sink.write(single_line(record.value, "value", self.name) + "\n")


def _records(stream: BinaryIO, signal_type: str) -> Iterator[Result]:
    for number, text in iter_lines(utf8_source(stream)):
        if text is None:
            yield InvalidRecord(number, TOO_LONG)
            continue
        value = text.strip()
        if not value or value.startswith("#"):
            continue
        if bad_text(value):
            yield InvalidRecord(number, NOT_UTF8)
            continue
        yield EntryRecord(signal_type=signal_type, value=value, line=number)
