"""What only the platform knows about a reported incident, for the report builder.

The review core knows the reported user's ids and names, the items, the reviewers' decisions and
who actually looked at what. Everything else that belongs in a CyberTipline report (IP addresses
and device ids, where the incident happened, victims, original file names, whether the account
was disabled) lives in the platform's own systems; an enrichment step gathers it into a
:class:`ReportContext` for :func:`brightline.reports.build_report`.

Plain frozen dataclasses, each checked once when it is made (parse or raise): text that XML
cannot carry, blank strings (use None for "not known"), naive timestamps and values outside the
schema's lists are refused with :class:`~brightline.errors.InvalidInput`. Unknown stays unknown:
no flag here defaults to true, and a None is left out of the report rather than guessed.
"""

from __future__ import annotations

import enum
import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType

from brightline.errors import InvalidInput
from brightline.reports.checks import (
    check_aware,
    check_flag,
    check_text,
    check_texts,
)


class IncidentType(enum.StrEnum):
    """The schema's ``incidentType`` list, spelled exactly as the schema spells it."""

    CHILD_PORNOGRAPHY = "Child Pornography (possession, manufacture, and distribution)"
    CHILD_SEX_TRAFFICKING = "Child Sex Trafficking"
    CHILD_SEX_TOURISM = "Child Sex Tourism"
    CHILD_SEXUAL_MOLESTATION = "Child Sexual Molestation"
    MISLEADING_DOMAIN_NAME = "Misleading Domain Name"
    MISLEADING_WORDS_OR_DIGITAL_IMAGES = "Misleading Words or Digital Images on the Internet"
    ONLINE_ENTICEMENT = "Online Enticement of Children for Sexual Acts"
    UNSOLICITED_OBSCENE_MATERIAL = "Unsolicited Obscene Material Sent to a Child"


class ReportAnnotation(enum.StrEnum):
    """The schema's ``reportAnnotations`` (tags on the whole incident, not on one file)."""

    SEXTORTION = "sextortion"
    CSAM_SOLICITATION = "csamSolicitation"
    MINOR_TO_MINOR_INTERACTION = "minorToMinorInteraction"
    SPAM = "spam"
    SADISTIC_ONLINE_EXPLOITATION = "sadisticOnlineExploitation"


class CaptureEvent(enum.StrEnum):
    """The schema's ``ipCaptureType``: what the user was doing when an IP or device was seen."""

    LOGIN = "Login"
    REGISTRATION = "Registration"
    PURCHASE = "Purchase"
    UPLOAD = "Upload"
    OTHER = "Other"
    UNKNOWN = "Unknown"


_XS_INT_MAX = 2**31 - 1


def _check_event(name: str, value: CaptureEvent | None) -> None:
    if value is not None and not isinstance(value, CaptureEvent):
        raise InvalidInput(f"{name} must be a CaptureEvent")


def _check_tuple_of(
    name: str, values: tuple[object, ...], kind: type | tuple[type, ...], kind_name: str
) -> None:
    if not isinstance(values, tuple) or not all(isinstance(v, kind) for v in values):
        raise InvalidInput(f"{name} must be a tuple of {kind_name}")


@dataclass(frozen=True, slots=True)
class IpCaptureEvent:
    """An IP address the platform saw the user at (``ipCaptureEvent``).

    The address is parsed and stored in its canonical form, so a typo cannot reach a report
    and send an investigator to the wrong subscriber.
    """

    ip_address: str
    event: CaptureEvent | None = None
    at: datetime | None = None
    possible_proxy: bool | None = None
    port: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.ip_address, str):
            raise InvalidInput("ip_address must be text")
        try:
            canonical = str(ipaddress.ip_address(self.ip_address.strip()))
        except ValueError:
            raise InvalidInput("ip_address is not an IPv4 or IPv6 address") from None
        object.__setattr__(self, "ip_address", canonical)
        _check_event("ip event", self.event)
        check_aware("ip event time", self.at)
        check_flag("possible_proxy", self.possible_proxy)
        if self.port is not None and (
            isinstance(self.port, bool)
            or not isinstance(self.port, int)
            or not 0 <= self.port <= 65535
        ):
            raise InvalidInput("port must be 0 to 65535")


