"""``BRIGHTLINE_LEGAL_*`` settings: every clock is configurable; bad values are refused."""

from __future__ import annotations

from datetime import date

import pytest

from brightline.errors import InvalidInput
from brightline.legal import Duration, LegalSettings, RequestType, load_legal_settings
from brightline.legal.settings import DEFAULT_CLOCKS


def test_defaults() -> None:
    settings = load_legal_settings({})
    assert settings == LegalSettings()
    assert settings.preservation_days == 90
    assert settings.preservation_renewals == 1
    assert str(settings.clock(RequestType.EMERGENCY).respond) == "4h"
    assert settings.clock(RequestType.PRESERVATION).respond is None
    assert set(DEFAULT_CLOCKS) == set(RequestType)


def test_every_setting_is_read() -> None:
    settings = load_legal_settings(
        {
            "BRIGHTLINE_LEGAL_TIMEZONE": "America/Chicago",
            "BRIGHTLINE_LEGAL_HOLIDAYS": "2026-12-25, 2027-01-01",
            "BRIGHTLINE_LEGAL_WEEKEND": "fri,sat",
            "BRIGHTLINE_LEGAL_SUBPOENA_VERIFY": "3bd",
            "BRIGHTLINE_LEGAL_SUBPOENA_RESPOND": "30d",
            "BRIGHTLINE_LEGAL_EMERGENCY_VERIFY": "15m",
            "BRIGHTLINE_LEGAL_PRESERVATION_DAYS": "120",
            "BRIGHTLINE_LEGAL_PRESERVATION_RENEWALS": "2",
            "BRIGHTLINE_LEGAL_ESCALATION_POINTS": "0.25,0.5,0.9",
            "BRIGHTLINE_LEGAL_ON_CALL_ROLE": "legal-on-call",
            "BRIGHTLINE_LEGAL_MAX_ATTACHMENT_BYTES": "1000",
            "BRIGHTLINE_LEGAL_MAX_ATTACHMENTS": "2",
        }
    )
    assert settings.calendar.zone.key == "America/Chicago"
    assert settings.holidays == {date(2026, 12, 25), date(2027, 1, 1)}
    assert settings.weekend == {4, 5}
    assert settings.clock(RequestType.SUBPOENA).verify == Duration.parse("3bd")
    assert settings.clock(RequestType.SUBPOENA).respond == Duration.parse("30d")
    assert settings.clock(RequestType.EMERGENCY).verify == Duration.parse("15m")
    assert settings.clock(RequestType.EMERGENCY).respond == Duration.parse("4h")
    assert (settings.preservation_days, settings.preservation_renewals) == (120, 2)
    assert settings.escalation_points == (0.25, 0.5, 0.9)
    assert settings.on_call_role == "legal-on-call"
    assert (settings.max_attachment_bytes, settings.max_attachments) == (1000, 2)
    assert load_legal_settings({"BRIGHTLINE_LEGAL_WEEKEND": "none"}).weekend == frozenset()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("BRIGHTLINE_LEGAL_TIMEZONE", "Mars/Olympus", "IANA"),
        ("BRIGHTLINE_LEGAL_HOLIDAYS", "25/12/2026", "ISO dates"),
        ("BRIGHTLINE_LEGAL_WEEKEND", "caturday", "mon"),
        ("BRIGHTLINE_LEGAL_WEEKEND", "mon,tue,wed,thu,fri,sat,sun", "never reach"),
        ("BRIGHTLINE_LEGAL_SEARCH_WARRANT_RESPOND", "ten days", "BRIGHTLINE_LEGAL_SEARCH"),
        ("BRIGHTLINE_LEGAL_PRESERVATION_RESPOND", "5d", "no response clock"),
        ("BRIGHTLINE_LEGAL_PRESERVATION_DAYS", "30", "between 90"),
        ("BRIGHTLINE_LEGAL_ESCALATION_POINTS", "0.8,0.5", "increasing"),
        ("BRIGHTLINE_LEGAL_ESCALATION_POINTS", "half", "fractions"),
        ("BRIGHTLINE_LEGAL_ON_CALL_ROLE", "on call; drop", "short name"),
        ("BRIGHTLINE_LEGAL_MAX_ATTACHMENTS", "0", "between 1"),
    ],
)
def test_bad_settings_are_refused(name: str, value: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        load_legal_settings({name: value})
