"""Routing: which agencies receive a report.

A report's **jurisdictions** are the regions it points at:

* each ``estimatedLocation`` of a reported person or a victim (``countryCode`` and, when given,
  ``region``: ``US`` + ``CA`` → ``US-CA``; free-text regions are mapped through the routing
  configuration's ``region_aliases``), and
* each reported person's IP address found in the operator's IP-range → region table
  (:mod:`brightline.clearinghouse.networks`), except addresses in the operator's proxy/VPN
  ranges or flagged ``possibleProxy`` (an exit node's location says nothing about the person).

Each jurisdiction goes to the agency configured for that exact region, else for its country,
else to the national queue (recorded with the reason). No jurisdiction at all → the national
queue. Several jurisdictions → one referral per agency (an agency covering two of them gets one
referral listing both).

The routing configuration is TOML::

    version = "demo-1"
    national_queue = "national-queue"

    [[agencies]]
    id = "example-icac-west"
    name = "Example ICAC Task Force (West)"
    regions = ["US-CA", "US-WA"]

    [region_aliases]
    "US-CALIFORNIA" = "US-CA"

The package ships a synthetic demo configuration and table (``demo_agencies.toml``,
``demo_ip_regions.csv``: documentation address ranges only).
"""

from __future__ import annotations

import enum
import re
import tomllib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from brightline.clearinghouse.model import EstimatedLocation, IncomingReport
from brightline.clearinghouse.networks import (
    NetworkTable,
    demo_ip_regions,
    demo_proxy_ranges,
    region_code,
)
from brightline.errors import InvalidInput

__all__ = [
    "Agency",
    "Jurisdiction",
    "Referral",
    "Router",
    "RoutingConfig",
    "RoutingDecision",
    "SourceKind",
    "demo_router",
    "load_routing_config",
    "parse_routing_config",
]

_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


class SourceKind(enum.StrEnum):
    PERSON_LOCATION = "person_location"
    VICTIM_LOCATION = "victim_location"
    IP_ADDRESS = "ip_address"


@dataclass(frozen=True, slots=True)
class Agency:
    agency_id: str
    name: str
    regions: tuple[str, ...]


@dataclass(frozen=True)
class RoutingConfig:
    version: str
    national_queue: str
    agencies: tuple[Agency, ...]
    region_aliases: Mapping[str, str]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for agency in self.agencies:
            if agency.agency_id in seen or agency.agency_id == self.national_queue:
                raise InvalidInput(f"agency id {agency.agency_id!r} is used twice")
            seen.add(agency.agency_id)
        covered: dict[str, str] = {}
        for agency in self.agencies:
            for region in agency.regions:
                if region in covered:
                    raise InvalidInput(f"region {region} is given to two agencies")
                covered[region] = agency.agency_id
        object.__setattr__(self, "region_aliases", MappingProxyType(dict(self.region_aliases)))

    def agency_for(self, region: str) -> str | None:
        for agency in self.agencies:
            if region in agency.regions:
                return agency.agency_id
        return None


def _alias_key(text: str) -> str:
    return " ".join(text.upper().split())


def _agency_id(value: object, where: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidInput(f"{where}: an id is lowercase letters, digits, '.', '_' or '-'")
    return value


def parse_routing_config(text: str, source: str = "routing config") -> RoutingConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{source}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - {"version", "national_queue", "agencies", "region_aliases"})
    if unknown:
        raise InvalidInput(f"{source}: unknown key {unknown[0]!r}")
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise InvalidInput(f"{source}: version must be a string")
    national = _agency_id(data.get("national_queue"), f"{source}: national_queue")
    agencies = []
    raw_agencies = data.get("agencies", [])
    if not isinstance(raw_agencies, list):
        raise InvalidInput(f"{source}: [[agencies]] must be an array of tables")
    for i, raw in enumerate(raw_agencies):
        where = f"{source}: agencies[{i}]"
        if not isinstance(raw, dict):
            raise InvalidInput(f"{where} must be a table")
        extra = sorted(set(raw) - {"id", "name", "regions"})
        if extra:
            raise InvalidInput(f"{where}: unknown key {extra[0]!r}")
        name = raw.get("name")
        regions = raw.get("regions")
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(f"{where}: name must be a string")
        if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
            raise InvalidInput(f"{where}: regions must be a list of region codes")
        try:
            codes = tuple(region_code(r) for r in regions)
        except InvalidInput as exc:
            raise InvalidInput(f"{where}: {exc}") from None
        agencies.append(Agency(_agency_id(raw.get("id"), f"{where}: id"), name, codes))
    aliases_raw = data.get("region_aliases", {})
    if not isinstance(aliases_raw, dict):
        raise InvalidInput(f"{source}: [region_aliases] must be a table")
    aliases = {}
    for key, value in aliases_raw.items():
        if not isinstance(value, str):
            raise InvalidInput(f"{source}: region_aliases values must be region codes")
        try:
            aliases[_alias_key(key)] = region_code(value)
        except InvalidInput as exc:
            raise InvalidInput(f"{source}: region_aliases: {exc}") from None
    try:
        return RoutingConfig(version, national, tuple(agencies), aliases)
    except InvalidInput as exc:
        raise InvalidInput(f"{source}: {exc}") from None


