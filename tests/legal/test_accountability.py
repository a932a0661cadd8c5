"""Accountability figures on hand-built requests moved through the workflow with a controlled
clock (both databases): response times, open and overdue work, the transparency report."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from brightline.errors import InvalidInput
from brightline.evidence.store import EvidenceStore
from brightline.legal import LegalRequest, RequestStatus, RequestType, transition_request
from brightline.legal.accountability import (
    DurationSummary,
    legal_stats,
    parse_period,
    summarise,
    transparency_report,
    write_stats_csv,
    write_transparency_csv,
)
from tests.legal.helpers import (
    T0,
    Sender,
    context,
    make_sender,
    new_request,
    preserved_account,
    submit,
)

S = RequestStatus
CTX = context()
NEW_YORK = ZoneInfo("America/New_York")
HOUR = timedelta(hours=1)


def _received(
    session: Session,
    store: EvidenceStore,
    sender: Sender,
    at: datetime,
    kind: RequestType = RequestType.SUBPOENA,
    **extra: object,
) -> LegalRequest:
    return submit(session, CTX, store, new_request(sender, kind=kind, **extra), now=at)


def _move(session: Session, request: LegalRequest, *steps: tuple[RequestStatus, datetime]) -> None:
    for to, at in steps:
        transition_request(
            session=session, context=CTX, request_id=request.id, to=to, actor="staff-0002",
            reason="synthetic reason", now=at,
        )  # fmt: skip


def test_summaries_say_no_data_rather_than_zero() -> None:
    assert summarise([]) == DurationSummary(count=0, median=None, p90=None)
    assert summarise([HOUR]) == DurationSummary(count=1, median=HOUR, p90=HOUR)
    ten = [n * HOUR for n in range(10, 0, -1)]
    assert summarise(ten) == DurationSummary(count=10, median=5.5 * HOUR, p90=9 * HOUR)
    assert summarise([HOUR, 3 * HOUR, 2 * HOUR]).median == 2 * HOUR


def test_an_empty_database_has_no_figures_and_no_division_by_zero(session: Session) -> None:
    stats = legal_stats(session=session, now=T0)
    assert stats.months == []
    assert (stats.open_count, stats.overdue_count, stats.slowest_open) == (0, 0, [])
    report = transparency_report(session=session, period=parse_period("2026-H2"), now=T0)
    assert all(row.total == 0 and row.produced_share is None for row in report.rows)
    assert report.totals.total == 0
    out = io.StringIO()
    assert write_stats_csv(stats, out) == 0
    assert out.getvalue().count("\n") == 1


def test_times_to_acknowledge_and_produce_come_from_the_history(
    session: Session, store: EvidenceStore
) -> None:
    sender = make_sender(session)
    fast = _received(session, store, sender, T0)
    _move(session, fast, (S.VERIFIED, T0 + 2 * HOUR), (S.IN_PROGRESS, T0 + 3 * HOUR),
          (S.PRODUCED, T0 + 2 * HOUR + timedelta(days=2)))  # fmt: skip
    slow = _received(session, store, sender, T0 + HOUR)
    _move(session, slow, (S.VERIFIED, T0 + 7 * HOUR), (S.IN_PROGRESS, T0 + 8 * HOUR),
          (S.PARTIALLY_PRODUCED, T0 + 7 * HOUR + timedelta(days=4)))  # fmt: skip
    waiting = _received(session, store, sender, T0 + 2 * HOUR)
    _move(session, waiting, (S.VERIFIED, T0 + 3 * HOUR))
    _received(session, store, sender, T0 + 3 * HOUR)  # never acknowledged: no time for it

    stats = legal_stats(session=session, now=T0 + timedelta(days=5))
    [row] = stats.months
    assert (row.month, row.type, row.received) == ("2026-12", RequestType.SUBPOENA, 4)
    assert row.acknowledge == DurationSummary(3, 2 * HOUR, 6 * HOUR)
    assert row.produce == DurationSummary(2, timedelta(days=3), timedelta(days=4))
    assert row.preserve is None


def test_time_to_preserve_is_until_the_hold_is_placed(
    session: Session, store: EvidenceStore
) -> None:
    made = preserved_account(session, store)
    sender = make_sender(session)
    held = _received(
        session, store, sender, T0, kind=RequestType.PRESERVATION,
        accounts=[(made.service, made.platform_user_id)],
    )  # fmt: skip
    _move(session, held, (S.VERIFIED, T0 + 30 * timedelta(minutes=1)))
    nothing = _received(session, store, sender, T0, kind=RequestType.PRESERVATION)
    _move(session, nothing, (S.VERIFIED, T0 + 5 * HOUR))  # unknown account: nothing to hold

    [row] = legal_stats(session=session, now=T0 + timedelta(days=1)).months
    assert row.type is RequestType.PRESERVATION
    assert row.acknowledge.count == 2
    assert row.preserve == DurationSummary(1, timedelta(minutes=30), timedelta(minutes=30))
    assert row.produce.count == 0
    assert row.produce.median is None


def test_months_are_counted_in_the_legal_zone_across_daylight_saving(
    session: Session, store: EvidenceStore
) -> None:
    sender = make_sender(session)
    # 03:30 UTC on 1 November 2026 is 23:30 on 31 October in New York (still EDT).
    late_october = datetime(2026, 11, 1, 3, 30, tzinfo=UTC)
    request = _received(session, store, sender, late_october)
    # US clocks go back at 06:00 UTC that day: elapsed time is still 48 hours, not 49.
    _move(session, request, (S.VERIFIED, late_october + 48 * HOUR))

    [in_new_york] = legal_stats(session=session, zone=NEW_YORK, now=T0).months
    assert in_new_york.month == "2026-10"
    assert in_new_york.acknowledge.median == 48 * HOUR
    [in_utc] = legal_stats(session=session, now=T0).months
    assert in_utc.month == "2026-11"


def test_the_range_is_half_open_on_the_time_received(
    session: Session, store: EvidenceStore
) -> None:
    sender = make_sender(session)
    for offset in (0, 1, 2):
        _received(session, store, sender, T0 + offset * timedelta(days=1))
    stats = legal_stats(
        session=session, since=T0, until=T0 + timedelta(days=2), now=T0 + timedelta(days=3)
    )
    assert sum(row.received for row in stats.months) == 2
    assert stats.open_count == 3  # the backlog does not depend on the range
    with pytest.raises(InvalidInput, match="after its start"):
        legal_stats(session=session, since=T0, until=T0)


def test_open_overdue_and_the_slowest_with_their_next_deadline(
    session: Session, store: EvidenceStore
) -> None:
    sender = make_sender(session)
    oldest = _received(session, store, sender, T0)  # subpoena: verify within 2 business days
    newer = _received(session, store, sender, T0 + timedelta(days=3), kind=RequestType.EMERGENCY)
    closed = _received(session, store, sender, T0)
    _move(session, closed, (S.WITHDRAWN, T0 + HOUR))

    now = T0 + timedelta(days=3, minutes=30)
    stats = legal_stats(session=session, now=now, slowest=5)
    assert stats.open_count == 2
    assert stats.open_by_type[RequestType.SUBPOENA] == 1
    assert stats.overdue_by_type[RequestType.SUBPOENA] == 1  # two business days have passed
    assert stats.overdue_count == 1  # the emergency's hour to verify has not
    first, second = stats.slowest_open
    assert (first.request_id, second.request_id) == (oldest.id, newer.id)
    assert first.overdue
    assert not second.overdue
    assert first.waiting == now - T0
    assert first.next_due_at == oldest.verify_due_at
    assert first.reference == oldest.external_reference
    assert first.agency_name == sender.agency.name
    assert len(legal_stats(session=session, now=now, slowest=1).slowest_open) == 1


def test_transparency_report_by_type_and_outcome(session: Session, store: EvidenceStore) -> None:
    sender = make_sender(session)
    day = timedelta(days=1)
    produced = _received(session, store, sender, T0)
    _move(session, produced, (S.VERIFIED, T0 + HOUR), (S.IN_PROGRESS, T0 + 2 * HOUR),
          (S.PRODUCED, T0 + day))  # fmt: skip
    partly = _received(session, store, sender, T0)
    _move(session, partly, (S.VERIFIED, T0 + HOUR), (S.IN_PROGRESS, T0 + 2 * HOUR),
          (S.PARTIALLY_PRODUCED, T0 + day))  # fmt: skip
    rejected = _received(session, store, sender, T0, kind=RequestType.COURT_ORDER)
    _move(session, rejected, (S.REJECTED, T0 + HOUR))
    withdrawn = _received(session, store, sender, T0, kind=RequestType.EMERGENCY)
    _move(session, withdrawn, (S.WITHDRAWN, T0 + HOUR))
    _received(session, store, sender, T0, kind=RequestType.FOREIGN)
    # 02:00 UTC on 1 July is still 30 June in New York: the first half, not the second.
    _received(session, store, sender, datetime(2026, 7, 1, 2, 0, tzinfo=UTC))

    report = transparency_report(
        session=session, period=parse_period("2026-H2"), zone=NEW_YORK, now=T0 + 2 * day
    )
    rows = {row.type: row for row in report.rows}
    assert rows[RequestType.SUBPOENA].outcomes["produced"] == 1
    assert rows[RequestType.SUBPOENA].outcomes["partially_produced"] == 1
    assert rows[RequestType.SUBPOENA].produced_share == 1.0
    assert rows[RequestType.COURT_ORDER].outcomes["rejected"] == 1
    assert rows[RequestType.EMERGENCY].outcomes["withdrawn"] == 1
    assert rows[RequestType.FOREIGN].outcomes["open"] == 1
    assert rows[RequestType.PRESERVATION].total == 0
    assert report.totals.total == 5
    assert report.start == datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
    first_half = transparency_report(
        session=session, period=parse_period("2026-h1"), zone=NEW_YORK, now=T0
    )
    assert first_half.totals.outcomes["open"] == 1

    out = io.StringIO()
    assert write_transparency_csv(report, out) == len(RequestType) + 1
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        "period,type,produced,partially_produced,rejected,withdrawn,expired,open,total"
    )
    assert "2026-H2,subpoena,1,1,0,0,0,0,2" in lines
    assert lines[-1] == "2026-H2,total,1,1,1,1,0,1,5"


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2026", "2026-01-01", "2026-12-31"),
        ("2026-H1", "2026-01-01", "2026-06-30"),
        ("2026-H2", "2026-07-01", "2026-12-31"),
        ("2026-Q1", "2026-01-01", "2026-03-31"),
        (" 2026-q4 ", "2026-10-01", "2026-12-31"),
    ],
)
def test_periods(text: str, first: str, last: str) -> None:
    period = parse_period(text)
    assert (period.first_day.isoformat(), period.last_day.isoformat()) == (first, last)


@pytest.mark.parametrize("text", ["", "26", "2026-H3", "2026-Q5", "2026-07", "0001", "2026-Q1x"])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="a period is"):
        parse_period(text)


def test_stats_csv_has_hours_and_empty_cells_for_no_data(
    session: Session, store: EvidenceStore
) -> None:
    sender = make_sender(session)
    request = _received(session, store, sender, T0)
    _move(session, request, (S.VERIFIED, T0 + 90 * timedelta(minutes=1)))
    out = io.StringIO()
    assert write_stats_csv(legal_stats(session=session, now=T0 + HOUR * 2), out) == 1
    header, line = out.getvalue().splitlines()
    assert header.startswith("month,type,received,acknowledged,acknowledge_median_hours")
    assert line == "2026-12,subpoena,1,1,1.50,1.50,,,,0,,"
