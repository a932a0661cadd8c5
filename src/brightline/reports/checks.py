"""Checks shared by the report context and the builder: text XML can carry, aware timestamps.

Messages name the field and the problem but never the value: the values are personal data
(names, addresses, identifiers) and error messages end up in logs and on screens.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from brightline.errors import InvalidInput

_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters outside XML 1.0's ``Char`` production: control characters, lone surrogates,
U+FFFE/U+FFFF. A report holding one could not be parsed by the clearinghouse at all, so such
text is refused instead of being silently dropped or replaced (which would alter evidence)."""


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot go into a report as text, or None if it can."""
    if not value.strip():
        return "is blank"
    if _NOT_XML.search(value):
        return "has characters XML cannot carry"
    return None


def check_text(name: str, value: str | None) -> None:
    """Refuse optional text that is blank or unencodable; None means "not known"."""
    if value is None:
        return
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text")
    problem = text_problem(value)
    if problem is not None:
        raise InvalidInput(f"{name} {problem}")


def check_texts(name: str, values: tuple[str, ...]) -> None:
    if not isinstance(values, tuple):
        raise InvalidInput(f"{name} must be a tuple")
    for index, value in enumerate(values):
        check_text(f"{name}[{index}]", value)


def check_aware(name: str, value: datetime | None) -> None:
    """Refuse naive or unrepresentable timestamps: a report's times must be unambiguous."""
    if value is None:
        return
    if not isinstance(value, datetime):
        raise InvalidInput(f"{name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{name} must be timezone-aware")
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(f"{name} is out of range") from None


def check_flag(name: str, value: bool | None) -> None:
    if value is not None and not isinstance(value, bool):
        raise InvalidInput(f"{name} must be true, false or unknown (None)")


def xml_datetime(value: datetime) -> str:
    """An ``xs:dateTime`` in UTC (``2026-12-01T08:00:00Z``)."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def xml_boolean(value: bool) -> str:
    return "true" if value else "false"
