"""Bulk intake: a directory of reports and files (:mod:`.bulk_layout`) into the intake's tables.

The same checks and storage as the API (:mod:`.intake`): each ``<report>`` and ``<fileDetails>``
parsed safely and validated against the XSD, each file hashed (MD5, SHA-1) while it is read and
sealed into the evidence vault. What differs is only the bookkeeping a bulk load can skip: no
HTTP, no per-request login, no open/finish round trips (an imported report is finished at
once), and the work is batched:

* **Every check of a report comes first** (its document, every file's size and details), then
  its files go to the vault, then its rows are added; a report refused at any check stores
  nothing. A file that grows past the cap while it is being read is refused after its earlier
  files were sealed: those objects stay in the vault unreferenced (never read, never listed).
* **One transaction per batch** of reports (``batch_size``), committed after the batch's vault
  writes are durable, so a committed row never points at an object a crash could lose.
* **One vault sync per batch** (:meth:`~brightline.evidence.storage.LocalDirectoryStorage.
  deferred_sync`) instead of two ``fsync`` per object: objects are written to temporary files,
  made durable together, renamed into place, and the renames made durable, all before the
  batch's transaction commits. A crash before the commit leaves at most unreferenced objects.

Refusals name the element path or the check that failed, never a value, and the report by its
entry name in the directory (the operator's own naming) and a file by its position.
Importing the same directory twice imports it twice (new report ids).
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from lxml import etree
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from brightline.clearinghouse.bulk_layout import FILEINFO_SUFFIX, REPORT_SUFFIX
from brightline.clearinghouse.intake import (
    MAX_DOCUMENT_BYTES,
    InvalidRequest,
    ResponseCode,
    StoredBytes,
    ValidationFailed,
    check_provider_name,
    check_report_document,
    details_with_ids,
    new_file_id,
    prepare_file_details,
    response_code_for,
    store_received_bytes,
)
from brightline.clearinghouse.models import (
    IntakeFile,
    IntakeProvider,
    IntakeReport,
    IntakeStatus,
)
from brightline.errors import BrightlineError, InvalidInput, NotFound
from brightline.evidence.storage import LocalDirectoryStorage
from brightline.evidence.store import EvidenceStore
from brightline.storage.base import utcnow

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500
DEFAULT_WORKERS = 1
"""Threads preparing reports. One: on a local disk two threads were slower than one (about
1,300 against 1,900 reports/s, with 1.8 times the CPU: they mostly contend for the GIL; see
docs/clearinghouse.md, "Intake throughput"); more can pay where the vault's storage is slow
to answer."""
_READ_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """One report of the directory: accepted with its new ``report_id``, or refused."""

    name: str
    report_id: int | None = None
    files: int = 0
    code: ResponseCode = ResponseCode.OK
    reason: str | None = None

    @property
    def accepted(self) -> bool:
        return self.report_id is not None


@dataclass(slots=True)
class ImportSummary:
    accepted: int = 0
    refused: int = 0
    files: int = 0
    seconds: float = 0.0
    outcomes: list[ImportOutcome] = field(default_factory=list)

    @property
    def reports_per_second(self) -> float:
        return (self.accepted + self.refused) / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class _Entry:
    """One report found in the directory: its document and its files (with details or not)."""

    name: str
    document: Path | None
    files: tuple[tuple[Path, Path | None], ...] = ()
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class _Prepared:
    name: str
    document: str
    files: tuple[tuple[StoredBytes, etree._Element | None], ...]


_Mapper = Callable[
    [Callable[[_Entry], "_Prepared | ImportOutcome"], Iterable[_Entry]],
    Iterator["_Prepared | ImportOutcome"],
]
"""``map``'s shape: how a batch's entries become their results, in order."""


def scan_directory(directory: Path) -> list[_Entry]:
    """The reports in ``directory``, in name order; entries that break the layout come back
    with the problem (refused, not silently skipped). Links are never followed."""
    try:
        children = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError as exc:
        raise InvalidInput(f"cannot read the import directory: {exc.strerror}") from None
    documents: dict[str, os.DirEntry[str]] = {}
    folders: dict[str, os.DirEntry[str]] = {}
    strays: list[str] = []
    for child in children:
        if child.name.startswith("."):
            continue
        if child.is_symlink():
            strays.append(child.name)
        elif child.is_dir(follow_symlinks=False) and not child.name.endswith(REPORT_SUFFIX):
            folders[child.name] = child
        elif child.is_file(follow_symlinks=False) and child.name.endswith(REPORT_SUFFIX):
            documents[child.name[: -len(REPORT_SUFFIX)]] = child
        else:
            strays.append(child.name)
    entries = [_entry(name, Path(documents[name]), folders.get(name)) for name in documents]
    entries += [
        _Entry(name, None, problem="a file directory without its report document")
        for name in folders
        if name not in documents
    ]
    entries += [
        _Entry(name, None, problem="not a report document (<name>.xml) or a file directory")
        for name in strays
    ]
    return sorted(entries, key=lambda entry: entry.name)


def _entry(name: str, document: Path, folder: os.DirEntry[str] | None) -> _Entry:
    if folder is None:
        return _Entry(name, document)
    try:
        children = sorted(os.scandir(folder.path), key=lambda entry: entry.name)
    except OSError as exc:
        return _Entry(name, document, problem=f"its file directory cannot be read ({exc.strerror})")
    names = {child.name: child for child in children if not child.name.startswith(".")}
    files: list[tuple[Path, Path | None]] = []
    for position, (file_name, child) in enumerate(sorted(names.items()), start=1):
        if file_name.endswith(FILEINFO_SUFFIX):
            if file_name[: -len(FILEINFO_SUFFIX)] not in names:
                return _Entry(name, document, problem=f"entry {position}: details without a file")
            continue
        if child.is_symlink() or not child.is_file(follow_symlinks=False):
            return _Entry(name, document, problem=f"entry {position}: not a plain file")
        details = names.get(f"{file_name}{FILEINFO_SUFFIX}")
        files.append((Path(child.path), None if details is None else Path(details.path)))
    return _Entry(name, document, tuple(files))


def _read_document(path: Path) -> bytes:
    with _open_plain(path) as handle:
        data = handle.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InvalidRequest(f"the document is larger than {MAX_DOCUMENT_BYTES} bytes")
    return data


@contextlib.contextmanager
def _open_plain(path: Path) -> Iterator[BinaryIO]:
    """Open a regular file without following a link swapped in since the directory was read."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise InvalidRequest(f"cannot be read ({exc.strerror})") from None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise InvalidRequest("not a plain file")
        yield handle


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    while chunk := handle.read(_READ_CHUNK):
        yield chunk


