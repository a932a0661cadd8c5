"""The data behind the migration extractors: services, domains, phrases and price words.

Which domains belong to which messaging, cloud-storage, payment or link-page service changes far
more often than the code does, so it is data: ``data/migration_tables.json`` ships with the
package, and an operator may load their own file to **extend** it (their services are added; one
with the name of a shipped service replaces it; lists of words are joined) or to **replace** it.
The format is documented in ``docs/text.md``; every problem is reported with its place in the
file (``services[3].invite_urls[0]: not a valid regular expression``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from brightline.errors import InvalidInput

FORMAT = "brightline-migration-tables"
DEFAULT_FILE = "migration_tables.json"
DEFAULT_HANDLE_PATTERN = r"@?[A-Za-z0-9_][A-Za-z0-9_.\-]{2,31}"


class ServiceCategory(StrEnum):
    MESSAGING = "messaging"
    CLOUD_STORAGE = "cloud_storage"
    PAYMENT = "payment"
    LINK_PAGE = "link_page"


@dataclass(frozen=True)
class Service:
    """One off-platform service. URL patterns are matched against ``host/path`` (no scheme,
    no ``www.``); ``keywords`` followed by ``:`` (or similar) and a handle name a handle."""

    name: str
    category: ServiceCategory
    domains: tuple[str, ...]
    invite_urls: tuple[re.Pattern[str], ...] = ()
    handle_urls: tuple[re.Pattern[str], ...] = ()
    folder_urls: tuple[re.Pattern[str], ...] = ()
    keywords: tuple[str, ...] = ()
    handle_pattern: re.Pattern[str] = field(default=re.compile(DEFAULT_HANDLE_PATTERN))
    standalone_patterns: tuple[re.Pattern[str], ...] = ()


@dataclass(frozen=True)
class SolicitationPhrase:
    phrase: str
    confidence: float


@dataclass(frozen=True)
class PriceMenuWords:
    currency_symbols: str
    currency_words: tuple[str, ...]
    item_words: tuple[str, ...]
    min_items: int = 2


@dataclass(frozen=True)
class MigrationTables:
    """Everything the extractors look up, validated."""

    services: tuple[Service, ...]
    bare_domain_suffixes: frozenset[str]
    solicitation_phrases: tuple[SolicitationPhrase, ...]
    price_menu: PriceMenuWords

    @classmethod
    def default(cls) -> MigrationTables:
        """The tables shipped with the package."""
        text = resources.files("brightline.text").joinpath("data").joinpath(DEFAULT_FILE)
        return parse_tables(json.loads(text.read_text("utf-8")), source=DEFAULT_FILE)

    @classmethod
    def load(cls, path: Path, *, replace: bool = False) -> MigrationTables:
        """An operator's tables: on top of the shipped ones, or instead of them."""
        try:
            data = json.loads(path.read_text("utf-8"))
        except UnicodeDecodeError:
            raise InvalidInput(f"{path.name}: not valid UTF-8") from None
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{path.name}:{exc.lineno}: not valid JSON ({exc.msg})") from None
        tables = parse_tables(data, source=path.name, partial=not replace)
        return tables if replace else cls.default().extended_by(tables)

    def extended_by(self, other: MigrationTables) -> MigrationTables:
        """These tables with ``other`` added: a service of the same name is replaced."""
        replaced = {service.name for service in other.services}
        phrases = {item.phrase: item for item in self.solicitation_phrases}
        phrases.update({item.phrase: item for item in other.solicitation_phrases})
        return MigrationTables(
            services=tuple(s for s in self.services if s.name not in replaced) + other.services,
            bare_domain_suffixes=self.bare_domain_suffixes | other.bare_domain_suffixes,
            solicitation_phrases=tuple(phrases.values()),
            price_menu=PriceMenuWords(
                currency_symbols="".join(
                    dict.fromkeys(
                        self.price_menu.currency_symbols + other.price_menu.currency_symbols
                    )
                ),
                currency_words=tuple(
                    dict.fromkeys(self.price_menu.currency_words + other.price_menu.currency_words)
                ),
                item_words=tuple(
                    dict.fromkeys(self.price_menu.item_words + other.price_menu.item_words)
                ),
                min_items=other.price_menu.min_items,
            ),
        )


