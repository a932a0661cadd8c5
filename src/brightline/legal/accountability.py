"""Accountability for legal process: how fast requests were handled, what is still waiting, and
the counts a platform publishes in its transparency report.

Read-only: every function here takes a keyword-only ``session`` and only selects. The figures
come from the request's clock and its append-only history, not from columns that a later change
could move:

- **time to acknowledge**: from ``received_at`` (when the process reached the platform, the
  instant its verification clock starts) to the first ``status`` event into ``verified``;
- **time to preserve** (preservation requests): from ``received_at`` to the first
  ``hold_placed`` event (a request that held nothing has no such time, and is not counted);
- **time to produce**: from the ``verified`` event to the event into ``produced`` or
  ``partially_produced``.

Requests are grouped by the **month they were received**, in the legal time zone (a request
received at 23:30 on 31 October in New York is October's, although it is already November in
UTC). A month's figures therefore change while its requests are still being answered: they are
a cohort, the way platforms report response times. Medians are the usual median; 90th
percentiles are nearest-rank, so they are always a duration that really happened. Where nothing
was measured the figure is ``None`` ("no data"), never zero.

No personal data of account holders is read: only request ids, references, types, statuses,
times and agency names.
"""

from __future__ import annotations

import csv
import math
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from brightline.errors import InvalidInput
from brightline.legal.deadlines import BusinessCalendar, as_utc
from brightline.legal.models import (
    OPEN_STATUSES,
    Agency,
    DeadlineKind,
    EventKind,
    LegalRequest,
    RequestEvent,
    RequestStatus,
    RequestType,
)
from brightline.legal.records import is_overdue, next_deadline
from brightline.storage.base import utcnow

UTC_ZONE = ZoneInfo("UTC")
SLOWEST_OPEN = 10
"""How many of the longest-waiting open requests a summary lists."""
_PRODUCED = (RequestStatus.PRODUCED.value, RequestStatus.PARTIALLY_PRODUCED.value)
OUTCOMES = ("produced", "partially_produced", "rejected", "withdrawn", "expired", "open")
"""Transparency-report columns: every closed status, and ``open`` for anything still pending
(``expired`` is a preservation request whose period ran out without renewal)."""
_PERIOD = re.compile(r"(?P<year>\d{4})(?:-(?:(?P<half>H[12])|(?P<quarter>Q[1-4])))?")


# --- figures --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DurationSummary:
    """How long something took across ``count`` requests; ``None`` figures mean no data."""

    count: int
    median: timedelta | None
    p90: timedelta | None


def summarise(durations: Iterable[timedelta]) -> DurationSummary:
    """Median and nearest-rank 90th percentile; an empty input is "no data", not zero."""
    ordered = sorted(durations)
    if not ordered:
        return DurationSummary(count=0, median=None, p90=None)
    seconds = [value.total_seconds() for value in ordered]
    median = timedelta(seconds=statistics.median(seconds))
    p90 = ordered[math.ceil(0.9 * len(ordered)) - 1]
    return DurationSummary(count=len(ordered), median=median, p90=p90)


@dataclass(frozen=True, slots=True)
class MonthlyFigures:
    """One request type's requests received in one month (``YYYY-MM`` in the legal zone)."""

    month: str
    type: RequestType
    received: int
    acknowledge: DurationSummary
    preserve: DurationSummary | None
    """Only for preservation requests (``None`` for the other types: they place no hold)."""
    produce: DurationSummary


@dataclass(frozen=True, slots=True)
class OpenRequest:
    """An open request waiting the longest: what it is, who sent it and what is due next."""

    request_id: int
    reference: str
    type: RequestType
    status: RequestStatus
    agency_name: str
    received_at: datetime
    waiting: timedelta
    next_due_at: datetime | None
    next_due_kind: DeadlineKind | None
    overdue: bool


