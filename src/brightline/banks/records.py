"""What hash-list formats read and write: one record per hash value.

Formats are plain readers and writers of records; validation against signal types, de-duplication
and storage happen in :mod:`brightline.banks.service`, once for all formats.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol


@dataclass(frozen=True, slots=True)
class EntryRecord:
    """One hash value as a list file carries it (not yet validated)."""

    signal_type: str
    value: str
    classification: str | None = None
    external_id: str | None = None
    series: str | None = None
    note: str | None = None
    category: str | None = None
    """Normalised content category (e.g. Project VIC's), when the list has one."""
    list_name: str | None = None
    """Provenance: the list this record came from, when the format names it."""
    line: int = 0
    """Line (or record number) in the source, for error messages."""
    delete: bool = False
    """True when the list withdraws this hash (NCMEC ``deletedImage``): it is disabled."""


@dataclass(frozen=True, slots=True)
class InvalidRecord:
    """A record a reader could not parse; the importer aborts or, if asked, skips it."""

    line: int
    reason: str


class RecordStream(Iterator[EntryRecord | InvalidRecord]):
    """The iterator every reader returns: records in file order, plus what was left out on purpose.

    Why not only yield? Some records are deliberately not bank entries (a VICS image categorised
    non-pertinent, a fingerprint type Brightline has no signal type for). They are neither valid
    entries nor malformed, so they must not stop an import -- but an operator must be able to see
    how many there were. ``skipped`` counts them by a short human-readable reason; it is complete
    once the stream is exhausted.
    """

    __slots__ = ("_source", "skipped")

    def __init__(
        self, source: Iterator[EntryRecord | InvalidRecord], skipped: Counter[str]
    ) -> None:
        self._source = source
        self.skipped = skipped

    def __iter__(self) -> Iterator[EntryRecord | InvalidRecord]:
        # The underlying generator itself, so a for-loop over millions of records pays no Python
        # call per record here; it is the same single-pass source, and ``skipped`` stays shared.
        return self._source

    def __next__(self) -> EntryRecord | InvalidRecord:
        return next(self._source)


class BankFormat(Protocol):
    """A hash-list file format. Readers stream: memory must not grow with the file."""

    @property
    def name(self) -> str: ...

    def read(self, stream: BinaryIO) -> RecordStream: ...

    def write(self, records: Iterable[EntryRecord], stream: BinaryIO) -> None: ...
