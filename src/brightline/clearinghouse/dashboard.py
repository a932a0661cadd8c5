"""The clearinghouse dashboard's figures: pure aggregation over per-report facts.

What the dashboard shows (reports per day, provider, tier and agency; how long from the
incident to the report and from the report to its referral; the share of new against known
files; duplicate and bundle rates) is computed here from :class:`ReportFacts`, one per analysed
report, so the same code serves the stored analysis (``analysis_store.dashboard_facts``), a
fresh in-memory :class:`~brightline.clearinghouse.pipeline.Analysis` (:func:`facts_from_analysis`,
for tests and benchmarks on generated data) and any scope (an investigator's agencies: only
their reports and their referrals are counted).

Definitions (also in docs/clearinghouse.md):

* a report's day is the UTC date it was received;
* **incident → report**: received minus ``incidentDateTime`` (reports without one, or whose
  incident is after receipt, are left out and counted in ``incident_missing``);
* **report → referral**: when an analysis first routed the referral minus when the report was
  received, per referral;
* **new share**: new files over checked (known + new) files; unchecked files are not evidence
  either way and are counted on their own;
* **duplicate rate**: files in a cluster (a cluster has two or more files) over all files;
* **bundle rate**: reports with at least one file in a bundle over all reports.

Medians and 90th percentiles are nearest-rank, so they are always a duration that occurred.
"""

from __future__ import annotations

import csv
import math
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TextIO

from brightline.clearinghouse.known import Novelty
from brightline.clearinghouse.pipeline import Analysis
from brightline.clearinghouse.triage import Tier

__all__ = [
    "Dashboard",
    "DashboardCache",
    "DurationSummary",
    "ReportFacts",
    "build_dashboard",
    "describe_duration",
    "facts_from_analysis",
    "write_dashboard_csv",
]

MAX_DAYS = 366
"""Days shown per day at most (the latest ones): the chart stays readable."""


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """What the dashboard needs of one analysed report (ids, times and counts only)."""

    report_id: str
    provider: str
    received_at: datetime
    incident_at: datetime | None
    tier: str
    bundled: bool
    files_known: int = 0
    files_new: int = 0
    files_unchecked: int = 0
    files_duplicated: int = 0
    """Files in a cluster (that is, with at least one other copy among the reports)."""
    referrals: tuple[tuple[str, datetime | None], ...] = ()
    """(agency, first routed) per referral."""

    @property
    def files(self) -> int:
        return self.files_known + self.files_new + self.files_unchecked


@dataclass(frozen=True, slots=True)
class DurationSummary:
    count: int
    median: timedelta | None
    p90: timedelta | None


def summarise(durations: Iterable[timedelta]) -> DurationSummary:
    """Median and 90th percentile, nearest rank; no input is "no data" (None), never zero."""
    ordered = sorted(durations)
    if not ordered:
        return DurationSummary(0, None, None)

    def rank(share: float) -> timedelta:
        return ordered[max(math.ceil(share * len(ordered)), 1) - 1]

    return DurationSummary(len(ordered), rank(0.5), rank(0.9))


def describe_duration(value: timedelta | None) -> str:
    """``3d 4h``, ``5h 12m``, ``40m``; ``-`` for no data."""
    if value is None:
        return "-"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Dashboard:
    reports: int
    per_day: tuple[tuple[date, int], ...]
    """Every day from the first to the last report (days without reports as 0), the latest
    :data:`MAX_DAYS` at most."""
    per_provider: tuple[tuple[str, int], ...]
    per_tier: tuple[tuple[str, int], ...]
    per_agency: tuple[tuple[str, int], ...]
    """Referrals per agency (a report referred to two agencies counts for each)."""
    incident_to_report: DurationSummary
    incident_missing: int
    report_to_referral: DurationSummary
    files_known: int
    files_new: int
    files_unchecked: int
    files_duplicated: int
    bundled_reports: int
    days_cut: int = 0
    """Earlier days left out of ``per_day`` (beyond :data:`MAX_DAYS`)."""
    scope: tuple[str, ...] | None = field(default=None)
    """The agencies counted (None: every agency)."""

    @property
    def files(self) -> int:
        return self.files_known + self.files_new + self.files_unchecked

    @property
    def new_share(self) -> float | None:
        return _share(self.files_new, self.files_known + self.files_new)

    @property
    def duplicate_rate(self) -> float | None:
        return _share(self.files_duplicated, self.files)

    @property
    def bundle_rate(self) -> float | None:
        return _share(self.bundled_reports, self.reports)