class _Reader:
    """Typed access to decoded JSON that names the path of anything wrong."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> InvalidInput:
        return InvalidInput(f"{self.source}: {where}: {problem}")

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "expected an object")
        return value

    def string(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, "expected a non-empty string")
        return value

    def strings(self, value: Any, where: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail(where, "expected a list of strings")
        return tuple(self.string(item, f"{where}[{index}]") for index, item in enumerate(value))

    def number(self, value: Any, where: str, low: float, high: float) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise self.fail(where, f"expected a number from {low:g} to {high:g}")
        return float(value)

    def pattern(self, value: Any, where: str) -> re.Pattern[str]:
        text = self.string(value, where)
        try:
            return re.compile(text, re.IGNORECASE)
        except re.error as exc:
            raise self.fail(where, f"not a valid regular expression ({exc})") from None

    def patterns(self, value: Any, where: str) -> tuple[re.Pattern[str], ...]:
        texts = self.strings(value, where)
        return tuple(self.pattern(text, f"{where}[{index}]") for index, text in enumerate(texts))

    def unknown_keys(self, value: Mapping[str, Any], where: str, known: set[str]) -> None:
        extra = sorted(set(value) - known)
        if extra:
            raise self.fail(where, f"unknown key {extra[0]!r}")


_SERVICE_KEYS = {
    "name",
    "category",
    "domains",
    "invite_urls",
    "handle_urls",
    "folder_urls",
    "keywords",
    "handle_pattern",
    "standalone_patterns",
}
_SECTIONS = ("services", "bare_domain_suffixes", "solicitation_phrases", "price_menu")
_TOP_KEYS = {"format", "version", *_SECTIONS}


def parse_tables(data: Any, *, source: str, partial: bool = False) -> MigrationTables:
    """Validate decoded JSON into :class:`MigrationTables`.

    With ``partial`` every section may be left out (a file that only extends the defaults).
    """
    read = _Reader(source)
    top = read.mapping(data, "top level")
    read.unknown_keys(top, "top level", _TOP_KEYS)
    if top.get("format") != FORMAT:
        raise read.fail("format", f"expected {FORMAT!r}")
    if top.get("version") != 1:
        raise read.fail("version", "expected 1 (the only version so far)")
    for key in _SECTIONS:
        if key not in top and not partial:
            raise read.fail(key, "missing")

    services = []
    raw_services = top.get("services", [])
    if not isinstance(raw_services, list):
        raise read.fail("services", "expected a list")
    names: set[str] = set()
    for index, raw in enumerate(raw_services):
        service = _parse_service(read, raw, f"services[{index}]")
        if service.name in names:
            raise read.fail(f"services[{index}].name", "duplicate service name")
        names.add(service.name)
        services.append(service)

    suffixes = read.strings(top.get("bare_domain_suffixes", []), "bare_domain_suffixes")

    phrases = []
    raw_phrases = top.get("solicitation_phrases", [])
    if not isinstance(raw_phrases, list):
        raise read.fail("solicitation_phrases", "expected a list")
    for index, raw in enumerate(raw_phrases):
        where = f"solicitation_phrases[{index}]"
        item = read.mapping(raw, where)
        read.unknown_keys(item, where, {"phrase", "confidence"})
        phrases.append(
            SolicitationPhrase(
                phrase=read.string(item.get("phrase"), f"{where}.phrase"),
                confidence=read.number(item.get("confidence", 0.5), f"{where}.confidence", 0, 1),
            )
        )

    menu = read.mapping(top.get("price_menu", {}), "price_menu")
    read.unknown_keys(
        menu, "price_menu", {"currency_symbols", "currency_words", "item_words", "min_items"}
    )
    symbols = menu.get("currency_symbols", "")
    if not isinstance(symbols, str):
        raise read.fail("price_menu.currency_symbols", "expected a string of symbols")
    min_items = read.number(menu.get("min_items", 2), "price_menu.min_items", 1, 100)
    return MigrationTables(
        services=tuple(services),
        bare_domain_suffixes=frozenset(suffix.lower().lstrip(".") for suffix in suffixes),
        solicitation_phrases=tuple(phrases),
        price_menu=PriceMenuWords(
            currency_symbols=symbols,
            currency_words=tuple(
                word.lower()
                for word in read.strings(
                    menu.get("currency_words", []), "price_menu.currency_words"
                )
            ),
            item_words=tuple(
                word.lower()
                for word in read.strings(menu.get("item_words", []), "price_menu.item_words")
            ),
            min_items=int(min_items),
        ),
    )


def _parse_service(read: _Reader, raw: Any, where: str) -> Service:
    item = read.mapping(raw, where)
    read.unknown_keys(item, where, _SERVICE_KEYS)
    try:
        category = ServiceCategory(str(item.get("category")))
    except ValueError:
        raise read.fail(
            f"{where}.category", "expected messaging, cloud_storage, payment or link_page"
        ) from None
    domains = read.strings(item.get("domains", []), f"{where}.domains")
    if not domains:
        raise read.fail(f"{where}.domains", "a service needs at least one domain")
    handle = item.get("handle_pattern")
    return Service(
        name=read.string(item.get("name"), f"{where}.name"),
        category=category,
        domains=tuple(domain.lower().removeprefix("www.") for domain in domains),
        invite_urls=read.patterns(item.get("invite_urls", []), f"{where}.invite_urls"),
        handle_urls=read.patterns(item.get("handle_urls", []), f"{where}.handle_urls"),
        folder_urls=read.patterns(item.get("folder_urls", []), f"{where}.folder_urls"),
        keywords=read.strings(item.get("keywords", []), f"{where}.keywords"),
        handle_pattern=(
            read.pattern(handle, f"{where}.handle_pattern")
            if handle is not None
            else re.compile(DEFAULT_HANDLE_PATTERN)
        ),
        standalone_patterns=read.patterns(
            item.get("standalone_patterns", []), f"{where}.standalone_patterns"
        ),
    )