def _prepare(
    entry: _Entry, *, store: EvidenceStore, schema_path: Path, max_upload_bytes: int
) -> _Prepared:
    """Every check of one report, then its files into the vault (raises on a refusal)."""
    if entry.problem is not None or entry.document is None:
        raise InvalidRequest(entry.problem or "no report document")
    document = check_report_document(_read_document(entry.document), schema_path=schema_path)
    details: list[etree._Element | None] = []
    for position, (path, info) in enumerate(entry.files, start=1):
        try:
            size = path.stat(follow_symlinks=False).st_size
            if size > max_upload_bytes:
                raise InvalidRequest(f"the file is larger than {max_upload_bytes} bytes")
            if size == 0:
                raise InvalidRequest("the file is empty")
            details.append(
                None
                if info is None
                else prepare_file_details(_read_document(info), schema_path=schema_path)
            )
        except OSError as exc:
            raise InvalidRequest(f"file {position}: cannot be read ({exc.strerror})") from None
        except (InvalidRequest, ValidationFailed) as exc:
            raise type(exc)(f"file {position}: {exc}") from None
    stored: list[StoredBytes] = []
    for position, (path, _) in enumerate(entry.files, start=1):
        try:
            with _open_plain(path) as handle:
                stored.append(
                    store_received_bytes(_chunks(handle), store=store, max_bytes=max_upload_bytes)
                )
        except InvalidRequest as exc:
            raise InvalidRequest(f"file {position}: {exc}") from None
    return _Prepared(entry.name, document, tuple(zip(stored, details, strict=True)))


@contextlib.contextmanager
def _preparers(workers: int) -> Iterator[_Mapper]:
    """Where a batch's reports are prepared: ``workers`` threads, or this one for 1.

    Threads, not processes: what a thread can overlap is waiting on storage (creating the
    vault's files and shard directories, reading the source files), and the vault's pending
    batch and the schema lock are shared in memory, with nothing serialised between
    processes. On an error the pool is shut down (queued reports cancelled, running ones
    finished) before the deferred vault batch cleans up.
    """
    if workers == 1:
        yield map
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="bulk-intake") as pool:
        try:
            yield pool.map
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _provider_id(session: Session, name: str) -> int:
    normalised = check_provider_name(name)
    provider = session.scalar(select(IntakeProvider).where(IntakeProvider.name == normalised))
    if provider is None:
        raise NotFound(f"no provider called {normalised}")
    if provider.disabled_at is not None:
        raise InvalidInput(f"provider {normalised} is disabled")
    return provider.id


