"""Legal-process settings: each request type's clocks, the business calendar, escalation.

Read from ``BRIGHTLINE_LEGAL_*`` environment variables by the adapter that starts the process
(:func:`load_legal_settings`); tests build :class:`LegalSettings` directly. The defaults are a
starting point for an operator's counsel to adjust, not legal advice: the law fixes the
preservation period (18 U.S.C. § 2703(f): 90 days, renewable once for 90 more); the other clocks
are the platform's own commitments (or the date written on the process, which always counts).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from brightline.errors import InvalidInput
from brightline.legal.deadlines import BusinessCalendar, Duration, check_fractions, zone_named
from brightline.legal.models import RequestType

_ROLE = re.compile(r"[A-Za-z0-9_.:-]{1,100}")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class RequestClock:
    """How long a request type allows: to verify it once received, to answer it once verified."""

    verify: Duration
    respond: Duration | None
    """None for a preservation request: it asks to keep, not to produce (its clock is the
    preservation period)."""


DEFAULT_CLOCKS: Mapping[RequestType, RequestClock] = MappingProxyType(
    {
        RequestType.PRESERVATION: RequestClock(Duration.parse("24h"), None),
        RequestType.SUBPOENA: RequestClock(Duration.parse("2bd"), Duration.parse("20bd")),
        RequestType.COURT_ORDER: RequestClock(Duration.parse("2bd"), Duration.parse("10bd")),
        RequestType.SEARCH_WARRANT: RequestClock(Duration.parse("1bd"), Duration.parse("10d")),
        RequestType.EMERGENCY: RequestClock(Duration.parse("1h"), Duration.parse("4h")),
        RequestType.FOREIGN: RequestClock(Duration.parse("5bd"), Duration.parse("30bd")),
    }
)


@dataclass(frozen=True, slots=True)
class LegalSettings:
    """Everything the legal-process service reads (see docs/legal.md for each variable)."""

    timezone: str = "UTC"
    """The IANA zone days are counted in (``BRIGHTLINE_LEGAL_TIMEZONE``)."""
    holidays: frozenset[date] = frozenset()
    weekend: frozenset[int] = frozenset({5, 6})
    clocks: Mapping[RequestType, RequestClock] = field(default_factory=lambda: DEFAULT_CLOCKS)
    preservation_days: int = 90
    preservation_renewals: int = 1
    escalation_points: tuple[float, ...] = (0.5, 0.8)
    """Fractions of the time allowed at which a reminder (the first) and escalations (the rest)
    are recorded; a deadline that passes is recorded as overdue."""
    on_call_role: str = "on-call"
    """Who is paged for emergency requests."""
    max_attachment_bytes: int = 25 * 1024 * 1024
    max_attachments: int = 20

    def __post_init__(self) -> None:
        missing = [kind.value for kind in RequestType if kind not in self.clocks]
        if missing:
            raise InvalidInput(f"no clock for request type(s): {', '.join(missing)}")
        check_fractions(self.escalation_points)
        if not _ROLE.fullmatch(self.on_call_role):
            raise InvalidInput("the on-call role is a short name: letters, digits, '.', '_', '-'")
        self.calendar  # noqa: B018  (checks the zone and the weekend now, not at first use)

    @property
    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar(zone_named(self.timezone), self.holidays, self.weekend)

    def clock(self, kind: RequestType) -> RequestClock:
        return self.clocks[kind]


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be an integer") from None
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}")
    return value


def _items(env: Mapping[str, str], name: str) -> list[str] | None:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return None
    return [part.strip() for part in raw.split(",") if part.strip()]


def _holidays(env: Mapping[str, str], name: str) -> frozenset[date]:
    days = set()
    for part in _items(env, name) or []:
        try:
            days.add(date.fromisoformat(part))
        except ValueError:
            raise InvalidInput(f"{name}: holidays are ISO dates (2026-12-25)") from None
    return frozenset(days)


def _weekend(env: Mapping[str, str], name: str) -> frozenset[int]:
    parts = _items(env, name)
    if parts is None:
        return frozenset({5, 6})
    if [part.lower() for part in parts] == ["none"]:
        return frozenset()
    try:
        return frozenset(_WEEKDAYS.index(part.lower()[:3]) for part in parts)
    except ValueError:
        raise InvalidInput(f"{name}: weekend days are mon…sun (or none)") from None


def _duration(env: Mapping[str, str], name: str, default: Duration | None) -> Duration | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return Duration.parse(raw)
    except InvalidInput as exc:
        raise InvalidInput(f"{name}: {exc}") from None


def _clocks(env: Mapping[str, str]) -> dict[RequestType, RequestClock]:
    clocks = {}
    for kind, default in DEFAULT_CLOCKS.items():
        prefix = f"BRIGHTLINE_LEGAL_{kind.value.upper()}"
        verify = _duration(env, f"{prefix}_VERIFY", default.verify)
        respond = default.respond
        if kind is not RequestType.PRESERVATION:
            respond = _duration(env, f"{prefix}_RESPOND", default.respond)
        elif env.get(f"{prefix}_RESPOND", "").strip():
            raise InvalidInput(
                f"{prefix}_RESPOND: a preservation request has no response clock "
                "(set BRIGHTLINE_LEGAL_PRESERVATION_DAYS)"
            )
        if verify is None:  # pragma: no cover - every default has a verification clock
            raise InvalidInput(f"{prefix}_VERIFY is required")
        clocks[kind] = RequestClock(verify, respond)
    return clocks


def _fractions(env: Mapping[str, str], name: str) -> tuple[float, ...]:
    parts = _items(env, name)
    if parts is None:
        return (0.5, 0.8)
    try:
        values = [float(part) for part in parts]
    except ValueError:
        raise InvalidInput(f"{name}: fractions such as 0.5,0.8") from None
    try:
        return check_fractions(values)
    except InvalidInput as exc:
        raise InvalidInput(f"{name}: {exc}") from None


def load_legal_settings(environ: Mapping[str, str] | None = None) -> LegalSettings:
    """Read ``BRIGHTLINE_LEGAL_*`` from ``environ`` (default: the process environment)."""
    env = os.environ if environ is None else environ
    zone = env.get("BRIGHTLINE_LEGAL_TIMEZONE", "").strip() or "UTC"
    try:
        zone_named(zone)
    except InvalidInput as exc:
        raise InvalidInput(f"BRIGHTLINE_LEGAL_TIMEZONE: {exc}") from None
    role = env.get("BRIGHTLINE_LEGAL_ON_CALL_ROLE", "").strip() or "on-call"
    if not _ROLE.fullmatch(role):
        raise InvalidInput(
            "BRIGHTLINE_LEGAL_ON_CALL_ROLE is a short name: letters, digits, '.', '_', '-'"
        )
    return LegalSettings(
        timezone=zone,
        holidays=_holidays(env, "BRIGHTLINE_LEGAL_HOLIDAYS"),
        weekend=_weekend(env, "BRIGHTLINE_LEGAL_WEEKEND"),
        clocks=MappingProxyType(_clocks(env)),
        preservation_days=_int(env, "BRIGHTLINE_LEGAL_PRESERVATION_DAYS", 90, 90, 3650),
        preservation_renewals=_int(env, "BRIGHTLINE_LEGAL_PRESERVATION_RENEWALS", 1, 0, 100),
        escalation_points=_fractions(env, "BRIGHTLINE_LEGAL_ESCALATION_POINTS"),
        on_call_role=role,
        max_attachment_bytes=_int(
            env, "BRIGHTLINE_LEGAL_MAX_ATTACHMENT_BYTES", 25 * 1024 * 1024, 1, 1 << 32
        ),
        max_attachments=_int(env, "BRIGHTLINE_LEGAL_MAX_ATTACHMENTS", 20, 1, 1000),
    )