@dataclass(frozen=True, slots=True)
class DeviceId:
    """A device identifier (``deviceId``): ``id_type`` says what kind, e.g. IMEI or IDFA."""

    id_type: str
    id_value: str
    event: CaptureEvent | None = None
    at: datetime | None = None

    def __post_init__(self) -> None:
        if self.id_type is None or self.id_value is None:
            raise InvalidInput("a device id needs both its type and its value")
        check_text("device id type", self.id_type)
        check_text("device id value", self.id_value)
        _check_event("device id event", self.event)
        check_aware("device id time", self.at)


@dataclass(frozen=True, slots=True)
class AccountDisabled:
    """The reported account was disabled (``accountTemporarilyDisabled``/``...Permanently...``).

    ``reenabled_at`` only makes sense for a temporary suspension.
    """

    disabled_at: datetime | None = None
    user_notified: bool | None = None
    user_notified_at: datetime | None = None
    reenabled_at: datetime | None = None

    def __post_init__(self) -> None:
        check_aware("disabled_at", self.disabled_at)
        check_flag("user_notified", self.user_notified)
        check_aware("user_notified_at", self.user_notified_at)
        check_aware("reenabled_at", self.reenabled_at)
        if self.user_notified_at is not None and self.user_notified is False:
            raise InvalidInput("user_notified_at is set but user_notified is false")


@dataclass(frozen=True, slots=True)
class PersonDetails:
    """A person's own details (the schema's ``person`` type), as far as they are known."""

    first_name: str | None = None
    last_name: str | None = None
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    age: int | None = None
    date_of_birth: date | None = None

    def __post_init__(self) -> None:
        check_text("first_name", self.first_name)
        check_text("last_name", self.last_name)
        check_texts("phones", self.phones)
        check_texts("emails", self.emails)
        if self.age is not None and (
            isinstance(self.age, bool) or not isinstance(self.age, int) or not 0 <= self.age <= 150
        ):
            raise InvalidInput("age must be 0 to 150")
        if self.date_of_birth is not None and (
            isinstance(self.date_of_birth, datetime) or not isinstance(self.date_of_birth, date)
        ):
            raise InvalidInput("date_of_birth must be a date")

    @property
    def empty(self) -> bool:
        return self == PersonDetails()


@dataclass(frozen=True, slots=True)
class Party:
    """A victim or an intended recipient, when the platform knows one (never guessed)."""

    person: PersonDetails = PersonDetails()
    esp_identifier: str | None = None
    esp_service: str | None = None
    screen_name: str | None = None
    display_name: str | None = None
    profile_url: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.person, PersonDetails):
            raise InvalidInput("person must be PersonDetails")
        for name in ("esp_identifier", "esp_service", "screen_name", "display_name"):
            check_text(name, getattr(self, name))
        check_text("profile_url", self.profile_url)
        named = (self.esp_identifier, self.esp_service, self.screen_name, self.display_name)
        if self.person.empty and self.profile_url is None and all(v is None for v in named):
            raise InvalidInput("a victim or intended recipient needs at least one known detail")


# --- internetDetails: one dataclass per choice of the schema, so each carries only its fields.


@dataclass(frozen=True, slots=True)
class WebPageIncident:
    urls: tuple[str, ...] = ()
    third_party_hosted: bool | None = None
    """True when the content was hosted by another company (``thirdPartyHostedContent``)."""
    additional_info: str | None = None

    def __post_init__(self) -> None:
        check_texts("urls", self.urls)
        check_flag("third_party_hosted", self.third_party_hosted)
        check_text("additional_info", self.additional_info)


