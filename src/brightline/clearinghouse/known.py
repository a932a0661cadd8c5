"""Known or new: is a reported file already in a bank of known material?

New material (never seen before) may show a child nobody has identified yet, which is why triage
weighs it (DOMAIN.md §5). The clearinghouse asks a :class:`KnownMaterialLookup`; the intake
plugs in the banks (exact digests and PDQ through ``brightline.matching``); tests and the demo
use :class:`HashSetLookup`.

A file with no hash at all is ``unchecked``, never ``new``: not being able to look a file up is
not evidence that it was never seen.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from brightline.clearinghouse.model import FileRef, IncomingReport, ReportedFile
from brightline.index import DEFAULT_MAX_DISTANCE, PDQIndex, pdq_hex_to_array

__all__ = [
    "HashSetLookup",
    "KnownMaterialLookup",
    "KnownStatus",
    "Novelty",
    "mark_known",
]


class Novelty(enum.StrEnum):
    KNOWN = "known"
    NEW = "new"
    UNCHECKED = "unchecked"


class KnownMaterialLookup(Protocol):
    """Says whether a file (by its md5, sha1 or PDQ hash) is in a known-material bank."""

    def __call__(self, file: ReportedFile) -> bool: ...


class HashSetLookup:
    """An in-memory known-material bank: exact md5/sha1 sets, PDQ within a distance."""

    def __init__(
        self,
        *,
        md5: Iterable[str] = (),
        sha1: Iterable[str] = (),
        pdq: Sequence[str] = (),
        pdq_threshold: int = DEFAULT_MAX_DISTANCE,
    ) -> None:
        self._md5 = frozenset(h.lower() for h in md5)
        self._sha1 = frozenset(h.lower() for h in sha1)
        self._threshold = pdq_threshold
        self._index: PDQIndex | None = None
        if pdq:
            hashes = pdq_hex_to_array([h.lower() for h in pdq])
            self._index = PDQIndex.build(hashes, np.arange(len(pdq), dtype=np.int64))

    def __call__(self, file: ReportedFile) -> bool:
        if file.md5 is not None and file.md5 in self._md5:
            return True
        if file.sha1 is not None and file.sha1 in self._sha1:
            return True
        if file.pdq is not None and self._index is not None:
            return bool(self._index.query(bytes.fromhex(file.pdq), self._threshold))
        return False


@dataclass(frozen=True)
class KnownStatus:
    """The novelty of every file of the analysed reports."""

    by_file: Mapping[FileRef, Novelty]

    def of(self, ref: FileRef) -> Novelty:
        return self.by_file[ref]

    def counts(self) -> Counter[Novelty]:
        return Counter(self.by_file.values())

    def new_files(self, report: IncomingReport) -> int:
        return sum(self.by_file.get(ref) is Novelty.NEW for ref in report.file_refs())


def mark_known(reports: Iterable[IncomingReport], lookup: KnownMaterialLookup) -> KnownStatus:
    """Ask ``lookup`` once per distinct (md5, sha1, pdq) and mark every file known or new."""
    answers: dict[tuple[str | None, str | None, str | None], bool] = {}
    by_file: dict[FileRef, Novelty] = {}
    for report in reports:
        for file in report.files:
            ref = (report.report_id, file.file_id)
            if not file.has_hash:
                by_file[ref] = Novelty.UNCHECKED
                continue
            key = (file.md5, file.sha1, file.pdq)
            known = answers.get(key)
            if known is None:
                known = answers[key] = bool(lookup(file))
            by_file[ref] = Novelty.KNOWN if known else Novelty.NEW
    return KnownStatus(by_file)
