"""The clearinghouse intake: the receiving end of the CyberTipline Reporting API, without HTTP.

Providers submit a ``<report>``, upload its files, describe each with ``<fileDetails>`` and
finish it (DOMAIN.md §3); this module is that lifecycle as plain functions over the database
and the evidence vault, so the HTTP adapter (:mod:`brightline.http.clearinghouse_routes`) only
maps requests and answers. Every function takes a keyword-only ``session`` and never commits:
the caller owns the transaction, so a refused request leaves nothing behind.

Every refusal is an exception from :mod:`brightline.errors` carrying the API's ``responseCode``
(:class:`ResponseCode`), so the adapter answers with the code the protocol documents and
Brightline's own client (:mod:`brightline.clearinghouse_client`) maps it back to its errors.

Documents come from outside and are hostile until shown otherwise: they are size-capped before
parsing, parsed without entities, network or DTDs (a document carrying any DTD is refused, so
neither entity expansion nor external entities can happen), and validated against the XSD the
deployment holds; a refusal names the failing element path, never a value. Nothing here logs
document content, file names or anything a provider typed.
"""

from __future__ import annotations

import contextlib
import copy
import enum
import hashlib
import logging
import re
import secrets
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, ClassVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from lxml import etree
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from brightline.clearinghouse.models import (
    NAME_LENGTH,
    IntakeFile,
    IntakeProvider,
    IntakeReport,
    IntakeStatus,
)
from brightline.errors import BrightlineError, Conflict, InvalidInput, NotFound
from brightline.evidence.store import EvidenceStore
from brightline.reports.report_xml import validate_parsed_xml
from brightline.storage.base import utcnow

log = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
"""A ``<report>`` or ``<fileDetails>`` is kilobytes; anything over this is refused unparsed."""
DEFAULT_EXPIRY = timedelta(hours=24)
"""How long an unfinished report waits for its files and ``/finish`` before it expires."""
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
_CHUNK = 64 * 1024
_PROVIDER_NAME = re.compile(r"[a-z0-9][a-z0-9._\-]{1,63}")
_hasher = PasswordHasher()


class ResponseCode(enum.IntEnum):
    """The ``responseCode`` values of the CyberTipline Reporting API (DOMAIN.md §3)."""

    OK = 0
    SERVER_ERROR = 1000
    AUTHENTICATION_REQUIRED = 2000
    NOT_AUTHORISED = 3000
    INVALID_REQUEST = 4000
    VALIDATION_FAILED = 4100
    NO_SUCH_REPORT = 5001
    NO_SUCH_FILE = 5002
    ALREADY_RETRACTED = 5101
    ALREADY_FINISHED = 5102


class ProviderRefused(BrightlineError):
    """Unknown name, wrong password or a disabled provider: one message for all, so the answer
    does not tell a guesser which names exist."""

    response_code: ClassVar[ResponseCode] = ResponseCode.AUTHENTICATION_REQUIRED

    def __init__(self) -> None:
        super().__init__("authentication required: unknown provider or wrong password")


class InvalidRequest(InvalidInput):
    """The request itself is unusable (not XML, too large, a DTD, a missing id or file)."""

    response_code: ClassVar[ResponseCode] = ResponseCode.INVALID_REQUEST


class ValidationFailed(InvalidInput):
    """Well-formed, but invalid against the schema; the message names the failing elements."""

    response_code: ClassVar[ResponseCode] = ResponseCode.VALIDATION_FAILED


class NoSuchReport(NotFound):
    """No report with that id for this provider (another provider's reports are not shown to
    exist), or one that expired unfinished."""

    response_code: ClassVar[ResponseCode] = ResponseCode.NO_SUCH_REPORT


class NoSuchFile(NotFound):
    response_code: ClassVar[ResponseCode] = ResponseCode.NO_SUCH_FILE


class AlreadyRetracted(Conflict):
    response_code: ClassVar[ResponseCode] = ResponseCode.ALREADY_RETRACTED


class AlreadyFinished(Conflict):
    response_code: ClassVar[ResponseCode] = ResponseCode.ALREADY_FINISHED