@dataclass(frozen=True, slots=True)
class EmailIncident:
    email_addresses: tuple[str, ...] = ()
    content: str | None = None
    additional_info: str | None = None

    def __post_init__(self) -> None:
        check_texts("email_addresses", self.email_addresses)
        check_text("content", self.content)
        check_text("additional_info", self.additional_info)


@dataclass(frozen=True, slots=True)
class NewsgroupIncident:
    name: str | None = None
    email_addresses: tuple[str, ...] = ()
    content: str | None = None
    additional_info: str | None = None

    def __post_init__(self) -> None:
        check_text("name", self.name)
        check_texts("email_addresses", self.email_addresses)
        check_text("content", self.content)
        check_text("additional_info", self.additional_info)


@dataclass(frozen=True, slots=True)
class ChatImIncident:
    chat_client: str | None = None
    chat_room_name: str | None = None
    content: str | None = None
    additional_info: str | None = None

    def __post_init__(self) -> None:
        check_text("chat_client", self.chat_client)
        check_text("chat_room_name", self.chat_room_name)
        check_text("content", self.content)
        check_text("additional_info", self.additional_info)


@dataclass(frozen=True, slots=True)
class OnlineGamingIncident:
    game_name: str | None = None
    console: str | None = None
    content: str | None = None
    additional_info: str | None = None

    def __post_init__(self) -> None:
        check_text("game_name", self.game_name)
        check_text("console", self.console)
        check_text("content", self.content)
        check_text("additional_info", self.additional_info)


@dataclass(frozen=True, slots=True)
class CellPhoneIncident:
    phone_number: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    additional_info: str | None = None

    def __post_init__(self) -> None:
        check_text("phone_number", self.phone_number)
        for name, value, limit in (
            ("latitude", self.latitude, 90.0),
            ("longitude", self.longitude, 180.0),
        ):
            if value is None:
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or abs(value) > limit
            ):
                raise InvalidInput(f"{name} must be a number from -{limit:g} to {limit:g}")
        check_text("additional_info", self.additional_info)


@dataclass(frozen=True, slots=True)
class NonInternetIncident:
    location_name: str | None = None
    additional_info: str | None = None

    def __post_init__(self) -> None:
        check_text("location_name", self.location_name)
        check_text("additional_info", self.additional_info)


@dataclass(frozen=True, slots=True)
class PeerToPeerIncident:
    client: str | None = None
    ip_capture_events: tuple[IpCaptureEvent, ...] = ()
    file_names: str | None = None
    additional_info: str | None = None

    def __post_init__(self) -> None:
        check_text("client", self.client)
        _check_tuple_of(
            "ip_capture_events", self.ip_capture_events, IpCaptureEvent, "IpCaptureEvent"
        )
        check_text("file_names", self.file_names)
        check_text("additional_info", self.additional_info)


InternetDetails = (
    WebPageIncident
    | EmailIncident
    | NewsgroupIncident
    | ChatImIncident
    | OnlineGamingIncident
    | CellPhoneIncident
    | NonInternetIncident
    | PeerToPeerIncident
)
"""Where the incident happened: one ``internetDetails`` element per value."""

_INTERNET_DETAILS_TYPES = (
    WebPageIncident,
    EmailIncident,
    NewsgroupIncident,
    ChatImIncident,
    OnlineGamingIncident,
    CellPhoneIncident,
    NonInternetIncident,
    PeerToPeerIncident,
)


