"""Deadline arithmetic as properties: time zones, DST changes, business days, holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from brightline.errors import InvalidInput
from brightline.legal.deadlines import (
    BusinessCalendar,
    Duration,
    Unit,
    as_utc,
    check_fractions,
    escalation_points,
)

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "America/Santiago",  # DST changes at midnight
    "America/Havana",  # DST changes at midnight
    "Asia/Kolkata",  # no DST, a half-hour offset
    "Pacific/Chatham",  # +12:45 / +13:45
    "Pacific/Apia",  # skipped 2011-12-30 entirely
    "America/St_Johns",
]
EPSILON = timedelta(microseconds=1)

instants = st.datetimes(
    min_value=datetime(2005, 1, 1), max_value=datetime(2040, 12, 31), timezones=st.just(UTC)
)
holiday_sets = st.frozensets(
    st.dates(min_value=date(2005, 1, 1), max_value=date(2041, 12, 31)), max_size=40
)
weekends = st.frozensets(st.integers(0, 6), max_size=6)


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    return BusinessCalendar(
        zone=ZoneInfo(draw(st.sampled_from(ZONES))),
        holidays=draw(holiday_sets),
        weekend=draw(st.one_of(st.just(frozenset({5, 6})), weekends)),
    )


@given(calendars(), instants, st.integers(1, 5000), st.sampled_from([Unit.MINUTES, Unit.HOURS]))
def test_minutes_and_hours_are_elapsed_time(
    calendar: BusinessCalendar, start: datetime, amount: int, unit: Unit
) -> None:
    due = calendar.add(start, Duration(amount, unit))
    step = timedelta(minutes=1) if unit is Unit.MINUTES else timedelta(hours=1)
    assert due - start == amount * step
    assert due.tzinfo is UTC


@given(calendars(), instants, st.integers(1, 400))
def test_calendar_days_end_at_local_midnight_of_the_nth_day(
    calendar: BusinessCalendar, start: datetime, days: int
) -> None:
    due = calendar.add(start, Duration(days, Unit.DAYS))
    assert due > start
    assert due.tzinfo is UTC
    last = calendar.day_of(due - EPSILON)
    assert last == calendar.day_of(start) + timedelta(days=days)
    assert calendar.day_of(due) > last  # the deadline is the first instant after that day


@given(calendars(), instants, st.integers(1, 60))
def test_business_days_count_only_business_days(
    calendar: BusinessCalendar, start: datetime, days: int
) -> None:
    due = calendar.add(start, Duration(days, Unit.BUSINESS_DAYS))
    last = calendar.day_of(due - EPSILON)
    assert calendar.is_business_day(last)
    assert last.weekday() not in calendar.weekend
    assert last not in calendar.holidays
    assert calendar.business_days_after(calendar.day_of(start), last) == days
    assert calendar.day_of(due) > last


@given(calendars(), instants, instants, st.integers(1, 30), st.sampled_from(list(Unit)))
def test_a_later_start_never_gives_an_earlier_deadline(
    calendar: BusinessCalendar, first: datetime, second: datetime, amount: int, unit: Unit
) -> None:
    early, late = sorted([first, second])
    duration = Duration(amount, unit)
    assert calendar.add(early, duration) <= calendar.add(late, duration)


@given(calendars(), instants, st.integers(1, 30), st.integers(1, 30), st.sampled_from(list(Unit)))
def test_more_time_never_gives_an_earlier_deadline(
    calendar: BusinessCalendar, start: datetime, first: int, second: int, unit: Unit
) -> None:
    low, high = sorted([first, second])
    assert calendar.add(start, Duration(low, unit)) <= calendar.add(start, Duration(high, unit))


@given(calendars(), st.dates(min_value=date(2005, 1, 1), max_value=date(2040, 12, 31)))
def test_start_of_day_is_the_first_instant_of_that_local_day(
    calendar: BusinessCalendar, day: date
) -> None:
    begins = calendar.start_of_day(day)
    assume(calendar.day_of(begins) == day)  # some zones skipped whole days (Apia, 2011-12-30)
    assert calendar.day_of(begins - EPSILON) < day


@given(
    instants,
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)),
    st.lists(st.floats(0.01, 0.99), min_size=1, max_size=4, unique=True).map(sorted),
)
def test_escalation_points_fall_before_the_deadline(
    start: datetime, allowed: timedelta, fractions: list[float]
) -> None:
    due = start + allowed
    points = escalation_points(start, due, fractions)
    assert points == sorted(points)
    if allowed > timedelta(0):
        assert all(start <= point < due for point in points)
    else:
        assert points == [start] * len(fractions)  # already due: escalate at once


def test_daylight_saving_changes_in_new_york() -> None:
    calendar = BusinessCalendar(zone=ZoneInfo("America/New_York"))
    # Received Sunday 1 March 2026, 10:00 EST; clocks go forward on 8 March.
    start = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
    # 14 calendar days: the end of 15 March, local midnight, which is now EDT (UTC-4).
    assert calendar.add(start, Duration.parse("14d")) == datetime(2026, 3, 16, 4, 0, tzinfo=UTC)
    # Four hours are four hours, even across the change at 02:00 on 8 March.
    night = datetime(2026, 3, 8, 5, 30, tzinfo=UTC)  # 00:30 EST
    assert calendar.add(night, Duration.parse("4h")) == datetime(2026, 3, 8, 9, 30, tzinfo=UTC)
    # Two business days from Friday 30 October (EDT) end on Tuesday 3 November, in EST.
    friday = datetime(2026, 10, 30, 20, 0, tzinfo=UTC)
    assert calendar.add(friday, Duration.parse("2bd")) == datetime(2026, 11, 4, 5, 0, tzinfo=UTC)


def test_holidays_and_weekends_are_skipped() -> None:
    christmas = date(2026, 12, 25)  # a Friday
    calendar = BusinessCalendar(zone=ZoneInfo("Europe/London"), holidays=frozenset({christmas}))
    thursday = datetime(2026, 12, 24, 12, 0, tzinfo=UTC)
    # Friday is a holiday, Saturday and Sunday the weekend: one business day is Monday 28th.
    assert calendar.add(thursday, Duration.parse("1bd")) == datetime(2026, 12, 29, 0, 0, tzinfo=UTC)
    # A Friday-Saturday weekend (BRIGHTLINE_LEGAL_WEEKEND=fri,sat): the next one is Sunday.
    other = BusinessCalendar(zone=ZoneInfo("Asia/Dubai"), weekend=frozenset({4, 5}))
    assert other.add(thursday, Duration.parse("1bd")) == datetime(2026, 12, 27, 20, 0, tzinfo=UTC)


def test_a_midnight_dst_change_starts_the_day_at_one() -> None:
    calendar = BusinessCalendar(zone=ZoneInfo("America/Havana"))
    # Cuba moved clocks from 00:00 to 01:00 on 8 March 2026: that day began at 05:00 UTC.
    begins = calendar.start_of_day(date(2026, 3, 8))
    assert begins.astimezone(calendar.zone).hour == 1
    assert calendar.day_of(begins - EPSILON) == date(2026, 3, 7)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30m", Duration(30, Unit.MINUTES)), (" 4H ", Duration(4, Unit.HOURS)),
     ("14d", Duration(14, Unit.DAYS)), ("20bd", Duration(20, Unit.BUSINESS_DAYS))],
)  # fmt: skip
def test_durations_parse(text: str, expected: Duration) -> None:
    assert Duration.parse(text) == expected
    assert Duration.parse(str(expected)) == expected


@pytest.mark.parametrize("text", ["", "4", "h", "0h", "-1d", "1.5h", "2 weeks", "99999999d"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        Duration.parse(text)


def test_naive_times_and_impossible_calendars_are_refused() -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        as_utc(datetime(2026, 12, 1, 9, 0))
    with pytest.raises(InvalidInput, match="never reach"):
        BusinessCalendar(weekend=frozenset(range(7)))
    with pytest.raises(InvalidInput):
        check_fractions([0.8, 0.5])
    with pytest.raises(InvalidInput):
        check_fractions([1.0])
