"""The typed model of a report as the clearinghouse receives it.

A report arrives from a provider as CyberTipline XML (:mod:`brightline.clearinghouse.cybertip_xml`)
or as a JSON line of this model (:mod:`brightline.clearinghouse.jsonl`); every later stage
(known/new, clusters, bundles, links, triage, routing) reads only this model, never XML.

Why a model of its own rather than the report builder's dataclasses: the builder describes what
*one platform* knows when it files; the clearinghouse receives reports from *any* provider and
keeps only what analysis needs (identifiers to link on, hashes to cluster on, annotations and
ages to triage on, locations to route on). The schema's vocabularies (incident types, report
annotations, capture events) are the builder's own enums; file annotations are spelled as the
review core spells them, which a test checks (importing them would pull in the review tables).

Every dataclass checks itself once, when made (parse or raise): hashes are normalised to lowercase
hex of the right length, IP addresses to their canonical form, timestamps must be timezone-aware,
identifiers must not be blank. Error messages name the field, never the value (the values are
personal data).
"""

from __future__ import annotations

import enum
import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime

from brightline.errors import InvalidInput
from brightline.reports.context import CaptureEvent, IncidentType, ReportAnnotation

__all__ = [
    "CaptureEvent",
    "Classification",
    "DeviceId",
    "EstimatedLocation",
    "FileAnnotation",
    "FileRef",
    "IncidentType",
    "IncomingReport",
    "IpEvent",
    "PaymentHandle",
    "ReportAnnotation",
    "ReportedFile",
    "ReportedPerson",
    "ScreenName",
    "Victim",
]


class FileAnnotation(enum.StrEnum):
    """The schema's ``fileAnnotations``: tags on one file."""

    ANIME_DRAWING_VIRTUAL_HENTAI = "animeDrawingVirtualHentai"
    POTENTIAL_MEME = "potentialMeme"
    VIRAL = "viral"
    POSSIBLE_SELF_PRODUCTION = "possibleSelfProduction"
    PHYSICAL_HARM = "physicalHarm"
    VIOLENCE_GORE = "violenceGore"
    BESTIALITY = "bestiality"
    LIVE_STREAMING = "liveStreaming"
    INFANT = "infant"
    GENERATIVE_AI = "generativeAi"


class Classification(enum.StrEnum):
    """The industry classification (``industryClassification``); A = prepubescent."""

    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"

    @property
    def prepubescent(self) -> bool:
        return self in (Classification.A1, Classification.A2)


_MD5 = re.compile(r"[0-9a-f]{32}")
_SHA1 = re.compile(r"[0-9a-f]{40}")
_PDQ = re.compile(r"[0-9a-f]{64}")
_COUNTRY = re.compile(r"[A-Z][A-Z0-9]")


def _text(name: str, value: object) -> str:
    """Non-blank text, stripped of surrounding whitespace."""
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text")
    stripped = value.strip()
    if not stripped:
        raise InvalidInput(f"{name} is blank")
    return stripped


def _optional_text(name: str, value: object) -> str | None:
    return None if value is None else _text(name, value)


def _texts(name: str, values: object) -> tuple[str, ...]:
    if not isinstance(values, tuple):
        raise InvalidInput(f"{name} must be a tuple")
    return tuple(_text(f"{name}[{i}]", v) for i, v in enumerate(values))


def _aware(name: str, value: object, *, required: bool = False) -> None:
    if value is None and not required:
        return
    if not isinstance(value, datetime):
        raise InvalidInput(f"{name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{name} must be timezone-aware")


def _flag(name: str, value: object) -> None:
    if value is not None and not isinstance(value, bool):
        raise InvalidInput(f"{name} must be true, false or unknown (None)")


def _tuple_of(name: str, values: object, kind: type) -> None:
    if not isinstance(values, tuple) or not all(isinstance(v, kind) for v in values):
        raise InvalidInput(f"{name} must be a tuple of {kind.__name__}")


def _enum_set(name: str, values: object, kind: type[enum.Enum]) -> frozenset[object]:
    if not isinstance(values, frozenset) or not all(isinstance(v, kind) for v in values):
        raise InvalidInput(f"{name} must be a frozenset of {kind.__name__}")
    return values