@dataclass(frozen=True, slots=True)
class LegalStats:
    """Response times per month and type in ``[since, until)``, and the open work ``now``.

    Open and overdue counts are of every request open now, whenever it was received: the
    backlog does not depend on the months chosen.
    """

    since: datetime | None
    until: datetime | None
    now: datetime
    zone: str
    months: list[MonthlyFigures]
    open_by_type: dict[RequestType, int]
    overdue_by_type: dict[RequestType, int]
    slowest_open: list[OpenRequest]

    @property
    def open_count(self) -> int:
        return sum(self.open_by_type.values())

    @property
    def overdue_count(self) -> int:
        return sum(self.overdue_by_type.values())


@dataclass(frozen=True, slots=True)
class _Timeline:
    received_at: datetime
    verified_at: datetime | None = None
    hold_placed_at: datetime | None = None
    produced_at: datetime | None = None


def _month(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m")


def _first_events(session: Session, request_ids: Sequence[int]) -> dict[int, dict[str, datetime]]:
    """Per request, the first time it was verified, held and produced, from its history."""
    found: dict[int, dict[str, datetime]] = {}
    if not request_ids:
        return found
    query = (
        select(
            RequestEvent.request_id,
            RequestEvent.kind,
            RequestEvent.to_status,
            func.min(RequestEvent.at),
        )
        .where(
            RequestEvent.request_id.in_(request_ids),
            or_(
                and_(
                    RequestEvent.kind == EventKind.STATUS.value,
                    RequestEvent.to_status.in_((RequestStatus.VERIFIED.value, *_PRODUCED)),
                ),
                RequestEvent.kind == EventKind.HOLD_PLACED.value,
            ),
        )
        .group_by(RequestEvent.request_id, RequestEvent.kind, RequestEvent.to_status)
    )
    for request_id, kind, to_status, first_at in session.execute(query):
        if first_at is None:  # pragma: no cover - a group always has a row
            continue
        key = "hold" if kind == EventKind.HOLD_PLACED.value else str(to_status)
        if key in _PRODUCED:
            key = "produced"
        events = found.setdefault(request_id, {})
        if key not in events or first_at < events[key]:
            events[key] = as_utc(first_at)
    return found


def _in_range(since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if since is not None:
        conditions.append(LegalRequest.received_at >= as_utc(since))
    if until is not None:
        conditions.append(LegalRequest.received_at < as_utc(until))
    return conditions


def legal_stats(
    *,
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    zone: ZoneInfo = UTC_ZONE,
    now: datetime | None = None,
    slowest: int = SLOWEST_OPEN,
) -> LegalStats:
    """Response times of the requests received in ``[since, until)`` by month and type, and the
    requests open ``now`` (counts, overdue, the ``slowest`` waiting longest)."""
    when = as_utc(now) if now is not None else utcnow()
    if since is not None and until is not None and as_utc(until) <= as_utc(since):
        raise InvalidInput("the end of the range must come after its start")
    if slowest < 0:
        raise InvalidInput("the number of slowest requests cannot be negative")
    rows = list(
        session.execute(
            select(LegalRequest.id, LegalRequest.type, LegalRequest.received_at)
            .where(*_in_range(since, until))
            .order_by(LegalRequest.received_at, LegalRequest.id)
        )
    )
    events = _first_events(session, [row.id for row in rows])
    groups: dict[tuple[str, RequestType], list[_Timeline]] = {}
    for request_id, kind, received_at in rows:
        first = events.get(request_id, {})
        timeline = _Timeline(
            received_at=as_utc(received_at),
            verified_at=first.get(RequestStatus.VERIFIED.value),
            hold_placed_at=first.get("hold"),
            produced_at=first.get("produced"),
        )
        key = (_month(timeline.received_at, zone), RequestType(kind))
        groups.setdefault(key, []).append(timeline)
    months = [
        _figures(month, kind, timelines)
        for (month, kind), timelines in sorted(
            groups.items(), key=lambda item: (item[0][0], list(RequestType).index(item[0][1]))
        )
    ]
    open_by_type, overdue_by_type, slowest_open = _open_work(session, when, slowest)
    return LegalStats(
        since=as_utc(since) if since is not None else None,
        until=as_utc(until) if until is not None else None,
        now=when,
        zone=zone.key,
        months=months,
        open_by_type=open_by_type,
        overdue_by_type=overdue_by_type,
        slowest_open=slowest_open,
    )


def _figures(month: str, kind: RequestType, timelines: list[_Timeline]) -> MonthlyFigures:
    acknowledge = [t.verified_at - t.received_at for t in timelines if t.verified_at is not None]
    preserve = [t.hold_placed_at - t.received_at for t in timelines if t.hold_placed_at is not None]
    produce = [
        t.produced_at - t.verified_at
        for t in timelines
        if t.produced_at is not None and t.verified_at is not None
    ]
    return MonthlyFigures(
        month=month,
        type=kind,
        received=len(timelines),
        acknowledge=summarise(acknowledge),
        preserve=summarise(preserve) if kind is RequestType.PRESERVATION else None,
        produce=summarise(produce),
    )


def _open_work(
    session: Session, now: datetime, slowest: int
) -> tuple[dict[RequestType, int], dict[RequestType, int], list[OpenRequest]]:
    open_by_type = dict.fromkeys(RequestType, 0)
    overdue_by_type = dict.fromkeys(RequestType, 0)
    waiting: list[OpenRequest] = []
    query = (
        select(LegalRequest, Agency.name)
        .join(Agency, Agency.id == LegalRequest.agency_id)
        .where(LegalRequest.status.in_([status.value for status in OPEN_STATUSES]))
        .order_by(LegalRequest.received_at, LegalRequest.id)
    )
    for request, agency_name in session.execute(query):
        kind = RequestType(request.type)
        overdue = is_overdue(request, now)
        open_by_type[kind] += 1
        overdue_by_type[kind] += int(overdue)
        upcoming = next_deadline(request)
        waiting.append(
            OpenRequest(
                request_id=request.id,
                reference=request.external_reference,
                type=kind,
                status=RequestStatus(request.status),
                agency_name=agency_name,
                received_at=request.received_at,
                waiting=now - request.received_at,
                next_due_at=upcoming.due_at if upcoming else None,
                next_due_kind=upcoming.kind if upcoming else None,
                overdue=overdue,
            )
        )
    return open_by_type, overdue_by_type, waiting[:slowest]


# --- the transparency report ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    """A year, half-year or quarter, as transparency reports are published (``2026-H2``)."""

    label: str
    first_day: date
    last_day: date

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The period's first instant and the instant after it, in ``zone``."""
        calendar = BusinessCalendar(zone=zone)
        return calendar.start_of_day(self.first_day), calendar.end_of_day(self.last_day)


def parse_period(text: str) -> ReportPeriod:
    """``2026``, ``2026-H1``/``H2`` or ``2026-Q1``…``Q4``, or InvalidInput."""
    raw = text.strip().upper()
    match = _PERIOD.fullmatch(raw)
    year = int(match["year"]) if match else 0
    if match is None or not 1970 <= year <= 9998:
        raise InvalidInput("a period is a year (2026), a half (2026-H2) or a quarter (2026-Q3)")
    if match["half"]:
        first_month = 1 if match["half"] == "H1" else 7
        months = 6
    elif match["quarter"]:
        first_month = 3 * (int(match["quarter"][1]) - 1) + 1
        months = 3
    else:
        first_month, months = 1, 12
    first = date(year, first_month, 1)
    next_month = first_month + months
    after = date(year + 1, 1, 1) if next_month > 12 else date(year, next_month, 1)
    return ReportPeriod(label=raw, first_day=first, last_day=after - timedelta(days=1))


@dataclass(frozen=True, slots=True)
class TransparencyRow:
    """One request type's requests received in the period, by what became of them."""

    type: RequestType | None
    """``None`` for the row of all types together."""
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())

    @property
    def produced_share(self) -> float | None:
        """The share where some data was produced (fully or partly); ``None`` with no requests."""
        if not self.total:
            return None
        produced = self.outcomes.get("produced", 0) + self.outcomes.get("partially_produced", 0)
        return produced / self.total


@dataclass(frozen=True, slots=True)
class TransparencyReport:
    """Counts by type and outcome of the requests received in a period (outcomes as of
    ``generated_at``: a request still open then is counted ``open``)."""

    period: ReportPeriod
    zone: str
    start: datetime
    end: datetime
    generated_at: datetime
    rows: list[TransparencyRow]

    @property
    def totals(self) -> TransparencyRow:
        combined = {
            outcome: sum(row.outcomes.get(outcome, 0) for row in self.rows) for outcome in OUTCOMES
        }
        return TransparencyRow(type=None, outcomes=combined)


def _outcome(status: str) -> str:
    return "open" if RequestStatus(status) in OPEN_STATUSES else status


def transparency_report(
    *,
    session: Session,
    period: ReportPeriod,
    zone: ZoneInfo = UTC_ZONE,
    now: datetime | None = None,
) -> TransparencyReport:
    """Every request type (with zeros: a type nobody served is reported as none), by outcome."""
    start, end = period.bounds(zone)
    counts = {kind: dict.fromkeys(OUTCOMES, 0) for kind in RequestType}
    query = (
        select(LegalRequest.type, LegalRequest.status, func.count())
        .where(LegalRequest.received_at >= start, LegalRequest.received_at < end)
        .group_by(LegalRequest.type, LegalRequest.status)
    )
    for kind, status, count in session.execute(query):
        counts[RequestType(kind)][_outcome(status)] += count
    return TransparencyReport(
        period=period,
        zone=zone.key,
        start=start,
        end=end,
        generated_at=as_utc(now) if now is not None else utcnow(),
        rows=[TransparencyRow(type=kind, outcomes=counts[kind]) for kind in RequestType],
    )


# --- CSV ------------------------------------------------------------------------------------

STATS_COLUMNS = (
    "month",
    "type",
    "received",
    "acknowledged",
    "acknowledge_median_hours",
    "acknowledge_p90_hours",
    "preserved",
    "preserve_median_hours",
    "preserve_p90_hours",
    "produced",
    "produce_median_hours",
    "produce_p90_hours",
)
TRANSPARENCY_COLUMNS = ("period", "type", *OUTCOMES, "total")


def describe_duration(value: timedelta | None) -> str:
    """A duration for people, to the minute (``2d 4h``, ``45m``); ``no data`` when unmeasured."""
    if value is None:
        return "no data"
    minutes = round(value.total_seconds() / 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours_, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours_}h"
    if hours_:
        return f"{hours_}h {minutes:02d}m"
    return f"{minutes}m"


def hours(value: timedelta | None) -> str:
    """Hours with two decimals, or an empty cell for "no data" (a spreadsheet must not read 0)."""
    return "" if value is None else f"{value.total_seconds() / 3600:.2f}"


def _summary_cells(summary: DurationSummary | None) -> list[str]:
    if summary is None:
        return ["", "", ""]
    return [str(summary.count), hours(summary.median), hours(summary.p90)]


def write_stats_csv(stats: LegalStats, out: TextIO) -> int:
    """The monthly figures as CSV (durations in hours); returns the number of data rows.

    Every cell is a month, a type code or a number: no free text, so nothing to neutralise.
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(STATS_COLUMNS)
    for row in stats.months:
        writer.writerow(
            [
                row.month,
                row.type.value,
                str(row.received),
                *_summary_cells(row.acknowledge),
                *_summary_cells(row.preserve),
                *_summary_cells(row.produce),
            ]
        )
    return len(stats.months)


def write_transparency_csv(report: TransparencyReport, out: TextIO) -> int:
    """The transparency report as CSV, one row per type and a ``total`` row."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TRANSPARENCY_COLUMNS)
    for row in [*report.rows, report.totals]:
        writer.writerow(
            [
                report.period.label,
                row.type.value if row.type is not None else "total",
                *(str(row.outcomes.get(outcome, 0)) for outcome in OUTCOMES),
                str(row.total),
            ]
        )
    return len(report.rows) + 1