def response_code_for(error: BaseException) -> ResponseCode:
    """The API code for an error raised here; anything else is the server's fault (1000)."""
    code = getattr(error, "response_code", None)
    return code if isinstance(code, ResponseCode) else ResponseCode.SERVER_ERROR


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    """What ``/upload`` answers: the file's id and the MD5 of exactly the bytes received."""

    report_id: int
    file_id: str
    md5: str
    sha1: str
    size: int


# -- providers -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against for unknown names, so they cost as long as known ones."""
    return _hasher.hash(secrets.token_urlsafe(16))


def check_provider_name(name: str) -> str:
    normalised = name.strip().lower()
    if not _PROVIDER_NAME.fullmatch(normalised) or len(normalised) > NAME_LENGTH:
        raise InvalidInput(
            "a provider name is 2 to 64 lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return normalised


def register_provider(
    *, session: Session, name: str, password: str, now: datetime | None = None
) -> IntakeProvider:
    """Add a provider allowed to submit; the password is kept as an argon2id hash only."""
    normalised = check_provider_name(name)
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(f"a password is {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    if session.scalar(select(IntakeProvider.id).where(IntakeProvider.name == normalised)):
        raise Conflict(f"a provider called {normalised} already exists")
    provider = IntakeProvider(
        name=normalised, password_hash=_hasher.hash(password), created_at=now or utcnow()
    )
    session.add(provider)
    session.flush()
    log.info("clearinghouse provider %s registered", provider.id)
    return provider


def list_providers(*, session: Session) -> list[IntakeProvider]:
    return list(session.scalars(select(IntakeProvider).order_by(IntakeProvider.id)))


def authenticate_provider(*, session: Session, name: str, password: str) -> IntakeProvider:
    """The provider for this name and password, or :class:`ProviderRefused`.

    Every refusal costs one argon2 verification, unknown names included, and says the same.
    """
    normalised = name.strip().lower()
    # A name no provider can have is not looked up (PostgreSQL refuses some strings, NUL).
    provider = (
        session.scalar(select(IntakeProvider).where(IntakeProvider.name == normalised))
        if _PROVIDER_NAME.fullmatch(normalised)
        else None
    )
    stored = provider.password_hash if provider is not None else _dummy_hash()
    try:
        matches = bool(_hasher.verify(stored, password[:MAX_PASSWORD]))
    except (VerificationError, InvalidHashError):
        matches = False
    if provider is None or not matches or provider.disabled_at is not None:
        raise ProviderRefused()
    return provider


# -- documents -----------------------------------------------------------------------------


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
    )


def parse_untrusted_xml(document: bytes, *, root_tag: str) -> etree._Element:
    """Parse a document from a provider, or raise :class:`InvalidRequest`.

    Capped at :data:`MAX_DOCUMENT_BYTES` before parsing; a document with a DTD (internal or
    external) is refused outright: the API's documents never need one, and refusing it is
    what rules out entity expansion ("billion laughs") and external entities whatever the
    parser's defaults.
    """
    if len(document) > MAX_DOCUMENT_BYTES:
        raise InvalidRequest(f"the document is larger than {MAX_DOCUMENT_BYTES} bytes")
    if not document.strip():
        raise InvalidRequest("the request has no document")
    try:
        root = etree.fromstring(document, _safe_parser())
    except etree.XMLSyntaxError as exc:
        raise InvalidRequest(f"not well-formed XML (line {exc.lineno})") from None
    info = root.getroottree().docinfo
    # ``doctype`` is missing from the type stubs, hence getattr.
    if info.internalDTD is not None or getattr(info, "doctype", None):
        raise InvalidRequest("a document type declaration (DTD) is not allowed")
    if root.tag != root_tag:
        raise InvalidRequest(f"expected a <{root_tag}> document")
    return root


def _validated(document: bytes, *, root_tag: str, schema_path: Path) -> etree._Element:
    """Parsed safely, then validated: the tree the parse made is the one validated (one
    parse per document; the safe parser's refusals all happen before the schema sees it)."""
    root = parse_untrusted_xml(document, root_tag=root_tag)
    _check_valid(root, root_tag=root_tag, schema_path=schema_path)
    return root


def _check_valid(root: etree._Element, *, root_tag: str, schema_path: Path) -> None:
    try:
        validate_parsed_xml(root, schema_path, root_tag=root_tag)
    except InvalidInput as exc:
        raise ValidationFailed(f"validation failed: {exc}") from None


def check_report_document(document: bytes, *, schema_path: Path) -> str:
    """A provider's ``<report>``, parsed safely and validated: the text the intake keeps.

    The one check both ways in use (``/submit`` and ``clearinghouse import``); raises
    :class:`InvalidRequest` or :class:`ValidationFailed`.
    """
    root = _validated(document, root_tag="report", schema_path=schema_path)
    return etree.tostring(root, encoding="unicode")


_PLACEHOLDER_FILE_ID = "placeholder-file-id"


def prepare_file_details(document: bytes, *, schema_path: Path) -> etree._Element:
    """A provider's ``<fileDetails>`` for a file not yet given ids (``clearinghouse import``).

    Any ``reportId``/``fileId`` it carries is replaced by placeholders of the right types and
    the result validated; :func:`details_with_ids` then puts in the ids the intake hands out,
    which cannot change its validity (``xs:long`` and ``xs:token``, both checked here).
    """
    root = parse_untrusted_xml(document, root_tag="fileDetails")
    for tag in ("reportId", "fileId"):
        for element in root.findall(tag):
            root.remove(element)
    report_element = etree.Element("reportId")
    report_element.text = "1"
    file_element = etree.Element("fileId")
    file_element.text = _PLACEHOLDER_FILE_ID
    root.insert(0, report_element)
    root.insert(1, file_element)
    _check_valid(root, root_tag="fileDetails", schema_path=schema_path)
    return root


def details_with_ids(prepared: etree._Element, *, report_id: int, file_id: str) -> str:
    """The stored ``<fileDetails>``: a :func:`prepare_file_details` result with real ids."""
    root = copy.deepcopy(prepared)
    root[0].text = str(report_id)
    root[1].text = file_id
    return etree.tostring(root, encoding="unicode")


@dataclass(frozen=True, slots=True)
class StoredBytes:
    """A received file sealed into the vault, with the digests of exactly what arrived."""

    vault_ref: str
    md5: str
    sha1: str
    size: int


IN_MEMORY_BYTES = 4 * 1024 * 1024
"""Files up to this size are hashed and sealed from memory; larger ones are spooled to disk."""


def store_received_bytes(
    chunks: Iterable[bytes], *, store: EvidenceStore, max_bytes: int
) -> StoredBytes:
    """Hash ``chunks`` (MD5, SHA-1) while receiving them, under ``max_bytes``, into the vault.

    Small files are held in memory and sealed from there; past :data:`IN_MEMORY_BYTES` the
    rest goes to a private temporary file (bounded memory) sealed once complete. Raises
    :class:`InvalidRequest` for an empty or oversized file, before anything is stored.
    """
    md5 = hashlib.md5(usedforsecurity=False)
    sha1 = hashlib.sha1(usedforsecurity=False)
    size = 0
    held = bytearray()
    with contextlib.ExitStack() as stack:
        spooled: Path | None = None
        handle: BinaryIO | None = None
        for chunk in chunks:
            size += len(chunk)
            if size > max_bytes:
                raise InvalidRequest(f"the file is larger than {max_bytes} bytes")
            md5.update(chunk)
            sha1.update(chunk)
            if handle is None and size > IN_MEMORY_BYTES:
                directory = stack.enter_context(
                    tempfile.TemporaryDirectory(prefix="brightline-intake-")
                )
                spooled = Path(directory) / "upload"
                handle = stack.enter_context(spooled.open("wb"))
                handle.write(held)
                held = bytearray()
            if handle is None:
                held += chunk
            else:
                handle.write(chunk)
        if size == 0:
            raise InvalidRequest("the file is empty")
        if handle is None or spooled is None:
            vault_ref = store.put(bytes(held))
        else:
            handle.close()
            vault_ref = store.put_file(spooled)
    return StoredBytes(vault_ref=vault_ref, md5=md5.hexdigest(), sha1=sha1.hexdigest(), size=size)


# -- the report lifecycle ------------------------------------------------------------------


def _parse_report_id(raw: str | int) -> int:
    try:
        number = int(str(raw).strip())
    except ValueError:
        raise InvalidRequest("the report id is not a number") from None
    if not 0 < number < 2**63:
        raise InvalidRequest("the report id is out of range")
    return number


_REPORT_OF_PROVIDER = select(IntakeReport).where(
    IntakeReport.id == bindparam("report_id"), IntakeReport.provider_id == bindparam("provider")
)
"""Built once: every request of a report's lifecycle runs it, and building (and cache-keying)
a fresh statement each time cost about as much as running it."""
_REPORT_OF_PROVIDER_LOCKED = _REPORT_OF_PROVIDER.with_for_update()


def _report_for(
    session: Session, provider: IntakeProvider, report_id: str | int, *, lock: bool = True
) -> IntakeReport:
    """The provider's report ``report_id``; refused unless it is still open."""
    number = _parse_report_id(report_id)
    query = _REPORT_OF_PROVIDER_LOCKED if lock else _REPORT_OF_PROVIDER
    report = session.scalar(query, {"report_id": number, "provider": provider.id})
    if report is None or report.status == IntakeStatus.EXPIRED:
        raise NoSuchReport(f"no report {number}")
    if report.status == IntakeStatus.RETRACTED:
        raise AlreadyRetracted(f"report {number} was retracted")
    if report.status == IntakeStatus.FINISHED:
        raise AlreadyFinished(f"report {number} is already finished")
    return report


def open_report(
    *,
    session: Session,
    provider: IntakeProvider,
    document: bytes,
    schema_path: Path,
    now: datetime | None = None,
) -> IntakeReport:
    """``/submit``: validate a ``<report>`` and open it; its id is the answered ``reportId``."""
    report = IntakeReport(
        provider_id=provider.id,
        status=IntakeStatus.OPEN.value,
        document=check_report_document(document, schema_path=schema_path),
        received_at=now or utcnow(),
    )
    session.add(report)
    session.flush()
    log.info("clearinghouse report %s opened by provider %s", report.id, provider.id)
    return report


def new_file_id() -> str:
    """A ``fileId``: random, so it reveals nothing of other files or reports."""
    return secrets.token_hex(16)


def new_file_row(
    *, report_id: int, stored: StoredBytes, received_at: datetime, file_id: str | None = None
) -> IntakeFile:
    return IntakeFile(
        file_id=file_id or new_file_id(),
        report_id=report_id,
        vault_ref=stored.vault_ref,
        md5=stored.md5,
        sha1=stored.sha1,
        size=stored.size,
        received_at=received_at,
    )


def attach_file(
    *,
    session: Session,
    provider: IntakeProvider,
    report_id: str | int,
    chunks: Iterable[bytes],
    store: EvidenceStore,
    max_bytes: int,
    now: datetime | None = None,
) -> ReceivedFile:
    """``/upload``: store one file of an open report in the vault, hashed while streaming.

    The report is checked before a byte is read, so nothing of an upload to an unknown,
    finished or retracted report is kept. The bytes are hashed as they arrive and sealed into
    the vault (:func:`store_received_bytes`); the MD5 answered is of exactly what arrived,
    which the sender compares with its own.
    """
    _report_for(session, provider, report_id)
    stored = store_received_bytes(chunks, store=store, max_bytes=max_bytes)
    return attach_stored_file(
        session=session, provider=provider, report_id=report_id, stored=stored, now=now
    )


def check_report_open(*, session: Session, provider: IntakeProvider, report_id: str | int) -> int:
    """The report's id if ``provider`` may still add to it, else the refusal ``/upload`` gives
    (read only: the HTTP adapter checks before receiving a byte, outside any write)."""
    return _report_for(session, provider, report_id, lock=False).id


def attach_stored_file(
    *,
    session: Session,
    provider: IntakeProvider,
    report_id: str | int,
    stored: StoredBytes,
    now: datetime | None = None,
) -> ReceivedFile:
    """Record a file already sealed into the vault (:func:`store_received_bytes`) in an open
    report, checked again here: the HTTP adapter stores the bytes between a read-only check
    (:func:`check_report_open`) and this short write, so no write transaction waits on an
    upload. A report finished or retracted meanwhile refuses it; its sealed bytes are then an
    unreferenced vault object (content-addressed, never read)."""
    report = _report_for(session, provider, report_id)
    received = new_file_row(report_id=report.id, stored=stored, received_at=now or utcnow())
    session.add(received)
    session.flush()
    log.info(
        "clearinghouse report %s: file %s received (%d bytes)", report.id, received.id, stored.size
    )
    return ReceivedFile(
        report_id=report.id,
        file_id=received.file_id,
        md5=received.md5,
        sha1=received.sha1,
        size=stored.size,
    )


_FILE_OF_REPORT = select(IntakeFile).where(
    IntakeFile.file_id == bindparam("file_id"), IntakeFile.report_id == bindparam("report_id")
)


def record_file_details(
    *,
    session: Session,
    provider: IntakeProvider,
    document: bytes,
    schema_path: Path,
    now: datetime | None = None,
) -> IntakeFile:
    """``/fileinfo``: a validated ``<fileDetails>`` for a file of an open report.

    Sending details again replaces them (a sender that lost the answer sends the same again).
    """
    root = _validated(document, root_tag="fileDetails", schema_path=schema_path)
    report = _report_for(session, provider, root.findtext("reportId") or "")
    file_id = (root.findtext("fileId") or "").strip()
    received = session.scalar(_FILE_OF_REPORT, {"file_id": file_id, "report_id": report.id})
    if received is None:
        raise NoSuchFile(f"no such file in report {report.id}")
    received.details = etree.tostring(root, encoding="unicode")
    received.details_at = now or utcnow()
    session.flush()
    return received


def finish_report(
    *,
    session: Session,
    provider: IntakeProvider,
    report_id: str | int,
    now: datetime | None = None,
) -> IntakeReport:
    """``/finish``: the report is complete. A second finish answers "already finished"
    (:class:`AlreadyFinished`), which senders take as success."""
    report = _report_for(session, provider, report_id)
    report.status = IntakeStatus.FINISHED.value
    report.finished_at = now or utcnow()
    session.flush()
    log.info("clearinghouse report %s finished", report.id)
    return report


def retract_report(
    *,
    session: Session,
    provider: IntakeProvider,
    report_id: str | int,
    now: datetime | None = None,
) -> IntakeReport:
    """``/retract``: cancel an unfinished report; it will never reach the analysts."""
    report = _report_for(session, provider, report_id)
    report.status = IntakeStatus.RETRACTED.value
    report.retracted_at = now or utcnow()
    session.flush()
    log.info("clearinghouse report %s retracted", report.id)
    return report


def expire_unfinished(
    *,
    session: Session,
    older_than: timedelta = DEFAULT_EXPIRY,
    now: datetime | None = None,
) -> int:
    """Expire open reports received more than ``older_than`` ago; how many expired.

    A sender that crashed mid-report starts a new one (docs/cybertipline-submission.md), so an
    open report nobody finished is abandoned; expired reports answer "no such report".
    """
    if older_than <= timedelta(0):
        raise InvalidInput("the expiry age must be positive")
    moment = now or utcnow()
    result = session.execute(
        update(IntakeReport)
        .where(
            IntakeReport.status == IntakeStatus.OPEN.value,
            IntakeReport.received_at < moment - older_than,
        )
        .values(status=IntakeStatus.EXPIRED.value, expired_at=moment),
        execution_options={"synchronize_session": False},
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        log.info("%d unfinished clearinghouse reports expired", count)
    return count


def report_files(*, session: Session, report_id: int) -> list[IntakeFile]:
    """The files received for a report, in the order they arrived."""
    return list(
        session.scalars(
            select(IntakeFile).where(IntakeFile.report_id == report_id).order_by(IntakeFile.id)
        )
    )


__all__ = [
    "DEFAULT_EXPIRY",
    "IN_MEMORY_BYTES",
    "MAX_DOCUMENT_BYTES",
    "AlreadyFinished",
    "AlreadyRetracted",
    "InvalidRequest",
    "NoSuchFile",
    "NoSuchReport",
    "ProviderRefused",
    "ReceivedFile",
    "ResponseCode",
    "StoredBytes",
    "ValidationFailed",
    "attach_file",
    "attach_stored_file",
    "authenticate_provider",
    "check_provider_name",
    "check_report_document",
    "check_report_open",
    "details_with_ids",
    "expire_unfinished",
    "finish_report",
    "list_providers",
    "new_file_id",
    "new_file_row",
    "open_report",
    "parse_untrusted_xml",
    "prepare_file_details",
    "record_file_details",
    "register_provider",
    "report_files",
    "response_code_for",
    "retract_report",
    "store_received_bytes",
]