def _hex(name: str, value: str | None, pattern: re.Pattern[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text")
    lowered = value.strip().lower()
    if not pattern.fullmatch(lowered):
        raise InvalidInput(f"{name} is not a valid hex digest")
    return lowered


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


@dataclass(frozen=True, slots=True)
class IpEvent:
    """An address the provider saw the reported user at (``ipCaptureEvent``).

    Stored in canonical form (``ipaddress``), so equal addresses compare equal however they
    were written. ``possible_proxy`` is the provider's own flag; the operator's list of known
    proxy/VPN ranges is applied later, when linking and routing.
    """

    ip: str
    at: datetime | None = None
    event: CaptureEvent | None = None
    possible_proxy: bool | None = None

    def __post_init__(self) -> None:
        try:
            canonical = str(ipaddress.ip_address(_text("ip", self.ip)))
        except ValueError:
            raise InvalidInput("ip is not an IPv4 or IPv6 address") from None
        _set(self, "ip", canonical)
        _aware("ip event time", self.at)
        if self.event is not None and not isinstance(self.event, CaptureEvent):
            raise InvalidInput("ip event must be a CaptureEvent")
        _flag("possible_proxy", self.possible_proxy)


@dataclass(frozen=True, slots=True)
class DeviceId:
    """A device identifier: ``id_type`` says what kind (IMEI, IDFA, ...)."""

    id_type: str
    value: str

    def __post_init__(self) -> None:
        _set(self, "id_type", _text("device id type", self.id_type))
        _set(self, "value", _text("device id value", self.value))


@dataclass(frozen=True, slots=True)
class ScreenName:
    """A screen name and the service it is held on (a name only identifies within a service)."""

    service: str
    name: str

    def __post_init__(self) -> None:
        _set(self, "service", _text("screen name service", self.service))
        _set(self, "name", _text("screen name", self.name))


@dataclass(frozen=True, slots=True)
class PaymentHandle:
    """A handle on a payment service (a cash-app tag, a payment-platform user name)."""

    service: str
    handle: str

    def __post_init__(self) -> None:
        _set(self, "service", _text("payment service", self.service))
        _set(self, "handle", _text("payment handle", self.handle))


@dataclass(frozen=True, slots=True)
class EstimatedLocation:
    """``estimatedLocation``: a country (ISO 3166 alpha-2), optionally a region and a city."""

    country_code: str | None = None
    region: str | None = None
    city: str | None = None
    verified: bool | None = None

    def __post_init__(self) -> None:
        if self.country_code is not None:
            code = _text("country_code", self.country_code).upper()
            if not _COUNTRY.fullmatch(code):
                raise InvalidInput("country_code must be two letters")
            _set(self, "country_code", code)
        _set(self, "region", _optional_text("region", self.region))
        _set(self, "city", _optional_text("city", self.city))
        _flag("verified", self.verified)


@dataclass(frozen=True, slots=True)
class ReportedPerson:
    """One ``personOrUserReported``: the identifiers analysis links on and routes by.

    ``screen_names`` holds the person's own screen name (on ``esp_service``, or the reporting
    platform when no service is named) and those of associated accounts of type ``Linked``.
    ``parent_guardian_account`` is true when the provider listed an associated account of type
    ``Parent/Guardian``: the reported user has (or claims) a child in their care.
    """

    esp_identifier: str | None = None
    esp_service: str | None = None
    screen_names: tuple[ScreenName, ...] = ()
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    ip_events: tuple[IpEvent, ...] = ()
    device_ids: tuple[DeviceId, ...] = ()
    payment_handles: tuple[PaymentHandle, ...] = ()
    wallet_addresses: tuple[str, ...] = ()
    prior_report_ids: tuple[str, ...] = ()
    estimated_location: EstimatedLocation | None = None
    parent_guardian_account: bool = False

    def __post_init__(self) -> None:
        _set(self, "esp_identifier", _optional_text("esp_identifier", self.esp_identifier))
        _set(self, "esp_service", _optional_text("esp_service", self.esp_service))
        _tuple_of("screen_names", self.screen_names, ScreenName)
        _set(self, "emails", _texts("emails", self.emails))
        _set(self, "phones", _texts("phones", self.phones))
        _tuple_of("ip_events", self.ip_events, IpEvent)
        _tuple_of("device_ids", self.device_ids, DeviceId)
        _tuple_of("payment_handles", self.payment_handles, PaymentHandle)
        _set(self, "wallet_addresses", _texts("wallet_addresses", self.wallet_addresses))
        _set(self, "prior_report_ids", _texts("prior_report_ids", self.prior_report_ids))
        if self.estimated_location is not None and not isinstance(
            self.estimated_location, EstimatedLocation
        ):
            raise InvalidInput("estimated_location must be an EstimatedLocation")
        if not isinstance(self.parent_guardian_account, bool):
            raise InvalidInput("parent_guardian_account must be true or false")

    @property
    def has_identifiers(self) -> bool:
        """Whether anything here could lead an investigator to the person."""
        return bool(
            self.esp_identifier
            or self.screen_names
            or self.emails
            or self.phones
            or self.ip_events
            or self.device_ids
            or self.payment_handles
            or self.wallet_addresses
        )


@dataclass(frozen=True, slots=True)
class Victim:
    """A victim, as far as the provider knows one: an age, a location (never guessed)."""

    age: int | None = None
    estimated_location: EstimatedLocation | None = None

    def __post_init__(self) -> None:
        if self.age is not None and (
            isinstance(self.age, bool) or not isinstance(self.age, int) or not 0 <= self.age <= 150
        ):
            raise InvalidInput("victim age must be 0 to 150")
        if self.estimated_location is not None and not isinstance(
            self.estimated_location, EstimatedLocation
        ):
            raise InvalidInput("victim estimated_location must be an EstimatedLocation")


FileRef = tuple[str, str]
"""``(report_id, file_id)``: a file as one report carries it."""


@dataclass(frozen=True, slots=True)
class ReportedFile:
    """One file of a report: its digests, the provider's annotations and classification.

    ``pdq_quality`` (0-100) is optional; a hash whose quality is known to be below the
    clustering minimum is not used for near-duplicate search (DOMAIN.md §1), only for exact
    comparison.
    """

    file_id: str
    md5: str | None = None
    sha1: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    annotations: frozenset[FileAnnotation] = frozenset()
    classification: Classification | None = None
    uploaded_at: datetime | None = None

    def __post_init__(self) -> None:
        _set(self, "file_id", _text("file_id", self.file_id))
        _set(self, "md5", _hex("md5", self.md5, _MD5))
        _set(self, "sha1", _hex("sha1", self.sha1, _SHA1))
        _set(self, "pdq", _hex("pdq", self.pdq, _PDQ))
        if self.pdq_quality is not None and (
            isinstance(self.pdq_quality, bool)
            or not isinstance(self.pdq_quality, int)
            or not 0 <= self.pdq_quality <= 100
        ):
            raise InvalidInput("pdq_quality must be 0 to 100")
        _enum_set("file annotations", self.annotations, FileAnnotation)
        if self.classification is not None and not isinstance(self.classification, Classification):
            raise InvalidInput("classification must be a Classification")
        _aware("uploaded_at", self.uploaded_at)

    @property
    def has_hash(self) -> bool:
        return self.md5 is not None or self.sha1 is not None or self.pdq is not None


@dataclass(frozen=True, slots=True)
class IncomingReport:
    """A report as the clearinghouse received it.

    ``report_id`` is the clearinghouse's own id (unique across providers); ``provider`` the
    registered provider that filed it. ``escalation`` is the provider's ``escalateToHighPriority``
    text: user-facing free text and possibly personal data, so it is read for its presence and
    shown to investigators, never logged. ``batched`` is a ``batchedReport`` element
    (``VIRAL_POTENTIAL_MEME``): the provider grouped viral content shared by many users.
    """

    report_id: str
    provider: str
    incident_type: IncidentType
    incident_at: datetime
    received_at: datetime
    escalation: str | None = None
    report_annotations: frozenset[ReportAnnotation] = frozenset()
    batched: bool = False
    persons: tuple[ReportedPerson, ...] = ()
    victims: tuple[Victim, ...] = ()
    files: tuple[ReportedFile, ...] = ()

    def __post_init__(self) -> None:
        _set(self, "report_id", _text("report_id", self.report_id))
        _set(self, "provider", _text("provider", self.provider))
        if not isinstance(self.incident_type, IncidentType):
            raise InvalidInput("incident_type must be an IncidentType")
        _aware("incident_at", self.incident_at, required=True)
        _aware("received_at", self.received_at, required=True)
        _set(self, "escalation", _optional_text("escalation", self.escalation))
        _enum_set("report annotations", self.report_annotations, ReportAnnotation)
        if not isinstance(self.batched, bool):
            raise InvalidInput("batched must be true or false")
        _tuple_of("persons", self.persons, ReportedPerson)
        _tuple_of("victims", self.victims, Victim)
        _tuple_of("files", self.files, ReportedFile)
        file_ids = [f.file_id for f in self.files]
        if len(set(file_ids)) != len(file_ids):
            raise InvalidInput("file ids must be unique within a report")

    def file_refs(self) -> list[FileRef]:
        return [(self.report_id, f.file_id) for f in self.files]
