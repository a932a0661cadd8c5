"""Linking (deconfliction): reports about the same person, across providers.

Every reported person of every report is a node. Two nodes are linked when they share a
normalised identifier (:mod:`brightline.clearinghouse.identifiers`: email, E.164 phone, screen
name on a service, ESP identifier at a provider, device id, payment handle, wallet address, a
``priorCTReports`` reference) or when both were seen at the same IP address within
``ip_window`` of each other. Linked groups are the connected components (union-find), so the
result does not depend on the order of the input; everything returned is sorted.

Every link keeps its evidence: which identifier (kind, scope, normalised value) joined which
persons of which reports. Evidence is personal data: show it to investigators, never log it.

Guards against false links (the issue's bar is precision ≥ 0.99):

* **Hub cap.** An identifier shared by more than ``max_reports_per_identifier`` reports (a
  shared office phone, a carrier-grade NAT address, a default device id that slipped past the
  placeholder filter) links nothing; it is returned in ``hubs`` with its report count.
* **Proxy/VPN caution.** An address in the operator's proxy ranges, or one a provider flagged
  ``possibleProxy``, says nothing about who used it. With the default policy ``withhold`` such
  evidence is returned in ``withheld`` (flagged ``caution="proxy"``) but links nothing; with
  ``link`` it links and keeps the caution flag.
* **IP times.** An address links only events within ``ip_window`` of each other (consecutive
  events in time order; a chain of such events is one piece of evidence); events without a time
  never link.
* A ``priorCTReports`` reference joins the person to the earlier report's person only when that
  report has exactly one reported person (otherwise which person is meant is unknown).
"""

from __future__ import annotations

import ipaddress
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from brightline.clearinghouse._unionfind import UnionFind
from brightline.clearinghouse.identifiers import Identifier, IdentifierKind, person_identifiers
from brightline.clearinghouse.model import IncomingReport
from brightline.clearinghouse.networks import NetworkTable
from brightline.errors import InvalidInput

__all__ = [
    "HubIdentifier",
    "LinkEvidence",
    "LinkedGroup",
    "Linking",
    "LinkingConfig",
    "PersonRef",
    "link_reports",
]

PersonRef = tuple[str, int]
"""``(report_id, index of the person in the report)``."""

ProxyPolicy = Literal["withhold", "link"]


@dataclass(frozen=True, slots=True)
class LinkingConfig:
    ip_window: timedelta = timedelta(hours=1)
    """Two sightings of one address link only when at most this far apart."""
    max_reports_per_identifier: int = 25
    """Hub cap: an identifier shared by more reports than this links nothing."""
    default_phone_region: str | None = None
    """ISO country whose numbering plan reads numbers written without ``+`` (None: drop them)."""
    proxy_policy: ProxyPolicy = "withhold"
    kinds: frozenset[IdentifierKind] = frozenset(IdentifierKind)
    """The identifier kinds that may link (all by default)."""

    def __post_init__(self) -> None:
        if self.ip_window < timedelta(0):
            raise InvalidInput("ip_window must not be negative")
        if isinstance(self.max_reports_per_identifier, bool) or self.max_reports_per_identifier < 2:
            raise InvalidInput("max_reports_per_identifier must be at least 2")
        if self.proxy_policy not in ("withhold", "link"):
            raise InvalidInput("proxy_policy must be 'withhold' or 'link'")


@dataclass(frozen=True, slots=True)
class LinkEvidence:
    """One identifier that joined two or more persons (of two or more reports, or one report)."""

    identifier: Identifier
    persons: tuple[PersonRef, ...]
    first_at: datetime | None = None
    """For an IP address: the first and last sighting of the chain of events that linked."""
    last_at: datetime | None = None
    caution: str | None = None
    """``"proxy"`` when the address is a known or flagged proxy/VPN exit."""

    @property
    def reports(self) -> tuple[str, ...]:
        return tuple(sorted({report for report, _ in self.persons}))


@dataclass(frozen=True, slots=True)
class HubIdentifier:
    """An identifier not used to link because too many reports share it."""

    identifier: Identifier
    report_count: int