def _deferred(store: EvidenceStore) -> contextlib.AbstractContextManager[None]:
    storage = store.storage
    if isinstance(storage, LocalDirectoryStorage):
        return storage.deferred_sync()
    return contextlib.nullcontext()


def _refusal(name: str, error: BaseException) -> ImportOutcome:
    code = response_code_for(error)
    if code == ResponseCode.SERVER_ERROR:
        raise error
    reason = str(error).splitlines()[0] if str(error) else code.name.lower()
    return ImportOutcome(name=name, code=code, reason=reason)


def import_directory(
    *,
    sessions: sessionmaker[Session],
    directory: Path,
    provider: str,
    store: EvidenceStore,
    schema_path: Path,
    max_upload_bytes: int,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int = DEFAULT_WORKERS,
    now: Callable[[], datetime] = utcnow,
    on_outcome: Callable[[ImportOutcome], None] | None = None,
) -> ImportSummary:
    """Import every report in ``directory`` as finished reports of ``provider``.

    Owns its transactions (one per batch, like the submission outbox's passes), because a
    bulk load that held one transaction for a million reports would hold its locks as long.
    ``on_outcome`` sees each report's outcome as its batch commits. Refused reports are in
    the outcomes; problems with the import as a whole (unknown provider, unreadable
    directory, the vault or database failing) raise. ``workers`` threads prepare a batch's
    reports (:func:`_preparers`); outcomes keep the directory's order whatever their number.
    """
    if batch_size < 1:
        raise InvalidInput("the batch size must be at least 1")
    if workers < 1:
        raise InvalidInput("the number of preparing threads must be at least 1")

    def prepare(entry: _Entry) -> _Prepared | ImportOutcome:
        try:
            return _prepare(
                entry, store=store, schema_path=schema_path, max_upload_bytes=max_upload_bytes
            )
        except BrightlineError as exc:
            return _refusal(entry.name, exc)

    started = time.perf_counter()
    with sessions.begin() as session:
        provider_id = _provider_id(session, provider)
    entries = scan_directory(directory)
    summary = ImportSummary()
    for start in range(0, len(entries), batch_size):
        batch = entries[start : start + batch_size]
        with _deferred(store), _preparers(workers) as prepare_each:
            results = list(prepare_each(prepare, batch))
        outcomes = _store_batch(sessions, provider_id, results, now())
        for outcome in outcomes:
            if outcome.accepted:
                summary.accepted += 1
                summary.files += outcome.files
            else:
                summary.refused += 1
            summary.outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
    summary.seconds = time.perf_counter() - started
    log.info(
        "clearinghouse import for provider %s: %d accepted, %d refused, %d files in %.1fs",
        provider_id,
        summary.accepted,
        summary.refused,
        summary.files,
        summary.seconds,
    )
    return summary


def _store_batch(
    sessions: sessionmaker[Session],
    provider_id: int,
    results: list[_Prepared | ImportOutcome],
    moment: datetime,
) -> list[ImportOutcome]:
    """One transaction: the batch's accepted reports, finished, with their files."""
    prepared = [result for result in results if isinstance(result, _Prepared)]
    ids: dict[str, int] = {}
    with sessions.begin() as session:
        if prepared:
            # Bulk INSERT ... RETURNING (one statement per batch, ids in parameter order).
            returned = session.scalars(
                insert(IntakeReport).returning(IntakeReport.id, sort_by_parameter_order=True),
                [
                    {
                        "provider_id": provider_id,
                        "status": IntakeStatus.FINISHED.value,
                        "document": one.document,
                        "received_at": moment,
                        "finished_at": moment,
                    }
                    for one in prepared
                ],
            ).all()
            ids = {one.name: report_id for one, report_id in zip(prepared, returned, strict=True)}
        files = []
        for one in prepared:
            for stored, details in one.files:
                file_id = new_file_id()
                files.append(
                    {
                        "file_id": file_id,
                        "report_id": ids[one.name],
                        "vault_ref": stored.vault_ref,
                        "md5": stored.md5,
                        "sha1": stored.sha1,
                        "size": stored.size,
                        "received_at": moment,
                        "details": None
                        if details is None
                        else details_with_ids(details, report_id=ids[one.name], file_id=file_id),
                        "details_at": None if details is None else moment,
                    }
                )
        if files:
            session.execute(insert(IntakeFile), files)
    return [
        result
        if isinstance(result, ImportOutcome)
        else ImportOutcome(name=result.name, report_id=ids[result.name], files=len(result.files))
        for result in results
    ]


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_WORKERS",
    "ImportOutcome",
    "ImportSummary",
    "import_directory",
    "scan_directory",
]
