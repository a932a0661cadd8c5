"""Linking (deconfliction): reports about the same person, across providers.

Every reported person of every report is a node. Two nodes are linked when they share a
normalised identifier (:mod:`brightline.clearinghouse.identifiers`: email, E.164 phone, screen
name on a service, ESP identifier at a provider, device id, payment handle, wallet address, a
``priorCTReports`` reference) or when both were seen at the same IP address within
``ip_window`` of each other. Linked groups are the connected components (computed over the
interned identifiers of :class:`~brightline.clearinghouse.columns.ReportColumns`), so the
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
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from brightline.clearinghouse._unionfind import component_labels
from brightline.clearinghouse.columns import KIND_CODE, ReportColumns, datetime_of
from brightline.clearinghouse.identifiers import Identifier, IdentifierKind
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
    "link_columns",
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


def link_reports(
    reports: Sequence[IncomingReport],
    config: LinkingConfig | None = None,
    *,
    proxies: NetworkTable[str] | None = None,
) -> Linking:
    """Link the persons of ``reports`` (see the module docstring)."""
    config = config or LinkingConfig()
    columns = ReportColumns.build(reports, default_phone_region=config.default_phone_region)
    return link_columns(columns, config, proxies=proxies)


_EMPTY = np.zeros(0, dtype=np.int64)


def link_columns(
    columns: ReportColumns,
    config: LinkingConfig | None = None,
    *,
    proxies: NetworkTable[str] | None = None,
) -> Linking:
    """:func:`link_reports` over columns (built with the same ``default_phone_region``)."""
    config = config or LinkingConfig()
    if not columns.has_identifiers:
        raise InvalidInput("the columns were built without identifiers")
    if columns.default_phone_region != config.default_phone_region:
        raise InvalidInput("the columns were built for another default_phone_region")
    proxies = proxies or NetworkTable()
    people = columns.person_count
    cap = config.max_reports_per_identifier
    sources: list[NDArray[np.int64]] = []
    targets: list[NDArray[np.int64]] = []
    hubs: list[HubIdentifier] = []
    evidence: list[LinkEvidence] = []
    withheld: list[LinkEvidence] = []

    def refs(nodes: NDArray[np.int64]) -> tuple[PersonRef, ...]:
        ordered = nodes[np.argsort(columns.person_rank[nodes], kind="stable")]
        return tuple(columns.person_ref(n) for n in ordered.tolist())

    def join(nodes: NDArray[np.int64]) -> None:
        sources.append(np.full(len(nodes) - 1, nodes[0], dtype=np.int64))
        targets.append(nodes[1:])

    occurrences, priors = _identifier_occurrences(columns, config)
    for identifier, nodes, count in _shared(columns, occurrences, priors):
        if identifier.kind is IdentifierKind.PRIOR_REPORT:
            earlier = columns.index.get(identifier.value)
            if earlier is None or not (columns.person_report[nodes] == earlier).any():
                continue  # the earlier report is not here, or has several persons: ambiguous
        if count > cap:
            hubs.append(HubIdentifier(identifier, count))
            continue
        join(nodes)
        evidence.append(LinkEvidence(identifier, refs(nodes)))

    unusable: dict[str, int] = {}
    if people:
        unusable["identifier"] = columns.unusable_identifiers
    if IdentifierKind.IP_ADDRESS in config.kinds:
        if columns.ip_without_time:
            unusable["ip_without_time"] = columns.ip_without_time
        window = config.ip_window // timedelta(microseconds=1)
        for address, rows in _shared_addresses(columns):
            nodes = columns.ip_person[rows]
            count = len(np.unique(columns.person_report[nodes]))
            identifier = Identifier(IdentifierKind.IP_ADDRESS, "", address)
            if count > cap:
                hubs.append(HubIdentifier(identifier, count))
                continue
            proxy = bool(columns.ip_proxy[rows].any()) or ipaddress.ip_address(address) in proxies
            at = columns.ip_at[rows]
            breaks = np.flatnonzero(np.diff(at) > window) + 1
            for run in np.split(np.arange(len(rows)), breaks):
                run_nodes = np.unique(nodes[run])
                if len(run_nodes) < 2:
                    continue
                first, last = rows[run[0]], rows[run[-1]]
                item = LinkEvidence(
                    identifier,
                    refs(run_nodes),
                    first_at=datetime_of(columns.ip_at[first], columns.ip_offset[first]),
                    last_at=datetime_of(columns.ip_at[last], columns.ip_offset[last]),
                    caution="proxy" if proxy else None,
                )
                if proxy and config.proxy_policy == "withhold":
                    withheld.append(item)
                    continue
                join(run_nodes)
                evidence.append(item)

    labels = component_labels(
        people,
        np.concatenate(sources) if sources else _EMPTY,
        np.concatenate(targets) if targets else _EMPTY,
    )
    return _linking(columns, labels, evidence, hubs, withheld, unusable)


def _identifier_occurrences(
    columns: ReportColumns, config: LinkingConfig
) -> tuple[NDArray[np.int64], list[Identifier]]:
    """(identifier, person) pairs of the enabled kinds, distinct, sorted by identifier, with
    ``priorCTReports`` references numbered after the interned identifiers; and the
    ``Identifier`` of each prior reference number."""
    people = max(1, columns.person_count)
    kinds = np.asarray(sorted(KIND_CODE[k] for k in config.kinds), dtype=np.int64)
    keep = np.isin(columns.identifier_kind[columns.occ_identifier], kinds)
    keys = [columns.occ_identifier[keep] * people + columns.occ_person[keep]]
    priors: list[Identifier] = []
    if IdentifierKind.PRIOR_REPORT in config.kinds and len(columns.prior_person):
        number: dict[str, int] = {}
        codes = np.fromiter(
            (number.setdefault(v, len(number)) for v in columns.prior_values),
            dtype=np.int64,
            count=len(columns.prior_values),
        )
        persons = [columns.prior_person]
        owned = [codes]
        # The earlier report's own person holds its id, when the report has exactly one.
        for value, code in number.items():
            earlier = columns.index.get(value)
            if (
                earlier is not None
                and columns.person_start[earlier + 1] - columns.person_start[earlier] == 1
            ):
                persons.append(np.asarray([columns.person_start[earlier]], dtype=np.int64))
                owned.append(np.asarray([code], dtype=np.int64))
        offset = len(columns.identifier_keys)
        keys.append((np.concatenate(owned) + offset) * people + np.concatenate(persons))
        priors = [Identifier(IdentifierKind.PRIOR_REPORT, "", v) for v in number]
    return np.unique(np.concatenate(keys)), priors


def _shared(
    columns: ReportColumns, occurrences: NDArray[np.int64], priors: list[Identifier]
) -> Iterator[tuple[Identifier, NDArray[np.int64], int]]:
    """Each identifier held by two or more persons: the persons and their number of reports."""
    people = max(1, columns.person_count)
    idents = occurrences // people
    persons = occurrences % people
    _, starts, counts = np.unique(idents, return_index=True, return_counts=True)
    interned = len(columns.identifier_keys)
    for start, count in zip(
        starts[counts >= 2].tolist(), counts[counts >= 2].tolist(), strict=True
    ):
        nodes = persons[start : start + count]
        code = int(idents[start])
        identifier = (
            Identifier.from_key(columns.identifier_keys[code])
            if code < interned
            else priors[code - interned]
        )
        yield identifier, nodes, len(np.unique(columns.person_report[nodes]))


def _shared_addresses(columns: ReportColumns) -> Iterator[tuple[str, NDArray[np.int64]]]:
    """Each address sighted for two or more persons: its sightings sorted by time, then person."""
    people = max(1, columns.person_count)
    pairs = np.unique(columns.ip_address * people + columns.ip_person)
    per_address = np.bincount(pairs // people, minlength=len(columns.addresses))
    shared = np.flatnonzero(per_address >= 2)
    rows = np.flatnonzero(np.isin(columns.ip_address, shared))
    rows = rows[
        np.lexsort(
            (
                columns.person_rank[columns.ip_person[rows]],
                columns.ip_at[rows],
                columns.ip_address[rows],
            )
        )
    ]
    bounds = np.flatnonzero(np.diff(columns.ip_address[rows])) + 1
    for group in np.split(rows, bounds) if len(rows) else []:
        yield columns.addresses[int(columns.ip_address[group[0]])], group


def _linking(
    columns: ReportColumns,
    labels: NDArray[np.int64],
    evidence: list[LinkEvidence],
    hubs: list[HubIdentifier],
    withheld: list[LinkEvidence],
    unusable: dict[str, int],
) -> Linking:
    # Nodes are numbered in input order; sorting by person reference makes the result
    # independent of that order.
    sizes = np.bincount(labels, minlength=len(labels)) if len(labels) else labels
    members = np.flatnonzero(sizes[labels] >= 2) if len(labels) else labels
    rank = columns.person_rank
    first = np.full(len(labels), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, labels[members], rank[members])
    order = members[np.lexsort((rank[members], first[labels[members]]))]
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    components = np.split(order, bounds) if len(order) else []
    by_person: dict[PersonRef, int] = {}
    group_refs = []
    for index, nodes in enumerate(components):
        refs = tuple(columns.person_ref(n) for n in nodes.tolist())
        group_refs.append(refs)
        for ref in refs:
            by_person[ref] = index
    group_evidence: dict[int, list[LinkEvidence]] = defaultdict(list)
    for item in evidence:
        group_evidence[by_person[item.persons[0]]].append(item)
    groups = []
    providers = columns.providers
    for index, nodes in enumerate(components):
        refs = group_refs[index]
        reports = columns.person_report[nodes]
        groups.append(
            LinkedGroup(
                group_id=index + 1,
                persons=refs,
                reports=tuple(sorted({r for r, _ in refs})),
                providers=tuple(sorted({providers[p] for p in columns.provider[reports].tolist()})),
                evidence=tuple(sorted(group_evidence[index], key=_evidence_order)),
            )
        )
    return Linking(
        groups=tuple(groups),
        hubs=tuple(sorted(hubs, key=lambda h: h.identifier)),
        withheld=tuple(sorted(withheld, key=_evidence_order)),
        by_person=by_person,
        unusable=unusable,
    )


def _evidence_order(item: LinkEvidence) -> tuple[Identifier, float, tuple[PersonRef, ...]]:
    at = float("-inf") if item.first_at is None else item.first_at.timestamp()
    return (item.identifier, at, item.persons)
