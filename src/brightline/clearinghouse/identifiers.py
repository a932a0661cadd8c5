"""Identifiers of reported persons, normalised so that equal means "the same account".

Each kind is normalised in exactly one place, here. What a normaliser cannot make sense of is
dropped (and counted by the caller), never guessed:

* **email**: NFKC, trimmed, case-folded; must have one ``@`` with text on both sides. Provider
  specific rules (dots or ``+tags`` in some mailboxes) are *not* applied: they hold for some
  domains only, and a wrong merge is worse than a missed one.
* **phone**: E.164 via ``phonenumbers``; a number without ``+`` and country code is read in the
  configured default region, or dropped when there is none. Extensions are ignored.
* **screen name**: scoped by service (a name identifies only within its service); both
  NFKC + case-folded, a leading ``@`` removed.
* **ESP identifier**: scoped by provider, compared exactly (providers' ids are opaque).
* **device id**: scoped by id type (case-folded), value NFKC + case-folded.
* **payment handle**: scoped by service, NFKC + case-folded, a leading ``$`` or ``@`` removed.
* **wallet address**: hex (``0x…``) and bech32 (``bc1…``, ``tb1…``, ``ltc1…``) addresses are
  lower-cased (they are case-insensitive); others (Base58) are kept exactly.
* **prior report**: ``priorCTReports`` joins a person to the person of the earlier report.

Placeholder values that many unrelated accounts share (``unknown``, ``n/a``, an all-zero
advertising id, ...) are dropped: they are the commonest source of false links.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass

import phonenumbers

from brightline.clearinghouse.model import IncomingReport, ReportedPerson

__all__ = [
    "Identifier",
    "IdentifierKind",
    "identifier_triples",
    "normalise_device_id",
    "normalise_email",
    "normalise_handle",
    "normalise_phone",
    "normalise_wallet",
    "person_identifiers",
]


class IdentifierKind(enum.StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    SCREEN_NAME = "screen_name"
    ESP_IDENTIFIER = "esp_identifier"
    DEVICE_ID = "device_id"
    IP_ADDRESS = "ip_address"
    PAYMENT_HANDLE = "payment_handle"
    WALLET_ADDRESS = "wallet_address"
    PRIOR_REPORT = "prior_report"


@dataclass(frozen=True, slots=True, order=True)
class Identifier:
    """A normalised identifier; ``scope`` is the service, provider or id type it lives in."""

    kind: IdentifierKind
    scope: str
    value: str

    @property
    def key(self) -> str:
        return f"{self.kind.value}\x1f{self.scope}\x1f{self.value}"

    @classmethod
    def from_key(cls, key: str) -> Identifier:
        kind, scope, value = key.split("\x1f", 2)
        return cls(IdentifierKind(kind), scope, value)

    def __str__(self) -> str:
        return (
            f"{self.kind.value}:{self.scope}/{self.value}"
            if self.scope
            else (f"{self.kind.value}:{self.value}")
        )


_PLACEHOLDERS = frozenset(
    {"unknown", "none", "null", "nil", "n/a", "na", "-", "undefined", "test", "noreply"}
)


_WHITESPACE = re.compile(r"\s")


def _fold(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().casefold()


def _uninformative(value: str) -> bool:
    """A placeholder word, no letters or digits at all, or one character repeated at least four
    times (``0000-0000``, ``ffff``): the defaults that unrelated accounts share."""
    if value in _PLACEHOLDERS:
        return True
    significant = [c for c in set(value) if c.isalnum()]  # distinct characters: fewer to test
    return not significant or (len(significant) == 1 and value.count(significant[0]) >= 4)


def normalise_email(value: str) -> str | None:
    folded = _fold(value)
    local, at, domain = folded.rpartition("@")
    if not at or not local or not domain or "@" in local or _WHITESPACE.search(folded):
        return None
    if _uninformative(local):
        return None
    return folded


def normalise_phone(value: str, default_region: str | None = None) -> str | None:
    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    number.extension = None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None if _uninformative(e164[-7:]) else e164


def normalise_handle(value: str) -> str | None:
    folded = _fold(value).lstrip("@$").strip()
    return None if _uninformative(folded) else folded


def normalise_device_id(value: str) -> str | None:
    folded = _fold(value)
    return None if _uninformative(folded) else folded


def normalise_wallet(value: str) -> str | None:
    stripped = unicodedata.normalize("NFKC", value).strip()
    lowered = stripped.lower()
    if lowered.startswith(("0x", "bc1", "tb1", "ltc1")):
        stripped = lowered
    return None if _uninformative(stripped) else stripped


def person_identifiers(
    report: IncomingReport,
    person: ReportedPerson,
    *,
    default_region: str | None = None,
    own_report_key: bool = False,
) -> tuple[list[Identifier], int]:
    """The identifiers of one reported person (IP addresses excluded: they need times).

    Returns the identifiers (deduplicated, sorted) and how many values could not be used.
    ``own_report_key`` adds the report's own id as a ``prior_report`` identifier, so that later
    reports naming it in ``priorCTReports`` join this person (only sound when the report has
    one reported person).
    """
    found, dropped = identifier_triples(report, person, default_region=default_region)
    if own_report_key:
        found.add((IdentifierKind.PRIOR_REPORT, "", report.report_id))
    return sorted(Identifier(*triple) for triple in found), dropped


def identifier_triples(
    report: IncomingReport, person: ReportedPerson, *, default_region: str | None = None
) -> tuple[set[tuple[IdentifierKind, str, str]], int]:
    """:func:`person_identifiers` as plain ``(kind, scope, value)`` triples, unsorted: what
    the column builder reads a million persons through (no objects, no sorting)."""
    found: set[tuple[IdentifierKind, str, str]] = set()
    dropped = 0

    def add(kind: IdentifierKind, scope: str, value: str | None) -> None:
        nonlocal dropped
        if value is None:
            dropped += 1
        else:
            found.add((kind, scope, value))

    for email in person.emails:
        add(IdentifierKind.EMAIL, "", normalise_email(email))
    for phone in person.phones:
        add(IdentifierKind.PHONE, "", normalise_phone(phone, default_region))
    for name in person.screen_names:
        add(IdentifierKind.SCREEN_NAME, _fold(name.service), normalise_handle(name.name))
    if person.esp_identifier is not None:
        esp = person.esp_identifier
        add(
            IdentifierKind.ESP_IDENTIFIER,
            report.provider,
            None if _uninformative(_fold(esp)) else esp,
        )
    for device in person.device_ids:
        add(IdentifierKind.DEVICE_ID, _fold(device.id_type), normalise_device_id(device.value))
    for handle in person.payment_handles:
        add(IdentifierKind.PAYMENT_HANDLE, _fold(handle.service), normalise_handle(handle.handle))
    for wallet in person.wallet_addresses:
        add(IdentifierKind.WALLET_ADDRESS, "", normalise_wallet(wallet))
    for prior in person.prior_report_ids:
        add(IdentifierKind.PRIOR_REPORT, "", prior)
    return found, dropped
