"""The CyberTipline XML documents: ``<report>`` and ``<fileDetails>``, in the schema's order.

Brightline's own model of the format (element names and order from the documented schema) is
the source of truth for building; the XSD itself is not shipped with Brightline (its reference
copy may not be redistributed), so :func:`validate_report_xml` and
:func:`validate_file_details_xml` take the path of a copy the deployment holds (setting
``BRIGHTLINE_REPORTER_SCHEMA_PATH``); the tests validate every document against the reference
copy.

The schema's sequences are strict: an element out of order makes the whole report invalid, so
each builder below appends children in exactly the schema's sequence and leaves out what is not
known (never an empty or guessed element).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from lxml import etree

from brightline.errors import InvalidInput
from brightline.reports.checks import xml_boolean, xml_datetime
from brightline.reports.context import (
    AccountDisabled,
    CellPhoneIncident,
    ChatImIncident,
    DeviceId,
    EmailIncident,
    IncidentType,
    InternetDetails,
    IpCaptureEvent,
    NewsgroupIncident,
    NonInternetIncident,
    OnlineGamingIncident,
    Party,
    PeerToPeerIncident,
    PersonDetails,
    ReportAnnotation,
    WebPageIncident,
)
from brightline.review.models import FileAnnotation
from brightline.settings import ReporterSettings

_XS_LONG_MAX = 2**63 - 1


@dataclass(frozen=True, slots=True)
class ReportedUser:
    """The ``personOrUserReported`` section, gathered from the subject and the context."""

    esp_identifier: str
    esp_service: str
    screen_name: str | None
    display_name: str | None
    profile_url: str | None
    person: PersonDetails | None
    ip_capture_events: tuple[IpCaptureEvent, ...]
    device_ids: tuple[DeviceId, ...]
    prior_report_ids: tuple[int, ...]
    temporarily_disabled: AccountDisabled | None
    permanently_disabled: AccountDisabled | None


@dataclass(frozen=True, slots=True)
class FileFacts:
    """Everything one ``<fileDetails>`` says, apart from the ids the clearinghouse assigns."""

    uploaded_at: datetime
    viewed_by_esp: bool
    md5: str
    sha1: str
    original_file_name: str | None = None
    location_url: str | None = None
    exif_viewed: bool | None = None
    publicly_available: bool | None = None
    annotations: tuple[FileAnnotation, ...] = ()
    classification: str | None = None
    upload_ip: IpCaptureEvent | None = None
    upload_device_ids: tuple[DeviceId, ...] = ()


def _add(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, tag)
    if text is not None:
        child.text = text
    return child


def _add_optional(parent: etree._Element, tag: str, text: str | None) -> None:
    if text is not None:
        _add(parent, tag, text)


def _add_flag(parent: etree._Element, tag: str, value: bool | None) -> None:
    if value is not None:
        _add(parent, tag, xml_boolean(value))


def _person(parent: etree._Element, tag: str, person: PersonDetails) -> None:
    """The schema's ``person`` type: firstName, lastName, phone*, email*, address*, age, dob."""
    element = _add(parent, tag)
    _add_optional(element, "firstName", person.first_name)
    _add_optional(element, "lastName", person.last_name)
    for phone in person.phones:
        _add(element, "phone", phone)
    for email in person.emails:
        _add(element, "email", email)
    if person.age is not None:
        _add(element, "age", str(person.age))
    if person.date_of_birth is not None:
        _add(element, "dateOfBirth", _xml_date(person.date_of_birth))


def _xml_date(value: date) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def _ip_capture_event(parent: etree._Element, event: IpCaptureEvent) -> None:
    element = _add(parent, "ipCaptureEvent")
    _add(element, "ipAddress", event.ip_address)
    _add_optional(element, "eventName", event.event.value if event.event else None)
    _add_optional(element, "dateTime", xml_datetime(event.at) if event.at else None)
    _add_flag(element, "possibleProxy", event.possible_proxy)
    _add_optional(element, "port", None if event.port is None else str(event.port))


def _device_id(parent: etree._Element, device: DeviceId) -> None:
    element = _add(parent, "deviceId")
    _add(element, "idType", device.id_type)
    _add(element, "idValue", device.id_value)
    _add_optional(element, "eventName", device.event.value if device.event else None)
    _add_optional(element, "dateTime", xml_datetime(device.at) if device.at else None)