@dataclass(frozen=True, slots=True)
class FileContext:
    """What the platform knows about one reported item's file beyond its hashes.

    ``publicly_available`` and ``exif_viewed`` are None when nobody knows; the report then
    leaves the element out instead of claiming either answer.
    """

    original_file_name: str | None = None
    location_url: str | None = None
    """Where the file was (``locationOfFile``)."""
    publicly_available: bool | None = None
    exif_viewed: bool | None = None
    """A person at the platform looked at the file's EXIF metadata (``exifViewedByEsp``)."""
    upload_ip: IpCaptureEvent | None = None
    upload_device_ids: tuple[DeviceId, ...] = ()

    def __post_init__(self) -> None:
        check_text("original_file_name", self.original_file_name)
        check_text("location_url", self.location_url)
        check_flag("publicly_available", self.publicly_available)
        check_flag("exif_viewed", self.exif_viewed)
        if self.upload_ip is not None and not isinstance(self.upload_ip, IpCaptureEvent):
            raise InvalidInput("upload_ip must be an IpCaptureEvent")
        _check_tuple_of("upload_device_ids", self.upload_device_ids, DeviceId, "DeviceId")


@dataclass(frozen=True, slots=True)
class ReportContext:
    """Everything the builder needs that the review core does not hold.

    ``files`` is keyed by review item id; an entry for an item the report does not cover is
    refused by the builder (it means the enrichment step and the case disagree). ``incident_at``
    defaults to the earliest upload time of the reported items. ``esp_identifier`` overrides the
    subject's stored platform user id when the platform's reportable id differs from it.
    """

    internet_details: tuple[InternetDetails, ...] = ()
    esp_identifier: str | None = None
    reported_person: PersonDetails | None = None
    """The reported user's own details (real name, verified phone or email), when known."""
    ip_capture_events: tuple[IpCaptureEvent, ...] = ()
    device_ids: tuple[DeviceId, ...] = ()
    account_temporarily_disabled: AccountDisabled | None = None
    account_permanently_disabled: AccountDisabled | None = None
    victims: tuple[Party, ...] = ()
    intended_recipients: tuple[Party, ...] = ()
    files: Mapping[int, FileContext] = field(default_factory=dict)
    report_annotations: frozenset[ReportAnnotation] = frozenset()
    incident_at: datetime | None = None

    def __post_init__(self) -> None:
        _check_tuple_of(
            "internet_details", self.internet_details, _INTERNET_DETAILS_TYPES, "InternetDetails"
        )
        check_text("esp_identifier", self.esp_identifier)
        if self.reported_person is not None and not isinstance(self.reported_person, PersonDetails):
            raise InvalidInput("reported_person must be PersonDetails")
        _check_tuple_of(
            "ip_capture_events", self.ip_capture_events, IpCaptureEvent, "IpCaptureEvent"
        )
        _check_tuple_of("device_ids", self.device_ids, DeviceId, "DeviceId")
        for name in ("account_temporarily_disabled", "account_permanently_disabled"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, AccountDisabled):
                raise InvalidInput(f"{name} must be AccountDisabled")
        permanent = self.account_permanently_disabled
        if permanent is not None and permanent.reenabled_at is not None:
            raise InvalidInput("a permanently disabled account has no re-enabled time")
        _check_tuple_of("victims", self.victims, Party, "Party")
        _check_tuple_of("intended_recipients", self.intended_recipients, Party, "Party")
        if not isinstance(self.files, Mapping):
            raise InvalidInput("files must map item ids to FileContext")
        files: dict[int, FileContext] = {}
        for item_id, facts in self.files.items():
            if isinstance(item_id, bool) or not isinstance(item_id, int):
                raise InvalidInput("files must be keyed by item id")
            if not isinstance(facts, FileContext):
                raise InvalidInput(f"files[{item_id}] must be a FileContext")
            files[item_id] = facts
        # A private copy behind a read-only view: the caller's dict cannot change it later.
        object.__setattr__(self, "files", MappingProxyType(files))
        if not isinstance(self.report_annotations, frozenset) or not all(
            isinstance(a, ReportAnnotation) for a in self.report_annotations
        ):
            raise InvalidInput("report_annotations must be a frozenset of ReportAnnotation")
        check_aware("incident_at", self.incident_at)
