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
from typing import ClassVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from lxml import etree
from sqlalchemy import select, update
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
from brightline.reports.report_xml import validate_file_details_xml, validate_report_xml
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
    root = parse_untrusted_xml(document, root_tag=root_tag)
    validate = validate_report_xml if root_tag == "report" else validate_file_details_xml
    try:
        validate(document, schema_path)
    except InvalidInput as exc:
        raise ValidationFailed(f"validation failed: {exc}") from None
    return root


# -- the report lifecycle ------------------------------------------------------------------


def _parse_report_id(raw: str | int) -> int:
    try:
        number = int(str(raw).strip())
    except ValueError:
        raise InvalidRequest("the report id is not a number") from None
    if not 0 < number < 2**63:
        raise InvalidRequest("the report id is out of range")
    return number


def _report_for(
    session: Session, provider: IntakeProvider, report_id: str | int, *, lock: bool = True
) -> IntakeReport:
    """The provider's report ``report_id``; refused unless it is still open."""
    number = _parse_report_id(report_id)
    query = select(IntakeReport).where(
        IntakeReport.id == number, IntakeReport.provider_id == provider.id
    )
    if lock:
        query = query.with_for_update()
    report = session.scalar(query)
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
    root = _validated(document, root_tag="report", schema_path=schema_path)
    report = IntakeReport(
        provider_id=provider.id,
        status=IntakeStatus.OPEN.value,
        document=etree.tostring(root, encoding="unicode"),
        received_at=now or utcnow(),
    )
    session.add(report)
    session.flush()
    log.info("clearinghouse report %s opened by provider %s", report.id, provider.id)
    return report


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
    finished or retracted report is kept. The bytes are spooled to a private temporary file
    (bounded memory, ``max_bytes`` at most) and then sealed into the vault; the MD5 answered
    is of exactly what arrived, which the sender compares with its own.
    """
    report = _report_for(session, provider, report_id)
    md5 = hashlib.md5(usedforsecurity=False)
    sha1 = hashlib.sha1(usedforsecurity=False)
    size = 0
    with tempfile.TemporaryDirectory(prefix="brightline-intake-") as directory:
        spooled = Path(directory) / "upload"
        with spooled.open("wb") as handle:
            for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise InvalidRequest(f"the file is larger than {max_bytes} bytes")
                md5.update(chunk)
                sha1.update(chunk)
                handle.write(chunk)
        if size == 0:
            raise InvalidRequest("the file is empty")
        vault_ref = store.put_file(spooled)
    received = IntakeFile(
        file_id=secrets.token_hex(16),
        report_id=report.id,
        vault_ref=vault_ref,
        md5=md5.hexdigest(),
        sha1=sha1.hexdigest(),
        size=size,
        received_at=now or utcnow(),
    )
    session.add(received)
    session.flush()
    log.info("clearinghouse report %s: file %s received (%d bytes)", report.id, received.id, size)
    return ReceivedFile(
        report_id=report.id,
        file_id=received.file_id,
        md5=received.md5,
        sha1=received.sha1,
        size=size,
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
    received = session.scalar(
        select(IntakeFile).where(IntakeFile.file_id == file_id, IntakeFile.report_id == report.id)
    )
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
    "MAX_DOCUMENT_BYTES",
    "AlreadyFinished",
    "AlreadyRetracted",
    "InvalidRequest",
    "NoSuchFile",
    "NoSuchReport",
    "ProviderRefused",
    "ReceivedFile",
    "ResponseCode",
    "ValidationFailed",
    "attach_file",
    "authenticate_provider",
    "check_provider_name",
    "expire_unfinished",
    "finish_report",
    "list_providers",
    "open_report",
    "parse_untrusted_xml",
    "record_file_details",
    "register_provider",
    "report_files",
    "response_code_for",
    "retract_report",
]