def _account_disabled(
    parent: etree._Element, tag: str, disabled: AccountDisabled | None, *, temporary: bool
) -> None:
    if disabled is None:
        return
    element = _add(parent, tag, "true")
    if disabled.disabled_at is not None:
        element.set("disabledDate", xml_datetime(disabled.disabled_at))
    if disabled.user_notified is not None:
        element.set("userNotified", xml_boolean(disabled.user_notified))
    if disabled.user_notified_at is not None:
        element.set("userNotifiedDate", xml_datetime(disabled.user_notified_at))
    if temporary and disabled.reenabled_at is not None:
        element.set("reenabledDate", xml_datetime(disabled.reenabled_at))


def _content_and_info(element: etree._Element, content: str | None, info: str | None) -> None:
    _add_optional(element, "content", content)
    _add_optional(element, "additionalInfo", info)


def _internet_details(parent: etree._Element, details: InternetDetails) -> None:
    wrapper = _add(parent, "internetDetails")
    match details:
        case WebPageIncident():
            element = _add(wrapper, "webPageIncident")
            if details.third_party_hosted is not None:
                element.set("thirdPartyHostedContent", xml_boolean(details.third_party_hosted))
            for url in details.urls:
                _add(element, "url", url)
            _add_optional(element, "additionalInfo", details.additional_info)
        case EmailIncident():
            element = _add(wrapper, "emailIncident")
            for address in details.email_addresses:
                _add(element, "emailAddress", address)
            _content_and_info(element, details.content, details.additional_info)
        case NewsgroupIncident():
            element = _add(wrapper, "newsgroupIncident")
            _add_optional(element, "name", details.name)
            for address in details.email_addresses:
                _add(element, "emailAddress", address)
            _content_and_info(element, details.content, details.additional_info)
        case ChatImIncident():
            element = _add(wrapper, "chatImIncident")
            _add_optional(element, "chatClient", details.chat_client)
            _add_optional(element, "chatRoomName", details.chat_room_name)
            _content_and_info(element, details.content, details.additional_info)
        case OnlineGamingIncident():
            element = _add(wrapper, "onlineGamingIncident")
            _add_optional(element, "gameName", details.game_name)
            _add_optional(element, "console", details.console)
            _content_and_info(element, details.content, details.additional_info)
        case CellPhoneIncident():
            element = _add(wrapper, "cellPhoneIncident")
            _add_optional(element, "phoneNumber", details.phone_number)
            for tag, value in (("latitude", details.latitude), ("longitude", details.longitude)):
                _add_optional(element, tag, None if value is None else repr(float(value)))
            _add_optional(element, "additionalInfo", details.additional_info)
        case NonInternetIncident():
            element = _add(wrapper, "nonInternetIncident")
            _add_optional(element, "locationName", details.location_name)
            _add_optional(element, "additionalInfo", details.additional_info)
        case PeerToPeerIncident():
            element = _add(wrapper, "peer2peerIncident")
            _add_optional(element, "client", details.client)
            for event in details.ip_capture_events:
                _ip_capture_event(element, event)
            _add_optional(element, "fileNames", details.file_names)
            _add_optional(element, "additionalInfo", details.additional_info)


def company_template(reporter: ReporterSettings) -> str | None:
    """``companyTemplate``: the company's name, then its standing text.

    The schema has no element for the reporting company's name, and a report read on its own
    (printed, forwarded to an agency) should still say who filed it; the name is left off only
    when the standing text already starts with it.
    """
    name, template = reporter.company_name, reporter.company_template
    if name is None:
        return template
    if template is None:
        return name
    return template if template.startswith(name) else f"{name}\n\n{template}"


def _reporter(parent: etree._Element, reporter: ReporterSettings) -> None:
    element = _add(parent, "reporter")
    person = _add(element, "reportingPerson")
    _add_optional(person, "firstName", reporter.contact_first_name)
    _add_optional(person, "lastName", reporter.contact_last_name)
    if reporter.contact_phone is not None:
        _add(person, "phone", reporter.contact_phone).set("type", "Business")
    if reporter.contact_email is not None:
        _add(person, "email", reporter.contact_email).set("type", "Business")
    _add_optional(element, "companyTemplate", company_template(reporter))
    _add_optional(element, "termsOfService", reporter.terms_of_service_url)
    _add_optional(element, "legalURL", reporter.legal_url)


