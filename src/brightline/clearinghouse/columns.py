"""Reports as flat columns: what every analysis stage reads, in one pass, without the objects.

Why columns: an :class:`~brightline.clearinghouse.model.IncomingReport` with its persons, files,
digests as text and timestamps as ``datetime`` costs about 3 KB of Python objects; a million of
them do not fit the memory a clearinghouse analysis should need. The stages (clusters, links,
bundles, features) only read a few facts of each report, so :class:`ReportColumns` reads each
report **once**, keeps those facts in numpy arrays (digests as bytes, identifiers interned to
integers, times as integer microseconds) and lets the report go. A caller can stream reports in
(:class:`ColumnsBuilder`, e.g. straight from the synthetic generator or a JSON-lines file) and
never hold them all.

Every stage works on columns and only on columns; the functions that take a sequence of reports
(``cluster_files``, ``link_reports``, ...) build the columns and call the same code, so there is
one implementation of each rule. What the columns keep is exactly what those rules read:

* per report: id, provider, incident type and time, escalation (present or not), report
  annotations that triage weighs, ``batched``, youngest victim age, Parent/Guardian, whether
  anything locates anyone, and where its files and persons start;
* per file: id, md5 / sha1 / PDQ as bytes (with presence flags), PDQ quality, annotations (a bit
  mask) and whether it is classified prepubescent;
* per person: its report and the normalised identifiers (interned: an identifier is stored once,
  its occurrences as integers), ``priorCTReports`` references, and IP sightings (interned address,
  time in microseconds, the offset it was written with, the provider's proxy flag).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
from numpy.typing import NDArray

from brightline.clearinghouse.identifiers import IdentifierKind, identifier_triples
from brightline.clearinghouse.model import (
    Classification,
    FileAnnotation,
    IncidentType,
    IncomingReport,
    ReportAnnotation,
    ReportedFile,
)
from brightline.errors import InvalidInput

__all__ = [
    "ANNOTATION_BIT",
    "KIND_CODE",
    "ColumnsBuilder",
    "ReportColumns",
    "datetime_of",
    "micros",
    "new_files",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
KIND_CODE: dict[IdentifierKind, int] = {kind: i for i, kind in enumerate(IdentifierKind)}
"""Identifier kind → the small integer stored per interned identifier."""
ANNOTATION_BIT: dict[FileAnnotation, int] = {a: 1 << i for i, a in enumerate(FileAnnotation)}
"""File annotation → its bit in the per-file annotation mask."""
_NO_AGE = -1


def micros(at: datetime) -> int:
    """Whole microseconds since the epoch: exact, unlike a float timestamp."""
    return (at - _EPOCH) // _MICROSECOND


def _offset_seconds(at: datetime) -> int:
    offset = at.utcoffset()
    return 0 if offset is None else int(offset.total_seconds())


def datetime_of(micros: int, offset_seconds: int) -> datetime:
    """The instant ``micros`` after the epoch, in the fixed offset it was written with."""
    at = _EPOCH + timedelta(microseconds=int(micros))
    if offset_seconds:
        return at.astimezone(timezone(timedelta(seconds=int(offset_seconds))))
    return at


_KIND_PREFIX = {kind: f"{kind.value}\x1f" for kind in IdentifierKind}
_SADISTIC = ReportAnnotation.SADISTIC_ONLINE_EXPLOITATION
_SEXTORTION = ReportAnnotation.SEXTORTION
_SPAM_ONLY = frozenset({ReportAnnotation.SPAM})
_PREPUBESCENT = frozenset(c for c in Classification if c.prepubescent)
_ZERO16, _ZERO20, _ZERO32 = bytes(16), bytes(20), bytes(32)


class ColumnsBuilder:
    """Reads reports one at a time into columns; :meth:`finish` returns the columns.

    ``default_phone_region`` is the linking setting that decides how numbers without a country
    code are read (normalisation happens here, once).
    """

    def __init__(
        self, *, default_phone_region: str | None = None, identifiers: bool = True
    ) -> None:
        self._region = default_phone_region
        self._with_identifiers = identifiers
        self._reset()

    def _reset(self) -> None:
        self.report_ids: list[str] = []
        self._index: dict[str, int] = {}
        self._providers: dict[str, int] = {}
        self._incident_types: dict[IncidentType, int] = {}
        self._provider = array("i")
        self._incident_type = array("b")
        self._incident_at = array("q")
        self._flags = array("B")  # escalation, sadistic, sextortion, spam_only, batched, pg, loc
        self._youngest = array("h")
        self._file_count = array("i")
        self._person_count = array("i")
        # files
        self._file_ids: dict[str, str] = {}
        self.file_ids: list[str] = []
        self._md5 = bytearray()
        self._sha1 = bytearray()
        self._pdq = bytearray()
        self._has = array("B")  # bit 0 md5, 1 sha1, 2 pdq
        self._quality = array("b")
        self._annotations = array("H")
        self._prepubescent = array("B")
        # persons
        self._identifiers: dict[str, int] = {}
        self._identifier_kind = array("b")
        self._occ_person = array("i")
        self._occ_identifier = array("i")
        self._prior_person = array("i")
        self._prior_values: list[str] = []
        self._addresses: dict[str, int] = {}
        self._ip_person = array("i")
        self._ip_address = array("i")
        self._ip_at = array("q")
        self._ip_offset = array("i")
        self._ip_proxy = array("B")
        self.ip_without_time = 0
        self.unusable_identifiers = 0
        self._persons = 0

    def add(self, report: IncomingReport) -> None:
        """Read one report (its id must be new)."""
        report_id = report.report_id
        if report_id in self._index:
            raise InvalidInput("report ids must be unique (a report id appears twice)")
        self._index[report_id] = len(self.report_ids)
        self.report_ids.append(report_id)
        self._provider.append(self._providers.setdefault(report.provider, len(self._providers)))
        self._incident_type.append(
            self._incident_types.setdefault(report.incident_type, len(self._incident_types))
        )
        self._incident_at.append(micros(report.incident_at))
        annotations = report.report_annotations
        persons = report.persons
        locatable = any(p.has_identifiers or p.estimated_location for p in persons) or any(
            v.estimated_location for v in report.victims
        )
        self._flags.append(
            (report.escalation is not None)
            | (_SADISTIC in annotations) << 1
            | (_SEXTORTION in annotations) << 2
            | (annotations == _SPAM_ONLY) << 3
            | report.batched << 4
            | any(p.parent_guardian_account for p in persons) << 5
            | locatable << 6
        )
        ages = [v.age for v in report.victims if v.age is not None]
        self._youngest.append(min(ages) if ages else _NO_AGE)
        files = report.files
        self._file_count.append(len(files))
        self._person_count.append(len(persons))
        file_names, file_ids = self._file_ids, self.file_ids
        for file in files:
            file_ids.append(file_names.setdefault(file.file_id, file.file_id))
            has = 0
            if file.md5 is None:
                self._md5 += _ZERO16
            else:
                self._md5 += bytes.fromhex(file.md5)
                has = 1
            if file.sha1 is None:
                self._sha1 += _ZERO20
            else:
                self._sha1 += bytes.fromhex(file.sha1)
                has |= 2
            if file.pdq is None:
                self._pdq += _ZERO32
            else:
                self._pdq += bytes.fromhex(file.pdq)
                has |= 4
            self._has.append(has)
            self._quality.append(-1 if file.pdq_quality is None else file.pdq_quality)
            mask = 0
            for annotation in file.annotations:
                mask |= ANNOTATION_BIT[annotation]
            self._annotations.append(mask)
            self._prepubescent.append(file.classification in _PREPUBESCENT)
        if not self._with_identifiers:
            self._persons += len(report.persons)
            return
        identifiers = self._identifiers
        for person in report.persons:
            node = self._persons
            self._persons += 1
            triples, dropped = identifier_triples(report, person, default_region=self._region)
            self.unusable_identifiers += dropped
            for kind, scope, value in triples:
                if kind is IdentifierKind.PRIOR_REPORT:
                    self._prior_person.append(node)
                    self._prior_values.append(value)
                    continue
                key = f"{_KIND_PREFIX[kind]}{scope}\x1f{value}"
                code = identifiers.get(key)
                if code is None:
                    code = identifiers[key] = len(identifiers)
                    self._identifier_kind.append(KIND_CODE[kind])
                self._occ_person.append(node)
                self._occ_identifier.append(code)
            for event in person.ip_events:
                if event.at is None:
                    self.ip_without_time += 1
                    continue
                address = self._addresses.setdefault(event.ip, len(self._addresses))
                self._ip_person.append(node)
                self._ip_address.append(address)
                self._ip_at.append(micros(event.at))
                self._ip_offset.append(_offset_seconds(event.at))
                self._ip_proxy.append(bool(event.possible_proxy))

    def add_all(self, reports: Iterable[IncomingReport]) -> ColumnsBuilder:
        for report in reports:
            self.add(report)
        return self

    def finish(self) -> ReportColumns:
        """The columns of every report added so far; the builder starts afresh (it lets go of
        its interning tables, which a million reports make large)."""
        columns = ReportColumns(self)
        self._reset()
        return columns


def _arr(values: array[int], dtype: type[np.generic]) -> NDArray[np.int64]:
    return (
        np.frombuffer(values, dtype=dtype).astype(np.int64)
        if len(values)
        else np.zeros(0, dtype=np.int64)
    )


def _offsets(counts: array[int]) -> NDArray[np.int64]:
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    if len(counts):
        np.cumsum(np.frombuffer(counts, dtype=np.int32), out=out[1:])
    return out


class ReportColumns:
    """The columns of a set of reports (see the module docstring). Read-only by convention."""

    def __init__(self, built: ColumnsBuilder) -> None:
        n = len(built.report_ids)
        self.default_phone_region = built._region
        self.has_identifiers = built._with_identifiers
        self.report_ids: list[str] = built.report_ids
        self.index: dict[str, int] = built._index
        self.providers: list[str] = list(built._providers)
        self.provider = _arr(built._provider, np.int32)
        self.incident_types: list[IncidentType] = list(built._incident_types)
        self.incident_type = _arr(built._incident_type, np.int8)
        self.incident_at = np.frombuffer(built._incident_at, dtype=np.int64).copy()
        flags = np.frombuffer(built._flags, dtype=np.uint8)
        self.escalation = (flags & 1).astype(bool)
        self.sadistic = (flags & 2).astype(bool)
        self.sextortion = (flags & 4).astype(bool)
        self.spam_only = (flags & 8).astype(bool)
        self.batched = (flags & 16).astype(bool)
        self.parent_guardian = (flags & 32).astype(bool)
        self.locatable = (flags & 64).astype(bool)
        self.youngest_age = _arr(built._youngest, np.int16)
        self.file_start = _offsets(built._file_count)
        self.person_start = _offsets(built._person_count)
        self.file_report = np.repeat(np.arange(n, dtype=np.int64), np.diff(self.file_start))
        self.person_report = np.repeat(np.arange(n, dtype=np.int64), np.diff(self.person_start))
        self.person_index = (
            np.arange(len(self.person_report), dtype=np.int64)
            - self.person_start[self.person_report]
        )
        m = len(built.file_ids)
        self.file_ids: list[str] = built.file_ids
        self.md5 = np.frombuffer(bytes(built._md5), dtype=np.uint8).reshape(m, 16)
        self.sha1 = np.frombuffer(bytes(built._sha1), dtype=np.uint8).reshape(m, 20)
        self.pdq = np.frombuffer(bytes(built._pdq), dtype=np.uint8).reshape(m, 32)
        has = np.frombuffer(built._has, dtype=np.uint8)
        self.has_md5 = (has & 1).astype(bool)
        self.has_sha1 = (has & 2).astype(bool)
        self.has_pdq = (has & 4).astype(bool)
        self.pdq_quality = _arr(built._quality, np.int8)
        self.file_annotations = _arr(built._annotations, np.uint16)
        self.prepubescent = np.frombuffer(built._prepubescent, dtype=np.uint8).astype(bool)
        self.identifier_keys: list[str] = list(built._identifiers)
        self.identifier_kind = _arr(built._identifier_kind, np.int8)
        self.occ_person = _arr(built._occ_person, np.int32)
        self.occ_identifier = _arr(built._occ_identifier, np.int32)
        self.prior_person = _arr(built._prior_person, np.int32)
        self.prior_values: list[str] = built._prior_values
        self.addresses: list[str] = list(built._addresses)
        self.ip_person = _arr(built._ip_person, np.int32)
        self.ip_address = _arr(built._ip_address, np.int32)
        self.ip_at = np.frombuffer(built._ip_at, dtype=np.int64).copy()
        self.ip_offset = _arr(built._ip_offset, np.int32)
        self.ip_proxy = np.frombuffer(built._ip_proxy, dtype=np.uint8).astype(bool)
        self.ip_without_time = built.ip_without_time
        self.unusable_identifiers = built.unusable_identifiers
        # Sorting by report id as text is what makes every output independent of input order.
        order = sorted(range(n), key=self.report_ids.__getitem__)
        self.report_rank = np.empty(n, dtype=np.int64)
        self.report_rank[np.asarray(order, dtype=np.int64)] = np.arange(n, dtype=np.int64)
        names = sorted(set(self.file_ids))
        name_rank = {name: i for i, name in enumerate(names)}
        file_name_rank = np.fromiter((name_rank[f] for f in self.file_ids), dtype=np.int64, count=m)
        file_order = np.lexsort((file_name_rank, self.report_rank[self.file_report]))
        self.file_rank = np.empty(m, dtype=np.int64)
        self.file_rank[file_order] = np.arange(m, dtype=np.int64)
        person_order = np.lexsort((self.person_index, self.report_rank[self.person_report]))
        self.person_rank = np.empty(len(person_order), dtype=np.int64)
        self.person_rank[person_order] = np.arange(len(person_order), dtype=np.int64)

    @classmethod
    def build(
        cls,
        reports: Iterable[IncomingReport],
        *,
        default_phone_region: str | None = None,
        identifiers: bool = True,
    ) -> ReportColumns:
        """Columns of ``reports``; ``identifiers=False`` skips what only linking reads."""
        builder = ColumnsBuilder(default_phone_region=default_phone_region, identifiers=identifiers)
        return builder.add_all(reports).finish()

    @property
    def report_count(self) -> int:
        return len(self.report_ids)

    @property
    def file_count(self) -> int:
        return len(self.file_ids)

    @property
    def person_count(self) -> int:
        return len(self.person_report)

    def file_ref(self, file: int) -> tuple[str, str]:
        return (self.report_ids[int(self.file_report[file])], self.file_ids[file])

    def person_ref(self, person: int) -> tuple[str, int]:
        return (self.report_ids[int(self.person_report[person])], int(self.person_index[person]))

    def file_rows(self, by_file: Mapping[tuple[str, str], int]) -> NDArray[np.int64]:
        """Per file, the value ``by_file`` maps its reference to (-1 for files it lacks)."""
        out = np.full(self.file_count, -1, dtype=np.int64)
        for ref, value in by_file.items():
            row = self.file_position(ref)
            if row is not None:
                out[row] = value
        return out

    def person_rows(self, by_person: Mapping[tuple[str, int], int]) -> NDArray[np.int64]:
        """Per person, the value ``by_person`` maps its reference to (-1 for persons it lacks)."""
        out = np.full(self.person_count, -1, dtype=np.int64)
        for (report_id, index), value in by_person.items():
            report = self.index.get(report_id)
            if (
                report is not None
                and 0 <= index < self.person_start[report + 1] - self.person_start[report]
            ):
                out[int(self.person_start[report]) + index] = value
        return out

    def file_position(self, ref: tuple[str, str]) -> int | None:
        """The file's row, or None when no report here holds it."""
        report = self.index.get(ref[0])
        if report is None:
            return None
        for row in range(int(self.file_start[report]), int(self.file_start[report + 1])):
            if self.file_ids[row] == ref[1]:
                return row
        return None