def load_routing_config(path: Path) -> RoutingConfig:
    return parse_routing_config(path.read_text(encoding="utf-8"), path.name)


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    region: str
    sources: tuple[SourceKind, ...]
    """What pointed at the region (a person's or victim's location, an IP address)."""


@dataclass(frozen=True, slots=True)
class Referral:
    agency_id: str
    regions: tuple[str, ...]
    reason: str
    """``jurisdiction`` (an agency covers the regions), ``no agency for region`` or
    ``location unknown`` (both: the national queue)."""


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    report_id: str
    jurisdictions: tuple[Jurisdiction, ...]
    referrals: tuple[Referral, ...]


class Router:
    """Routes reports with a routing configuration, an IP table and a proxy list."""

    def __init__(
        self,
        config: RoutingConfig,
        ip_regions: NetworkTable[str] | None = None,
        proxies: NetworkTable[str] | None = None,
    ) -> None:
        self.config = config
        self.ip_regions = ip_regions or NetworkTable()
        self.proxies = proxies or NetworkTable()

    def _location_region(self, location: EstimatedLocation) -> str | None:
        if location.country_code is None:
            return None
        if location.region is None:
            return location.country_code
        key = _alias_key(f"{location.country_code}-{location.region}")
        alias = self.config.region_aliases.get(key)
        if alias is not None:
            return alias
        try:
            return region_code(key)
        except InvalidInput:
            return location.country_code  # an unreadable region: the country still stands

    def jurisdictions(self, report: IncomingReport) -> tuple[Jurisdiction, ...]:
        found: dict[str, set[SourceKind]] = defaultdict(set)
        for person in report.persons:
            if person.estimated_location is not None:
                region = self._location_region(person.estimated_location)
                if region is not None:
                    found[region].add(SourceKind.PERSON_LOCATION)
            for event in person.ip_events:
                if event.possible_proxy or event.ip in self.proxies:
                    continue
                region = self.ip_regions.lookup(event.ip)
                if region is not None:
                    found[region].add(SourceKind.IP_ADDRESS)
        for victim in report.victims:
            if victim.estimated_location is not None:
                region = self._location_region(victim.estimated_location)
                if region is not None:
                    found[region].add(SourceKind.VICTIM_LOCATION)
        return tuple(
            Jurisdiction(region, tuple(sorted(sources)))
            for region, sources in sorted(found.items())
        )

    def route(self, report: IncomingReport) -> RoutingDecision:
        jurisdictions = self.jurisdictions(report)
        national = self.config.national_queue
        if not jurisdictions:
            unknown = Referral(national, (), "location unknown")
            return RoutingDecision(report.report_id, (), (unknown,))
        by_agency: dict[str, list[str]] = defaultdict(list)
        unassigned: list[str] = []
        for jurisdiction in jurisdictions:
            region = jurisdiction.region
            agency = self.config.agency_for(region) or self.config.agency_for(region[:2])
            if agency is None:
                unassigned.append(region)
            else:
                by_agency[agency].append(region)
        referrals = [
            Referral(agency, tuple(regions), "jurisdiction")
            for agency, regions in sorted(by_agency.items())
        ]
        if unassigned:
            referrals.append(Referral(national, tuple(unassigned), "no agency for region"))
        return RoutingDecision(report.report_id, jurisdictions, tuple(referrals))


def demo_router() -> Router:
    """The shipped synthetic routing (demo agencies, documentation address ranges)."""
    text = resources.files("brightline.clearinghouse").joinpath("data", "demo_agencies.toml")
    config = parse_routing_config(text.read_text("utf-8"), "demo_agencies.toml")
    return Router(config, demo_ip_regions(), demo_proxy_ranges())