def _reported_user(parent: etree._Element, user: ReportedUser) -> None:
    element = _add(parent, "personOrUserReported")
    if user.person is not None and not user.person.empty:
        _person(element, "personOrUserReportedPerson", user.person)
    _add(element, "espIdentifier", user.esp_identifier)
    _add(element, "espService", user.esp_service)
    _add_optional(element, "screenName", user.screen_name)
    _add_optional(element, "displayName", user.display_name)
    _add_optional(element, "profileUrl", user.profile_url)
    for event in user.ip_capture_events:
        _ip_capture_event(element, event)
    for device in user.device_ids:
        _device_id(element, device)
    for prior in user.prior_report_ids:
        _add(element, "priorCTReports", str(prior))
    _account_disabled(
        element, "accountTemporarilyDisabled", user.temporarily_disabled, temporary=True
    )
    _account_disabled(
        element, "accountPermanentlyDisabled", user.permanently_disabled, temporary=False
    )


def _party(parent: etree._Element, tag: str, person_tag: str, party: Party) -> None:
    """``victim`` and ``intendedRecipient`` share this prefix of their sequences.

    The person element comes first in both; it is required in ``victim`` (and may be empty),
    optional in ``intendedRecipient`` (left out when nothing about the person is known).
    """
    element = _add(parent, tag)
    if tag == "victim" or not party.person.empty:
        _person(element, person_tag, party.person)
    _add_optional(element, "espIdentifier", party.esp_identifier)
    _add_optional(element, "espService", party.esp_service)
    _add_optional(element, "screenName", party.screen_name)
    _add_optional(element, "displayName", party.display_name)
    _add_optional(element, "profileUrl", party.profile_url)


def _serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def report_document(
    *,
    incident_type: IncidentType,
    platform: str | None,
    escalation_reason: str | None,
    report_annotations: Iterable[ReportAnnotation],
    incident_at: datetime,
    internet_details: Sequence[InternetDetails],
    reporter: ReporterSettings,
    reported_user: ReportedUser,
    victims: Sequence[Party],
    intended_recipients: Sequence[Party],
) -> bytes:
    """The ``<report>`` document (UTF-8 with an XML declaration).

    ``escalation_reason`` is given only for an urgent case: ``escalateToHighPriority`` is the
    clearinghouse's signal of immediate risk to a child, and its mere presence escalates.
    """
    root = etree.Element("report")
    summary = _add(root, "incidentSummary")
    _add(summary, "incidentType", incident_type.value)
    _add_optional(summary, "platform", platform)
    _add_optional(summary, "escalateToHighPriority", escalation_reason)
    chosen = set(report_annotations)
    if chosen:
        annotations = _add(summary, "reportAnnotations")
        for annotation in ReportAnnotation:  # a fixed order, so equal reports are equal bytes
            if annotation in chosen:
                _add(annotations, annotation.value, "true")
    _add(summary, "incidentDateTime", xml_datetime(incident_at))
    for details in internet_details:
        _internet_details(root, details)
    _reporter(root, reporter)
    _reported_user(root, reported_user)
    for party in intended_recipients:
        _party(root, "intendedRecipient", "intendedRecipientPerson", party)
    for party in victims:
        _party(root, "victim", "victimPerson", party)
    return _serialize(root)


def file_details_template(facts: FileFacts) -> str:
    """A ``<fileDetails>`` element without ``reportId`` and ``fileId`` (added at upload time).

    ``fileViewedByEsp`` is always written, and is exactly ``facts.viewed_by_esp``: saying
    "false" for a file nobody opened is what keeps a later law-enforcement viewing lawful
    without a warrant question hanging on an unstated default (United States v. Wilson).
    """
    root = etree.Element("fileDetails")
    _add_optional(root, "originalFileName", facts.original_file_name)
    _add(root, "uploadedToEspTimestamp", xml_datetime(facts.uploaded_at))
    _add_optional(root, "locationOfFile", facts.location_url)
    _add(root, "fileViewedByEsp", xml_boolean(facts.viewed_by_esp is True))
    _add_flag(root, "exifViewedByEsp", facts.exif_viewed)
    _add_flag(root, "publiclyAvailable", facts.publicly_available)
    if facts.annotations:
        annotations = _add(root, "fileAnnotations")
        for annotation in FileAnnotation:
            if annotation in facts.annotations:
                _add(annotations, annotation.value, "true")
    _add_optional(root, "industryClassification", facts.classification)
    _add(root, "originalFileHash", facts.md5).set("hashType", "MD5")
    _add(root, "originalFileHash", facts.sha1).set("hashType", "SHA1")
    if facts.upload_ip is not None:
        _ip_capture_event(root, facts.upload_ip)
    for device in facts.upload_device_ids:
        _device_id(root, device)
    return etree.tostring(root, encoding="unicode")


