"""CyberTipline ``<report>`` and ``<fileDetails>`` XML ↔ :class:`IncomingReport`.

**Reading** (:func:`parse_report_xml`) takes the ``<report>`` document a provider submitted, the
``<fileDetails>`` documents of its files, and what the intake itself knows (the clearinghouse's
report id, the provider, the time received). It keeps what analysis needs and ignores the rest.
It is strict about what it keeps (a bad timestamp, an unknown annotation, a malformed address or
digest is refused with :class:`~brightline.errors.InvalidInput` naming the element path, never
the value) but does not check the schema's element order: the intake validates documents against
the XSD when the deployment holds one (``brightline.reports.validate_report_xml``).

Parsing is hardened against hostile input: no DTDs (a document declaring one is refused before
anything in it is used, which rules out entity expansion bombs and external entities), no
network, no huge-tree mode, and a size cap.

**Writing** (:func:`report_xml`, :func:`file_details_xml`) produces schema-valid documents in the
schema's sequence order, for the synthetic generator and for tests; ``parse(write(r)) == r`` for
every report the writer accepts.

Where the schema has no element for something the model holds, Brightline uses a documented
convention (read and written alike):

* **Payment handles** are ``associatedAccount type="Billing"`` with the payment service in
  ``platform`` and the handle in ``espIdentifier`` (or ``screenName``).
* **Wallet addresses** are ``associatedAccount type="Billing"`` whose ``platform`` is
  ``cryptocurrency``, with the address in ``espIdentifier``.
* **Screen names on other services** are ``associatedAccount type="Linked"`` (``espService`` and
  ``screenName``): the provider says these accounts belong to the same user.
* **The PDQ hash** of a file is ``details type="HASH"`` with a ``nameValuePair`` named ``PDQ``
  (and optionally ``PDQ_QUALITY``); ``originalFileHash hashType="PDQ"`` is also read.
* **Times without an offset** (``xs:dateTime`` allows them) are read as UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final, TypeVar

from lxml import etree

from brightline.clearinghouse.model import (
    CaptureEvent,
    Classification,
    DeviceId,
    EstimatedLocation,
    FileAnnotation,
    IncidentType,
    IncomingReport,
    IpEvent,
    PaymentHandle,
    ReportAnnotation,
    ReportedFile,
    ReportedPerson,
    ScreenName,
    Victim,
)
from brightline.errors import InvalidInput

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "file_details_xml",
    "parse_report_xml",
    "report_xml",
]

MAX_DOCUMENT_BYTES: Final = 4 * 1024 * 1024
"""A ``<report>`` is a few kilobytes; anything this large is refused unread."""

_E = TypeVar("_E", bound=StrEnum)
_F = TypeVar("_F", bound=StrEnum)
_T = TypeVar("_T")

WALLET_PLATFORM: Final = "cryptocurrency"
_BATCH_REASON: Final = "VIRAL_POTENTIAL_MEME"
_PARENT_GUARDIAN: Final = "Parent/Guardian"


# ------------------------------------------------------------------------------------ reading


def _safe_root(document: bytes, what: str, max_bytes: int) -> etree._Element:
    if not isinstance(document, bytes):
        raise InvalidInput(f"{what}: expected bytes")
    if len(document) > max_bytes:
        raise InvalidInput(f"{what}: larger than {max_bytes} bytes")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError as exc:
        raise InvalidInput(f"{what}: not well-formed XML (line {exc.lineno})") from None
    docinfo = root.getroottree().docinfo
    doctype: object = getattr(docinfo, "doctype", "")  # missing from lxml-stubs
    if doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise InvalidInput(f"{what}: DTDs and entity declarations are not allowed")
    return root


def _local(element: etree._Element) -> str:
    return str(element.tag).rsplit("}", 1)[-1]


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in element if isinstance(c.tag, str) and _local(c) == name]


def _child(element: etree._Element, name: str, path: str) -> etree._Element | None:
    found = _children(element, name)
    if len(found) > 1:
        raise InvalidInput(f"{path}/{name}: appears more than once")
    return found[0] if found else None


def _text_of(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    text = (element.text or "").strip()
    return text or None


def _child_text(element: etree._Element, name: str, path: str) -> str | None:
    return _text_of(_child(element, name, path))


def _texts_of(element: etree._Element, name: str) -> tuple[str, ...]:
    return tuple(t for t in (_text_of(c) for c in _children(element, name)) if t is not None)


def _parse_time(value: str, path: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{path}: not an xs:dateTime") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _child_time(element: etree._Element, name: str, path: str) -> datetime | None:
    text = _child_text(element, name, path)
    return None if text is None else _parse_time(text, f"{path}/{name}")


def _parse_bool(value: str | None, path: str) -> bool | None:
    if value is None:
        return None
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise InvalidInput(f"{path}: not an xs:boolean")


def _choice(kind: type[_E], value: str, path: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(f"{path}: not one of the schema's values") from None


def _model(path: str, build: Callable[..., _T], **fields: object) -> _T:
    """Make a model object; prefix its refusal with the element path."""
    try:
        return build(**fields)
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc}") from None


def _flags(element: etree._Element | None, kind: type[_F], path: str) -> frozenset[_F]:
    if element is None:
        return frozenset()
    found: set[_F] = set()
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = _local(child)
        try:
            member = kind(name)
        except ValueError:
            raise InvalidInput(f"{path}/{name}: not one of the schema's annotations") from None
        if _parse_bool(_text_of(child) or "true", f"{path}/{name}"):
            found.add(member)
    return frozenset(found)


def _location(element: etree._Element | None, path: str) -> EstimatedLocation | None:
    if element is None:
        return None
    verified = _parse_bool(element.get("verified"), f"{path}/@verified")
    return _model(
        path,
        EstimatedLocation,
        country_code=_child_text(element, "countryCode", path),
        region=_child_text(element, "region", path),
        city=_child_text(element, "city", path),
        verified=verified,
    )


def _ip_event(element: etree._Element, path: str) -> IpEvent:
    address = _child_text(element, "ipAddress", path)
    if address is None:
        raise InvalidInput(f"{path}/ipAddress: required")
    event = _child_text(element, "eventName", path)
    return _model(
        path,
        IpEvent,
        ip=address,
        at=_child_time(element, "dateTime", path),
        event=None if event is None else _choice(CaptureEvent, event, f"{path}/eventName"),
        possible_proxy=_parse_bool(
            _child_text(element, "possibleProxy", path), f"{path}/possibleProxy"
        ),
    )


def _device_id(element: etree._Element, path: str) -> DeviceId:
    return _model(
        path,
        DeviceId,
        id_type=_child_text(element, "idType", path),
        value=_child_text(element, "idValue", path),
    )


def _phone(element: etree._Element) -> str | None:
    number = _text_of(element)
    code = (element.get("countryCallingCode") or "").strip()
    if number is not None and code and not number.startswith("+"):
        return f"{code} {number}"
    return number


class _PersonParts:
    """What the associated accounts of one person add to it."""

    def __init__(self) -> None:
        self.screen_names: list[ScreenName] = []
        self.emails: list[str] = []
        self.phones: list[str] = []
        self.payment_handles: list[PaymentHandle] = []
        self.wallets: list[str] = []
        self.parent_guardian = False


def _associated(element: etree._Element, path: str, parts: _PersonParts) -> None:
    kind = element.get("type")
    platform = _child_text(element, "platform", path)
    identifier = _child_text(element, "espIdentifier", path)
    screen_name = _child_text(element, "screenName", path)
    if kind == _PARENT_GUARDIAN:
        parts.parent_guardian = True
    elif kind == "Billing" and platform is not None:
        handle = identifier or screen_name
        if handle is None:
            return
        if platform.casefold() == WALLET_PLATFORM:
            parts.wallets.append(handle)
        else:
            parts.payment_handles.append(
                _model(path, PaymentHandle, service=platform, handle=handle)
            )
    elif kind == "Linked":
        # Another account of the same user: its identifiers are the user's.
        service = _child_text(element, "espService", path) or platform
        if service is not None and screen_name is not None:
            parts.screen_names.append(_model(path, ScreenName, service=service, name=screen_name))
        parts.emails.extend(_texts_of(element, "email"))
        parts.phones.extend(p for p in map(_phone, _children(element, "phone")) if p)


def _person(element: etree._Element, path: str, default_service: str) -> ReportedPerson:
    parts = _PersonParts()
    person = _child(element, "personOrUserReportedPerson", path)
    emails: list[str] = []
    phones: list[str] = []
    if person is not None:
        emails.extend(_texts_of(person, "email"))
        phones.extend(p for p in map(_phone, _children(person, "phone")) if p)
    esp_service = _child_text(element, "espService", path)
    own_name = _child_text(element, "screenName", path)
    screen_names = []
    if own_name is not None:
        screen_names.append(
            _model(path, ScreenName, service=esp_service or default_service, name=own_name)
        )
    for i, account in enumerate(_children(element, "associatedAccount")):
        _associated(account, f"{path}/associatedAccount[{i + 1}]", parts)
    prior = _texts_of(element, "priorCTReports")
    return _model(
        path,
        ReportedPerson,
        esp_identifier=_child_text(element, "espIdentifier", path),
        esp_service=esp_service,
        screen_names=tuple(screen_names + parts.screen_names),
        emails=tuple(emails + parts.emails),
        phones=tuple(phones + parts.phones),
        ip_events=tuple(
            _ip_event(e, f"{path}/ipCaptureEvent[{i + 1}]")
            for i, e in enumerate(_children(element, "ipCaptureEvent"))
        ),
        device_ids=tuple(
            _device_id(e, f"{path}/deviceId[{i + 1}]")
            for i, e in enumerate(_children(element, "deviceId"))
        ),
        payment_handles=tuple(parts.payment_handles),
        wallet_addresses=tuple(parts.wallets),
        prior_report_ids=prior,
        estimated_location=_location(
            _child(element, "estimatedLocation", path), f"{path}/estimatedLocation"
        ),
        parent_guardian_account=parts.parent_guardian,
    )


def _victim(element: etree._Element, path: str) -> Victim:
    person = _child(element, "victimPerson", path)
    age: int | None = None
    if person is not None:
        text = _child_text(person, "age", f"{path}/victimPerson")
        if text is not None:
            try:
                age = int(text)
            except ValueError:
                raise InvalidInput(f"{path}/victimPerson/age: not an xs:int") from None
    return _model(
        path,
        Victim,
        age=age,
        estimated_location=_location(
            _child(element, "estimatedLocation", path), f"{path}/estimatedLocation"
        ),
    )


def _file(root: etree._Element, path: str, index: int, report_id: str) -> ReportedFile:
    if _local(root) != "fileDetails":
        raise InvalidInput(f"{path}: expected a <fileDetails> document")
    stated = _child_text(root, "reportId", path)
    if stated is not None and stated != report_id:
        raise InvalidInput(f"{path}/reportId: not this report's id")
    hashes: dict[str, str] = {}
    for i, element in enumerate(_children(root, "originalFileHash")):
        kind = (element.get("hashType") or "").strip().upper().replace("-", "")
        value = _text_of(element)
        if value is not None and kind in ("MD5", "SHA1", "PDQ"):
            if kind in hashes:
                raise InvalidInput(f"{path}/originalFileHash[{i + 1}]: a second {kind}")
            hashes[kind] = value
    quality: int | None = None
    for details in _children(root, "details"):
        if details.get("type") != "HASH":
            continue
        for pair in _children(details, "nameValuePair"):
            name = (_child_text(pair, "name", path) or "").upper()
            value = _child_text(pair, "value", path)
            if value is None:
                continue
            if name == "PDQ":
                hashes.setdefault("PDQ", value)
            elif name == "PDQ_QUALITY":
                try:
                    quality = int(value)
                except ValueError:
                    raise InvalidInput(f"{path}/details: PDQ_QUALITY is not an integer") from None
    annotations = _flags(
        _child(root, "fileAnnotations", path), FileAnnotation, f"{path}/fileAnnotations"
    )
    if _parse_bool(_child_text(root, "potentialMeme", path), f"{path}/potentialMeme"):
        annotations = annotations | {FileAnnotation.POTENTIAL_MEME}
    classification = _child_text(root, "industryClassification", path)
    return _model(
        path,
        ReportedFile,
        file_id=_child_text(root, "fileId", path) or f"file-{index + 1}",
        md5=hashes.get("MD5"),
        sha1=hashes.get("SHA1"),
        pdq=hashes.get("PDQ"),
        pdq_quality=quality,
        annotations=annotations,
        classification=None
        if classification is None
        else _choice(Classification, classification, f"{path}/industryClassification"),
        uploaded_at=_child_time(root, "uploadedToEspTimestamp", path),
    )


def parse_report_xml(
    document: bytes,
    *,
    report_id: str,
    provider: str,
    received_at: datetime,
    file_details: Sequence[bytes] = (),
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> IncomingReport:
    """Read a ``<report>`` and its files' ``<fileDetails>`` into an :class:`IncomingReport`.

    ``report_id``, ``provider`` and ``received_at`` come from the intake, not the document. A
    ``<fileDetails>`` that names another report id is refused; one without a ``fileId`` gets
    ``file-<n>`` (its position). The screen name of a person without an ``espService`` is taken
    to be on the report's ``platform``, or else on the provider.
    """
    root = _safe_root(document, "report", max_bytes)
    if _local(root) != "report":
        raise InvalidInput("expected a <report> document")
    path = "report"
    summary = _child(root, "incidentSummary", path)
    if summary is None:
        raise InvalidInput("report/incidentSummary: required")
    spath = f"{path}/incidentSummary"
    kind = _child_text(summary, "incidentType", spath)
    if kind is None:
        raise InvalidInput(f"{spath}/incidentType: required")
    incident_at = _child_time(summary, "incidentDateTime", spath)
    if incident_at is None:
        raise InvalidInput(f"{spath}/incidentDateTime: required")
    batched = _child(root, "batchedReport", path)
    if batched is not None and batched.get("reason") != _BATCH_REASON:
        raise InvalidInput(f"{path}/batchedReport/@reason: not one of the schema's values")
    platform = _child_text(summary, "platform", spath)
    default_service = platform or provider
    files = []
    for i, doc in enumerate(file_details):
        fpath = f"fileDetails[{i + 1}]"
        files.append(_file(_safe_root(doc, fpath, max_bytes), fpath, i, report_id))
    return _model(
        path,
        IncomingReport,
        report_id=report_id,
        provider=provider,
        incident_type=_choice(IncidentType, kind, f"{spath}/incidentType"),
        incident_at=incident_at,
        received_at=received_at,
        escalation=_child_text(summary, "escalateToHighPriority", spath),
        report_annotations=_flags(
            _child(summary, "reportAnnotations", spath),
            ReportAnnotation,
            f"{spath}/reportAnnotations",
        ),
        batched=batched is not None,
        persons=tuple(
            _person(e, f"{path}/personOrUserReported[{i + 1}]", default_service)
            for i, e in enumerate(_children(root, "personOrUserReported"))
        ),
        victims=tuple(
            _victim(e, f"{path}/victim[{i + 1}]") for i, e in enumerate(_children(root, "victim"))
        ),
        files=tuple(files),
    )


# ------------------------------------------------------------------------------------ writing


def _add(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, tag)
    if text is not None:
        child.text = text
    return child


def _opt(parent: etree._Element, tag: str, text: str | None) -> None:
    if text is not None:
        _add(parent, tag, text)


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _write_location(parent: etree._Element, loc: EstimatedLocation | None) -> None:
    if loc is None:
        return
    element = _add(parent, "estimatedLocation")
    if loc.verified is not None:
        element.set("verified", _bool(loc.verified))
    _opt(element, "city", loc.city)
    _opt(element, "region", loc.region)
    _opt(element, "countryCode", loc.country_code)


def _write_ip(parent: etree._Element, event: IpEvent) -> None:
    element = _add(parent, "ipCaptureEvent")
    _add(element, "ipAddress", event.ip)
    _opt(element, "eventName", None if event.event is None else event.event.value)
    _opt(element, "dateTime", None if event.at is None else _time(event.at))
    _opt(
        element,
        "possibleProxy",
        None if event.possible_proxy is None else _bool(event.possible_proxy),
    )


def _long(value: str, what: str) -> str:
    if not value.isascii() or not value.isdigit() or not 0 < int(value) < 2**63:
        raise InvalidInput(f"{what} must be a positive number to be written as xs:long")
    return str(int(value))


def _write_person(parent: etree._Element, person: ReportedPerson, provider: str) -> None:
    element = _add(parent, "personOrUserReported")
    if person.emails or person.phones:
        details = _add(element, "personOrUserReportedPerson")
        for phone in person.phones:
            _add(details, "phone", phone)
        for email in person.emails:
            _add(details, "email", email)
    _opt(element, "espIdentifier", person.esp_identifier)
    _opt(element, "espService", person.esp_service)
    own_service = person.esp_service or provider
    own = next((s for s in person.screen_names if s.service == own_service), None)
    if own is not None:
        _add(element, "screenName", own.name)
    for event in person.ip_events:
        _write_ip(element, event)
    for device in person.device_ids:
        device_element = _add(element, "deviceId")
        _add(device_element, "idType", device.id_type)
        _add(device_element, "idValue", device.value)
    for prior in person.prior_report_ids:
        _add(element, "priorCTReports", _long(prior, "a prior report id"))
    _write_location(element, person.estimated_location)
    for name in person.screen_names:
        if name is own:
            continue
        account = _add(element, "associatedAccount")
        account.set("type", "Linked")
        _add(account, "espService", name.service)
        _add(account, "screenName", name.name)
    for handle in person.payment_handles:
        if handle.service.casefold() == WALLET_PLATFORM:
            raise InvalidInput(f"a payment service cannot be named {WALLET_PLATFORM!r}")
        account = _add(element, "associatedAccount")
        account.set("type", "Billing")
        _add(account, "platform", handle.service)
        _add(account, "espIdentifier", handle.handle)
    for wallet in person.wallet_addresses:
        account = _add(element, "associatedAccount")
        account.set("type", "Billing")
        _add(account, "platform", WALLET_PLATFORM)
        _add(account, "espIdentifier", wallet)
    if person.parent_guardian_account:
        _add(element, "associatedAccount").set("type", _PARENT_GUARDIAN)


def _unencodable() -> InvalidInput:
    return InvalidInput("the report holds text XML cannot carry (control characters)")


def report_xml(report: IncomingReport, *, reporter_email: str | None = None) -> bytes:
    """A schema-valid ``<report>`` for ``report`` (UTF-8 with an XML declaration).

    The schema requires a ``reporter``; the model does not keep one, so a placeholder contact
    (``reporter_email``, default ``reports@<provider>.example.org``) is written.
    """
    try:
        return _report_xml(report, reporter_email)
    except ValueError:  # lxml refuses control characters and lone surrogates
        raise _unencodable() from None


def _report_xml(report: IncomingReport, reporter_email: str | None) -> bytes:
    root = etree.Element("report")
    if report.batched:
        _add(root, "batchedReport").set("reason", _BATCH_REASON)
    summary = _add(root, "incidentSummary")
    _add(summary, "incidentType", report.incident_type.value)
    _opt(summary, "escalateToHighPriority", report.escalation)
    if report.report_annotations:
        annotations = _add(summary, "reportAnnotations")
        for annotation in ReportAnnotation:
            if annotation in report.report_annotations:
                _add(annotations, annotation.value, "true")
    _add(summary, "incidentDateTime", _time(report.incident_at))
    reporter = _add(root, "reporter")
    person = _add(reporter, "reportingPerson")
    email = reporter_email or f"reports@{report.provider}.example.org"
    _add(person, "email", email).set("type", "Business")
    for reported in report.persons:
        _write_person(root, reported, report.provider)
    for victim in report.victims:
        element = _add(root, "victim")
        victim_person = _add(element, "victimPerson")
        if victim.age is not None:
            _add(victim_person, "age", str(victim.age))
        _write_location(element, victim.estimated_location)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def file_details_xml(report: IncomingReport, file: ReportedFile) -> bytes:
    """A schema-valid ``<fileDetails>`` for one file of ``report`` (report id as ``xs:long``)."""
    try:
        return _file_details_xml(report, file)
    except ValueError:
        raise _unencodable() from None


def _file_details_xml(report: IncomingReport, file: ReportedFile) -> bytes:
    root = etree.Element("fileDetails")
    _add(root, "reportId", _long(report.report_id, "the report id"))
    if " ".join(file.file_id.split()) != file.file_id:
        raise InvalidInput("a file id written as xs:token must not hold runs of whitespace")
    _add(root, "fileId", file.file_id)
    _opt(
        root,
        "uploadedToEspTimestamp",
        None if file.uploaded_at is None else _time(file.uploaded_at),
    )
    if file.annotations:
        annotations = _add(root, "fileAnnotations")
        for annotation in FileAnnotation:
            if annotation in file.annotations:
                _add(annotations, annotation.value, "true")
    _opt(
        root,
        "industryClassification",
        None if file.classification is None else file.classification.value,
    )
    for kind, value in (("MD5", file.md5), ("SHA1", file.sha1)):
        if value is not None:
            _add(root, "originalFileHash", value).set("hashType", kind)
    if file.pdq is not None:
        details = _add(root, "details")
        details.set("type", "HASH")
        pairs: Iterable[tuple[str, str]] = [("PDQ", file.pdq)]
        if file.pdq_quality is not None:
            pairs = [*pairs, ("PDQ_QUALITY", str(file.pdq_quality))]
        for name, value in pairs:
            pair = _add(details, "nameValuePair")
            _add(pair, "name", name)
            _add(pair, "value", value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