@dataclass(frozen=True, slots=True)
class LinkedGroup:
    """Persons (two or more) linked into one, with the evidence that joined them."""

    group_id: int
    persons: tuple[PersonRef, ...]
    reports: tuple[str, ...]
    providers: tuple[str, ...]
    evidence: tuple[LinkEvidence, ...]


@dataclass(frozen=True)
class Linking:
    groups: tuple[LinkedGroup, ...]
    hubs: tuple[HubIdentifier, ...]
    withheld: tuple[LinkEvidence, ...]
    by_person: Mapping[PersonRef, int]
    """Person → index into ``groups`` (unlinked persons are absent)."""
    unusable: Mapping[str, int] = field(default_factory=dict)
    """Counts of values that could not be used: ``identifier`` (not normalisable),
    ``ip_without_time``."""

    def group_of(self, person: PersonRef) -> LinkedGroup | None:
        index = self.by_person.get(person)
        return None if index is None else self.groups[index]

    def groups_of_report(self, report: IncomingReport) -> tuple[LinkedGroup, ...]:
        found = {
            self.by_person[(report.report_id, i)]
            for i in range(len(report.persons))
            if (report.report_id, i) in self.by_person
        }
        return tuple(self.groups[i] for i in sorted(found))

    def linked_reports(self, report: IncomingReport) -> frozenset[str]:
        """The other reports linked to any person of ``report``."""
        others = {r for group in self.groups_of_report(report) for r in group.reports}
        others.discard(report.report_id)
        return frozenset(others)

    def identity(self, report: IncomingReport, index: int) -> str:
        """A stable label for "who this person is": the group when linked, else the person."""
        group = self.by_person.get((report.report_id, index))
        return f"g{group}" if group is not None else f"p{report.report_id}\x1f{index}"


def _ip_key(address: str) -> str:
    return Identifier(IdentifierKind.IP_ADDRESS, "", address).key


def link_reports(
    reports: Sequence[IncomingReport],
    config: LinkingConfig | None = None,
    *,
    proxies: NetworkTable[str] | None = None,
) -> Linking:
    """Link the persons of ``reports`` (see the module docstring)."""
    config = config or LinkingConfig()
    proxies = proxies or NetworkTable()
    persons: list[PersonRef] = []
    person_report: list[int] = []
    providers: list[str] = []
    members: dict[str, list[int]] = defaultdict(list)
    sightings: dict[str, list[tuple[datetime, PersonRef, int]]] = defaultdict(list)
    flagged_proxy: set[str] = set()
    unusable: Counter[str] = Counter()
    seen_reports: set[str] = set()
    use_ip = IdentifierKind.IP_ADDRESS in config.kinds
    for report_index, report in enumerate(reports):
        if report.report_id in seen_reports:
            raise InvalidInput("report ids must be unique (a report id appears twice)")
        seen_reports.add(report.report_id)
        providers.append(report.provider)
        single = len(report.persons) == 1
        for person_index, person in enumerate(report.persons):
            node = len(persons)
            ref = (report.report_id, person_index)
            persons.append(ref)
            person_report.append(report_index)
            identifiers, dropped = person_identifiers(
                report,
                person,
                default_region=config.default_phone_region,
                own_report_key=single,
            )
            unusable["identifier"] += dropped
            for identifier in identifiers:
                if identifier.kind in config.kinds:
                    members[identifier.key].append(node)
            if not use_ip:
                continue
            for event in person.ip_events:
                if event.at is None:
                    unusable["ip_without_time"] += 1
                    continue
                key = _ip_key(event.ip)
                sightings[key].append((event.at, ref, node))
                if event.possible_proxy:
                    flagged_proxy.add(key)

    uf = UnionFind(len(persons))
    cap = config.max_reports_per_identifier
    hubs: list[HubIdentifier] = []
    evidence: list[LinkEvidence] = []
    withheld: list[LinkEvidence] = []

    def report_count(nodes: Sequence[int]) -> int:
        return len({person_report[n] for n in nodes})

    for key, nodes in members.items():
        if len(nodes) < 2:
            continue
        count = report_count(nodes)
        identifier = Identifier.from_key(key)
        if identifier.kind is IdentifierKind.PRIOR_REPORT and not any(
            persons[n][0] == identifier.value for n in nodes
        ):
            continue  # the earlier report is not here, or has several persons: ambiguous
        if count > cap:
            hubs.append(HubIdentifier(identifier, count))
            continue
        uf.union_all(nodes)
        evidence.append(LinkEvidence(identifier, tuple(sorted(persons[n] for n in nodes))))

    for key, events in sightings.items():
        nodes = [node for _, _, node in events]
        if len({*nodes}) < 2:
            continue
        count = report_count(nodes)
        identifier = Identifier.from_key(key)
        if count > cap:
            hubs.append(HubIdentifier(identifier, count))
            continue
        address = ipaddress.ip_address(identifier.value)
        proxy = key in flagged_proxy or address in proxies
        for run in _runs(sorted(events, key=lambda e: (e[0], e[1])), config.ip_window):
            item = LinkEvidence(
                identifier,
                tuple(sorted({ref for _, ref, _ in run})),
                first_at=run[0][0],
                last_at=run[-1][0],
                caution="proxy" if proxy else None,
            )
            if proxy and config.proxy_policy == "withhold":
                withheld.append(item)
                continue
            uf.union_all([node for _, _, node in run])
            evidence.append(item)

    return _linking(persons, providers, person_report, uf, evidence, hubs, withheld, unusable)