def _safe_parser() -> etree.XMLParser:
    """No entity expansion, no network, no DTD loading: nothing a document can make us fetch."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def file_details_for_upload(template: str, report_id: int, file_id: str) -> bytes:
    """The ``<fileDetails>`` to POST to ``/fileinfo`` once the file has been uploaded.

    ``reportId`` (``xs:long``) and ``fileId`` (``xs:token``) are the clearinghouse's answers;
    a file id that whitespace normalisation would change is refused, so what is sent is
    exactly what the clearinghouse handed out.
    """
    if isinstance(report_id, bool) or not isinstance(report_id, int):
        raise InvalidInput("report_id must be an integer")
    if not 0 < report_id <= _XS_LONG_MAX:
        raise InvalidInput("report_id is out of range")
    if (
        not isinstance(file_id, str)
        or not file_id
        or " ".join(file_id.split()) != file_id
        or not file_id.isprintable()
    ):
        raise InvalidInput("file_id must be a non-blank token without control characters")
    root = etree.fromstring(template.encode("utf-8"), _safe_parser())
    if root.tag != "fileDetails":
        raise InvalidInput("not a fileDetails template")
    report_element = etree.Element("reportId")
    report_element.text = str(report_id)
    file_element = etree.Element("fileId")
    file_element.text = file_id
    root.insert(0, report_element)
    root.insert(1, file_element)
    return _serialize(root)


_schema_lock = threading.Lock()


@lru_cache(maxsize=4)
def _load_schema(path: str, modified_ns: int) -> etree.XMLSchema:
    """Parse the XSD once per file version (``modified_ns`` keys a changed file afresh)."""
    del modified_ns
    try:
        return etree.XMLSchema(etree.parse(path, _safe_parser()))
    except (etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
        raise InvalidInput(f"the CyberTipline schema at {path} cannot be used: {exc}") from None


def _validate(document: bytes, schema_path: Path, root_tag: str) -> None:
    """Raise InvalidInput naming each failing element path and error kind, never a value."""
    try:
        root = etree.fromstring(document, _safe_parser())
    except etree.XMLSyntaxError as exc:
        raise InvalidInput(f"not well-formed XML (line {exc.lineno})") from None
    _validate_tree(root, schema_path, root_tag)


def _validate_tree(root: etree._Element, schema_path: Path, root_tag: str) -> None:
    """Validate an already parsed document (its root element); errors as :func:`_validate`.

    lxml's messages quote the offending text, which can be a reported user's name; only the
    element path and the error type go into the exception.
    """
    try:
        modified = os.stat(schema_path).st_mtime_ns
    except OSError:
        raise InvalidInput(f"the CyberTipline schema at {schema_path} cannot be read") from None
    if root.tag != root_tag:
        raise InvalidInput(f"expected a <{root_tag}> document")
    # lxml does not promise that one schema object may validate on two threads at once, and
    # libxml2 must not parse schemas on two threads at once either: two first requests
    # racing to load it corrupted its built-in types ("the given type is not a built-in
    # type") for the rest of the process. So the schema is loaded under the lock too.
    with _schema_lock:
        schema = _load_schema(str(schema_path), modified)
        valid = schema.validate(root)
        # The stubs declare the error log opaque; its entries carry ``path`` and ``type_name``.
        entries = cast("Iterable[Any]", schema.error_log)
        errors = [f"{entry.path}: {entry.type_name}" for entry in entries]
    if not valid:
        raise InvalidInput("invalid against the CyberTipline schema: " + "; ".join(errors))


def validate_report_xml(document: bytes, schema_path: Path) -> None:
    """Check a ``<report>`` document against the XSD at ``schema_path``."""
    _validate(document, schema_path, "report")


def validate_file_details_xml(document: bytes, schema_path: Path) -> None:
    """Check a complete ``<fileDetails>`` document (with its ids) against the XSD."""
    _validate(document, schema_path, "fileDetails")


def validate_parsed_xml(root: etree._Element, schema_path: Path, *, root_tag: str) -> None:
    """Check a document the caller has already parsed (safely: the clearinghouse intake's
    parser refuses DTDs) and whose root must be ``root_tag`` (``report`` or ``fileDetails``),
    so a received document is parsed once, not once more for validation."""
    _validate_tree(root, schema_path, root_tag)