def _sorted_counts(counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def build_dashboard(
    facts: Iterable[ReportFacts], *, scope: Sequence[str] | None = None
) -> Dashboard:
    """The dashboard over ``facts``; with ``scope`` only reports referred to one of those
    agencies, and only their referrals, are counted."""
    wanted = None if scope is None else frozenset(scope)
    days: Counter[date] = Counter()
    providers: Counter[str] = Counter()
    tiers: Counter[str] = Counter()
    agencies: Counter[str] = Counter()
    to_report: list[timedelta] = []
    to_referral: list[timedelta] = []
    reports = missing = bundled = 0
    known = new = unchecked = duplicated = 0
    for one in facts:
        referrals = [r for r in one.referrals if wanted is None or r[0] in wanted]
        if wanted is not None and not referrals:
            continue
        reports += 1
        days[one.received_at.date()] += 1
        providers[one.provider] += 1
        tiers[one.tier] += 1
        if one.incident_at is not None and one.incident_at <= one.received_at:
            to_report.append(one.received_at - one.incident_at)
        else:
            missing += 1
        for agency, routed in referrals:
            agencies[agency] += 1
            if routed is not None and routed >= one.received_at:
                to_referral.append(routed - one.received_at)
        bundled += one.bundled
        known += one.files_known
        new += one.files_new
        unchecked += one.files_unchecked
        duplicated += one.files_duplicated
    per_day: list[tuple[date, int]] = []
    if days:
        first, last = min(days), max(days)
        span = (last - first).days + 1
        start = max(first, last - timedelta(days=MAX_DAYS - 1))
        per_day = [
            (start + timedelta(days=n), days.get(start + timedelta(days=n), 0))
            for n in range((last - start).days + 1)
        ]
        cut = span - len(per_day)
    else:
        cut = 0
    tier_order = [tier.value for tier in Tier]
    return Dashboard(
        reports=reports,
        per_day=tuple(per_day),
        per_provider=_sorted_counts(providers),
        per_tier=tuple((tier, tiers.get(tier, 0)) for tier in tier_order)
        + tuple((t, n) for t, n in sorted(tiers.items()) if t not in tier_order),
        per_agency=_sorted_counts(agencies),
        incident_to_report=summarise(to_report),
        incident_missing=missing,
        report_to_referral=summarise(to_referral),
        files_known=known,
        files_new=new,
        files_unchecked=unchecked,
        files_duplicated=duplicated,
        bundled_reports=bundled,
        days_cut=cut,
        scope=None if scope is None else tuple(sorted(wanted or ())),
    )


class DashboardCache:
    """Dashboards kept per scope until the stored analysis changes.

    The stored figures change only when an analysis run stores new results (feedback on a
    referral changes its status, which the dashboard does not show), so a dashboard built for
    the latest run's id stays right until the next run. Building one reads every analysed
    report (seconds at a million), which a console page must not repeat on every view. Entries
    for an older run are dropped as soon as a newer run is seen; at most ``max_scopes`` scopes
    are kept (least recently used first out). One build runs at a time per process.
    """

    def __init__(self, max_scopes: int = 64) -> None:
        self._max_scopes = max_scopes
        self._version: int | None = None
        self._entries: OrderedDict[tuple[str, ...] | None, Dashboard] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self,
        version: int | None,
        scope: Sequence[str] | None,
        build: Callable[[], Dashboard],
    ) -> Dashboard:
        """The dashboard for ``scope`` as of run ``version`` (None: no run yet, never cached)."""
        key = None if scope is None else tuple(sorted(scope))
        with self._lock:
            if version is None:
                return build()
            if version != self._version:
                self._entries.clear()
                self._version = version
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
            built = build()
            self._entries[key] = built
            while len(self._entries) > self._max_scopes:
                self._entries.popitem(last=False)
            return built