def new_files(columns: ReportColumns, lookup: Callable[[ReportedFile], bool]) -> NDArray[np.bool_]:
    """Per file, whether it is new: :func:`~brightline.clearinghouse.known.mark_known` over
    columns. ``lookup`` is asked once per distinct (md5, sha1, PDQ); a file without any hash is
    unchecked, never new."""
    hashed = columns.has_md5 | columns.has_sha1 | columns.has_pdq
    out = np.zeros(columns.file_count, dtype=bool)
    rows = np.flatnonzero(hashed)
    if not len(rows):
        return out
    keys = np.concatenate(
        (
            columns.md5[rows] * columns.has_md5[rows, None],
            columns.sha1[rows] * columns.has_sha1[rows, None],
            columns.pdq[rows] * columns.has_pdq[rows, None],
            np.stack((columns.has_md5[rows], columns.has_sha1[rows], columns.has_pdq[rows]), 1),
        ),
        axis=1,
    ).astype(np.uint8)
    _, first, inverse = np.unique(
        np.ascontiguousarray(keys).view(np.dtype((np.void, keys.shape[1]))).ravel(),
        return_index=True,
        return_inverse=True,
    )
    answers = np.zeros(len(first), dtype=bool)
    for i, row in enumerate(rows[first].tolist()):
        file = ReportedFile(
            file_id=columns.file_ids[row],
            md5=columns.md5[row].tobytes().hex() if columns.has_md5[row] else None,
            sha1=columns.sha1[row].tobytes().hex() if columns.has_sha1[row] else None,
            pdq=columns.pdq[row].tobytes().hex() if columns.has_pdq[row] else None,
            pdq_quality=None if columns.pdq_quality[row] < 0 else int(columns.pdq_quality[row]),
        )
        answers[i] = not lookup(file)
    out[rows] = answers[inverse.ravel()]
    return out