def _runs(
    events: list[tuple[datetime, PersonRef, int]], window: timedelta
) -> list[list[tuple[datetime, PersonRef, int]]]:
    """Maximal chains of time-sorted events each within ``window`` of the previous one, keeping
    only chains that hold two or more persons."""
    runs: list[list[tuple[datetime, PersonRef, int]]] = []
    current = [events[0]]
    for event in events[1:]:
        if event[0] - current[-1][0] <= window:
            current.append(event)
        else:
            runs.append(current)
            current = [event]
    runs.append(current)
    return [run for run in runs if len({ref for _, ref, _ in run}) > 1]


def _linking(
    persons: list[PersonRef],
    providers: list[str],
    person_report: list[int],
    uf: UnionFind,
    evidence: list[LinkEvidence],
    hubs: list[HubIdentifier],
    withheld: list[LinkEvidence],
    unusable: Counter[str],
) -> Linking:
    # Nodes are numbered in input order; sorting by person reference makes the result
    # independent of that order.
    components = [sorted(nodes, key=lambda n: persons[n]) for nodes in uf.components(min_size=2)]
    components.sort(key=lambda nodes: persons[nodes[0]])
    by_person: dict[PersonRef, int] = {}
    for index, nodes in enumerate(components):
        for node in nodes:
            by_person[persons[node]] = index
    group_evidence: dict[int, list[LinkEvidence]] = defaultdict(list)
    for item in evidence:
        group_evidence[by_person[item.persons[0]]].append(item)
    groups = []
    for index, nodes in enumerate(components):
        refs = tuple(persons[n] for n in nodes)
        groups.append(
            LinkedGroup(
                group_id=index + 1,
                persons=refs,
                reports=tuple(sorted({r for r, _ in refs})),
                providers=tuple(sorted({providers[person_report[n]] for n in nodes})),
                evidence=tuple(sorted(group_evidence[index], key=_evidence_order)),
            )
        )
    return Linking(
        groups=tuple(groups),
        hubs=tuple(sorted(hubs, key=lambda h: h.identifier)),
        withheld=tuple(sorted(withheld, key=_evidence_order)),
        by_person=by_person,
        unusable=dict(unusable),
    )


def _evidence_order(item: LinkEvidence) -> tuple[Identifier, float, tuple[PersonRef, ...]]:
    at = float("-inf") if item.first_at is None else item.first_at.timestamp()
    return (item.identifier, at, item.persons)