def facts_from_analysis(analysis: Analysis, *, routed_at: datetime) -> list[ReportFacts]:
    """The facts of an in-memory analysis (every referral routed at ``routed_at``)."""
    found = []
    for report_id, report in sorted(analysis.reports.items()):
        novelty: Counter[Novelty] = Counter()
        duplicated = 0
        bundled = False
        for ref in report.file_refs():
            novelty[Novelty.UNCHECKED if analysis.known is None else analysis.known.of(ref)] += 1
            duplicated += analysis.clustering.cluster_of(ref) is not None
            bundled = bundled or analysis.bundling.bundle_of(ref) is not None
        decision = analysis.routing.get(report_id)
        agencies = sorted({r.agency_id for r in decision.referrals}) if decision else []
        found.append(
            ReportFacts(
                report_id=report_id,
                provider=report.provider,
                received_at=report.received_at,
                incident_at=report.incident_at,
                tier=analysis.results[report_id].tier.value,
                bundled=bundled,
                files_known=novelty[Novelty.KNOWN],
                files_new=novelty[Novelty.NEW],
                files_unchecked=novelty[Novelty.UNCHECKED],
                files_duplicated=duplicated,
                referrals=tuple((agency, routed_at) for agency in agencies),
            )
        )
    return found


def _hours(value: timedelta | None) -> str:
    return "" if value is None else f"{value.total_seconds() / 3600:.2f}"


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def write_dashboard_csv(dashboard: Dashboard, out: TextIO) -> int:
    """The dashboard as CSV rows ``section,key,value`` (durations in hours, rates 0-1);
    returns the number of data rows."""
    writer = csv.writer(out, lineterminator="\n")
    rows: list[tuple[str, str, str]] = [("total", "reports", str(dashboard.reports))]
    rows += [("day", day.isoformat(), str(n)) for day, n in dashboard.per_day]
    rows += [("provider", name, str(n)) for name, n in dashboard.per_provider]
    rows += [("tier", name, str(n)) for name, n in dashboard.per_tier]
    rows += [("agency", name, str(n)) for name, n in dashboard.per_agency]
    for name, summary in (
        ("incident_to_report", dashboard.incident_to_report),
        ("report_to_referral", dashboard.report_to_referral),
    ):
        rows += [
            (name, "count", str(summary.count)),
            (name, "median_hours", _hours(summary.median)),
            (name, "p90_hours", _hours(summary.p90)),
        ]
    rows += [
        ("incident_to_report", "missing", str(dashboard.incident_missing)),
        ("files", "known", str(dashboard.files_known)),
        ("files", "new", str(dashboard.files_new)),
        ("files", "unchecked", str(dashboard.files_unchecked)),
        ("files", "duplicated", str(dashboard.files_duplicated)),
        ("rate", "new_share", _ratio(dashboard.new_share)),
        ("rate", "duplicate_rate", _ratio(dashboard.duplicate_rate)),
        ("rate", "bundle_rate", _ratio(dashboard.bundle_rate)),
    ]
    writer.writerow(("section", "key", "value"))
    writer.writerows(_safe(row) for row in rows)
    return len(rows)


def _safe(row: tuple[str, str, str]) -> tuple[str, str, str]:
    """Provider and agency names come from operators: a cell that a spreadsheet would run as
    a formula is prefixed with a quote."""
    return tuple(  # type: ignore[return-value]
        "'" + cell if cell[:1] in ("=", "+", "-", "@") and not _number(cell) else cell
        for cell in row
    )


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
