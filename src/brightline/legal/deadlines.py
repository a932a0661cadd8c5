"""Deadline arithmetic: elapsed time, calendar days and business days, in one time zone.

Every instant is stored and returned in UTC; days are counted in the configured zone
(:mod:`zoneinfo`), so a deadline "in 14 days" ends at local midnight whatever daylight-saving
change happens in between, while a deadline "in 4 hours" is four real hours later. The rules,
and why:

- **Minutes and hours** (``30m``, ``4h``) are elapsed time: an emergency request answered "within
  four hours" means four hours on the clock, DST or not.
- **Calendar days** (``14d``) end at the end of the N-th day after the day the clock started,
  in the configured zone: the day of the event is not counted (as in FRCP 6(a)), and the last
  day ends at local midnight.
- **Business days** (``20bd``) count only days that are neither weekend days nor holidays,
  starting with the day after the event, and end at the end of the N-th such day.

Escalation points are fractions of the time allowed (half-way, four-fifths of the way):
they scale from a one-hour emergency clock to a 90-day preservation and always fall strictly
before the deadline they warn about.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from brightline.errors import InvalidInput

_ONE_MICROSECOND = timedelta(microseconds=1)


class Unit(enum.StrEnum):
    MINUTES = "m"
    HOURS = "h"
    DAYS = "d"
    """Calendar days, ending at local midnight."""
    BUSINESS_DAYS = "bd"
    """Days that are neither weekend days nor holidays, ending at local midnight."""


_MAX_AMOUNT = {
    Unit.MINUTES: 366 * 24 * 60,
    Unit.HOURS: 366 * 24,
    Unit.DAYS: 3660,
    Unit.BUSINESS_DAYS: 2610,
}
_DURATION = re.compile(r"([0-9]{1,7})\s*(m|h|d|bd)")


@dataclass(frozen=True, slots=True)
class Duration:
    """An amount of time a clock allows: ``30m``, ``4h``, ``14d`` or ``20bd``."""

    amount: int
    unit: Unit

    def __post_init__(self) -> None:
        limit = _MAX_AMOUNT[self.unit]
        if not 1 <= self.amount <= limit:
            raise InvalidInput(f"a duration in {self.unit.name.lower()} is 1 to {limit}")

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = _DURATION.fullmatch(text.strip().lower())
        if match is None:
            raise InvalidInput(
                "a duration is a whole number and a unit: m (minutes), h (hours), "
                "d (calendar days) or bd (business days), e.g. 4h or 20bd"
            )
        return cls(int(match.group(1)), Unit(match.group(2)))

    def __str__(self) -> str:
        return f"{self.amount}{self.unit.value}"


def zone_named(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (``America/New_York``), or InvalidInput."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("unknown time zone: use an IANA name such as America/New_York") from None


def as_utc(moment: datetime, what: str = "a time") -> datetime:
    """``moment`` in UTC; a naive datetime is refused (its zone would be a guess)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(f"{what} must carry a time zone (naive times are ambiguous)")
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Where days are counted: a time zone, its weekend days and its holidays."""

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    holidays: frozenset[date] = frozenset()
    weekend: frozenset[int] = frozenset({5, 6})
    """ISO weekday numbers from 0 (Monday) to 6 (Sunday)."""

    def __post_init__(self) -> None:
        if not self.weekend <= set(range(7)):
            raise InvalidInput("weekend days are numbered 0 (Monday) to 6 (Sunday)")
        if len(self.weekend) == 7:
            raise InvalidInput("a week with no business day would never reach a deadline")

    def is_business_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend and day not in self.holidays

    def day_of(self, moment: datetime) -> date:
        """The local date of ``moment``."""
        return as_utc(moment).astimezone(self.zone).date()

    def start_of_day(self, day: date) -> datetime:
        """The first instant (UTC) whose local date is ``day``.

        Usually local midnight; where a DST change skips midnight (clocks jump from 23:59 to
        01:00, as in some zones), the day begins at the jump, found by bisection.
        """
        naive = datetime.combine(day, time())
        moment = naive.replace(tzinfo=self.zone).astimezone(UTC)
        if moment.astimezone(self.zone).replace(tzinfo=None) == naive:
            return moment  # fold=0: the first of two midnights when one repeats
        low, high = moment - timedelta(days=2), moment
        while high - low > _ONE_MICROSECOND:
            middle = low + (high - low) / 2
            if self.day_of(middle) >= day:
                high = middle
            else:
                low = middle
        return high

    def end_of_day(self, day: date) -> datetime:
        """The instant ``day`` ends locally: the first instant of the next local day."""
        return self.start_of_day(day + timedelta(days=1))

    def add(self, start: datetime, duration: Duration) -> datetime:
        """The deadline ``duration`` after ``start`` (UTC)."""
        start = as_utc(start, "the start of a clock")
        if duration.unit is Unit.MINUTES:
            return start + timedelta(minutes=duration.amount)
        if duration.unit is Unit.HOURS:
            return start + timedelta(hours=duration.amount)
        day = self.day_of(start)
        if duration.unit is Unit.DAYS:
            return self.end_of_day(day + timedelta(days=duration.amount))
        counted = 0
        while counted < duration.amount:
            day += timedelta(days=1)
            if self.is_business_day(day):
                counted += 1
        return self.end_of_day(day)

    def business_days_after(self, first: date, last: date) -> int:
        """How many business days lie in ``(first, last]``."""
        days = (last - first).days
        return sum(self.is_business_day(first + timedelta(days=n)) for n in range(1, days + 1))


def escalation_points(start: datetime, due: datetime, fractions: Sequence[float]) -> list[datetime]:
    """When each escalation level begins: ``start`` plus that fraction of the time allowed.

    Every point falls in ``[start, due)`` when ``due > start`` (floored to the microsecond, so
    rounding can never put one on the deadline itself); a deadline already due when its clock
    started (a date on the legal process that has passed) escalates at once.
    """
    start, due = as_utc(start), as_utc(due)
    span = (due - start) // _ONE_MICROSECOND
    if span <= 0:
        return [start for _ in fractions]
    return [
        start + timedelta(microseconds=min(int(span * fraction), span - 1))
        for fraction in fractions
    ]


def check_fractions(fractions: Iterable[float]) -> tuple[float, ...]:
    """Escalation fractions: strictly increasing, each strictly between 0 and 1."""
    values = tuple(fractions)
    if not values:
        raise InvalidInput("at least one escalation point is needed before a deadline")
    previous = 0.0
    for value in values:
        if not previous < value < 1:
            raise InvalidInput(
                "escalation points are fractions of the time allowed, increasing, "
                "each strictly between 0 and 1 (e.g. 0.5,0.8)"
            )
        previous = value
    return values
