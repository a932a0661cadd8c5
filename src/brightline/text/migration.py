"""Signals that a conversation is being moved off the platform.

Someone who trades abuse material rarely does it in public: a post points elsewhere, to a
messaging handle or invite link, a cloud-storage folder, a payment handle or a crypto address, a
phone number, a price "menu", or just "DM me". :class:`MigrationExtractor` finds these in a text,
each typed, with its span in the original text and a confidence: how sure the extractor is that
the span *is* what it says (a checksum-valid address: 0.99; a bare domain: lower), not how
suspicious the post is. Links are never fetched and nothing is looked up.

The services, domains, phrases and price words come from :class:`MigrationTables` (data that
operators can extend). Service keywords and solicitation phrases are matched with the same
normaliser as terms, so ``t e l e g r a m`` and ``DM ME`` count too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers

from brightline.text.crypto_addresses import find_crypto_addresses
from brightline.text.matching import TermHit, TermMatcher
from brightline.text.migration_tables import MigrationTables, Service, ServiceCategory
from brightline.text.terms import MatchMode, Term, TermList


class ExtractionKind(StrEnum):
    URL = "url"
    EMAIL = "email"
    MESSAGING_INVITE = "messaging_invite"
    MESSAGING_HANDLE = "messaging_handle"
    CLOUD_FOLDER = "cloud_folder"
    CLOUD_LINK = "cloud_link"
    PAYMENT_HANDLE = "payment_handle"
    LINK_PAGE = "link_page"
    CRYPTO_ADDRESS = "crypto_address"
    PHONE_NUMBER = "phone_number"
    PRICE_MENU = "price_menu"
    SOLICITATION = "solicitation"


@dataclass(frozen=True, slots=True)
class Extraction:
    """One migration signal. ``start``/``end`` index the original text (code points).

    ``value`` is the canonical form of what the span holds (a URL with its defanging undone, a
    phone number in E.164, an address as written); ``service`` the service or network it belongs
    to; ``detail`` a short qualifier (``defanged``, ``p2pkh``, ``unchecked``...).
    """

    kind: ExtractionKind
    value: str
    start: int
    end: int
    confidence: float
    service: str | None = None
    detail: str | None = None


_KEYWORDS_LIST = "migration-keywords"
_PHRASES_LIST = "solicitation-phrases"

# URLs, plain and defanged (hxxps://, example[.]com, example(dot)com, ideographic full stops).
_DEFANGED_DOT = r"\s?(?:\[\s?(?:\.|dot)\s?\]|\(\s?(?:\.|dot)\s?\)|\{\s?(?:\.|dot)\s?\})\s?"
# Ideographic, fullwidth and halfwidth full stops also separate labels in some input methods.
_STOPS = "\u3002\uff0e\uff61"
_DOT = rf"(?:\.|[{_STOPS}]|{_DEFANGED_DOT})"
# Possessive: a word not followed by a dot fails at once instead of backtracking letter by letter.
_LABEL = r"[\w-]{1,63}+"
_SCHEME = r"(?:h(?:tt|xx|\*\*)ps?|ftp)(?:\[:\]|\(:\)|:)//"
_URL = re.compile(
    rf"(?<![\w@.\-])(?P<scheme>{_SCHEME})?"
    rf"(?P<host>(?:{_LABEL}{_DOT})+(?P<tld>[^\W\d_]{{2,63}}))(?![\w\-])"
    r"(?P<port>:\d{2,5})?"
    r"(?P<path>[/?#][^\s<>\"'`]*)?",
    re.IGNORECASE,
)
_EMAIL = re.compile(
    rf"(?<![\w.+\-])(?P<user>[\w.+\-]{{1,64}}+)"
    r"(?P<at>@|\s?[\[\(\{]\s?at\s?[\]\)\}]\s?)"
    rf"(?P<host>(?:{_LABEL}{_DOT})+[^\W\d_]{{2,63}})(?![\w\-])",
    re.IGNORECASE,
)
_DOT_FORMS = re.compile(f"{_DEFANGED_DOT}|[{_STOPS}]", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\"\u00bb\u201d\u2019"
# ":", "=", "-", dashes, arrows or a pointing hand between a keyword and a handle, or "@"/"$".
_HANDLE_DELIMITER = re.compile(
    "\\s*(?:[:=>\\-\u2013\u2014\u2192\u27a1\u21d2\U0001f449]+\\s*|(?=[@$]))"
)
_SPACES = re.compile(r"\s+")
_PHONE_HINT = re.compile(r"\+?\d(?:[\s().\-]{0,3}\d){6,}")


def _refang(text: str) -> str:
    return _DOT_FORMS.sub(".", text)


class MigrationExtractor:
    """Finds off-platform migration signals in texts; build once, use for many texts."""

    def __init__(
        self, tables: MigrationTables | None = None, *, phone_region: str | None = None
    ) -> None:
        self.tables = tables if tables is not None else MigrationTables.default()
        self.phone_region = phone_region.upper() if phone_region else None
        self._keyword_services: dict[str, list[Service]] = {}
        keyword_terms = []
        for service in self.tables.services:
            for keyword in service.keywords:
                if keyword not in self._keyword_services:
                    keyword_terms.append(Term(keyword, MatchMode.TOKEN))
                self._keyword_services.setdefault(keyword, []).append(service)
        self._phrase_confidence = {
            item.phrase: item.confidence for item in self.tables.solicitation_phrases
        }
        lists = []
        if keyword_terms:
            lists.append(TermList(_KEYWORDS_LIST, "tables", tuple(keyword_terms)))
        if self.tables.solicitation_phrases:
            phrases = tuple(Term(item.phrase) for item in self.tables.solicitation_phrases)
            lists.append(TermList(_PHRASES_LIST, "tables", phrases))
        self._matcher = TermMatcher(lists) if lists else None
        self._price = _price_pattern(self.tables)
        self._domains: dict[str, Service] = {}
        for service in self.tables.services:
            for domain in service.domains:
                self._domains.setdefault(domain, service)
        self._items = frozenset(self.tables.price_menu.item_words)

    def extract(self, text: str) -> list[Extraction]:
        """Every migration signal in ``text``, ordered by position."""
        return self.extract_many([text])[0]

    def extract_many(self, texts: Sequence[str]) -> list[list[Extraction]]:
        """Signals for each of ``texts``; keyword and phrase matching is batched."""
        matcher = self._matcher
        hits = matcher.match_many(texts) if matcher is not None else [[] for _ in texts]
        return [self._extract(text, text_hits) for text, text_hits in zip(texts, hits, strict=True)]

    # -- one text -------------------------------------------------------------------------------

    def _extract(self, text: str, hits: list[TermHit]) -> list[Extraction]:
        found: list[Extraction] = []
        taken: list[tuple[int, int]] = []

        def add(extraction: Extraction) -> None:
            found.append(extraction)
            taken.append((extraction.start, extraction.end))

        def free(start: int, end: int) -> bool:
            return all(end <= low or start >= high for low, high in taken)

        if "@" in text or "at" in text.lower():
            for extraction in self._emails(text):
                add(extraction)
        for extraction in self._standalone_handles(text):
            if free(extraction.start, extraction.end):
                add(extraction)
        for extraction in self._urls(text):
            if free(extraction.start, extraction.end):
                add(extraction)
        for address in find_crypto_addresses(text):
            if free(address.start, address.end):
                add(
                    Extraction(
                        kind=ExtractionKind.CRYPTO_ADDRESS,
                        value=address.address,
                        start=address.start,
                        end=address.end,
                        confidence=address.confidence,
                        service=address.network,
                        detail=address.kind,
                    )
                )
        for extraction in self._keyword_handles(text, hits):
            if free(extraction.start, extraction.end):
                add(extraction)
        if _PHONE_HINT.search(text):
            for extraction in self._phones(text):
                if free(extraction.start, extraction.end):
                    add(extraction)
        menu = self._price_menu(text)
        if menu is not None:
            found.append(menu)
        found.extend(self._solicitations(hits))
        found.sort(key=lambda item: (item.start, item.end, item.kind))
        return found

    def _service_for(self, host: str) -> Service | None:
        """The service of ``host`` or of the nearest domain above it (``a.b.example`` →
        ``b.example`` → ``example``)."""
        labels = host.split(".")
        for index in range(len(labels)):
            service = self._domains.get(".".join(labels[index:]))
            if service is not None:
                return service
        return None

    def _urls(self, text: str) -> Iterable[Extraction]:
        for match in _URL.finditer(text):
            path = match.group("path") or ""
            trimmed = path.rstrip(_TRAILING)
            end = match.end() - (len(path) - len(trimmed))
            scheme = match.group("scheme") or ""
            host = _refang(match.group("host")).lower().replace(" ", "")
            defanged = host != match.group("host").lower() or (
                bool(scheme) and not scheme.lower().startswith(("http:", "https:", "ftp:"))
            )
            bare_host = host.removeprefix("www.")
            service = self._service_for(bare_host)
            tld = host.rsplit(".", 1)[-1]
            if (
                not scheme
                and not defanged
                and service is None
                and not host.startswith("www.")
                and tld not in self.tables.bare_domain_suffixes
            ):
                continue
            value_scheme = ""
            if scheme:
                lowered = scheme.lower()
                value_scheme = ("https" if "s:" in lowered or "s[" in lowered else "http") + "://"
                if lowered.startswith("ftp"):
                    value_scheme = "ftp://"
            port = match.group("port") or ""
            value = f"{value_scheme}{host}{port}{trimmed}"
            confidence = 0.95 if scheme else 0.7
            if defanged:
                confidence = max(confidence, 0.9)
            yield self._classify_url(
                value=value,
                location=f"{bare_host}{trimmed}",
                service=service,
                start=match.start(),
                end=end,
                confidence=confidence,
                detail="defanged" if defanged else None,
            )

    def _classify_url(
        self,
        *,
        value: str,
        location: str,
        service: Service | None,
        start: int,
        end: int,
        confidence: float,
        detail: str | None,
    ) -> Extraction:
        kind = ExtractionKind.URL
        name = None
        if service is not None:
            name = service.name
            if any(pattern.search(location) for pattern in service.invite_urls):
                kind = ExtractionKind.MESSAGING_INVITE
            elif any(pattern.search(location) for pattern in service.folder_urls):
                kind = ExtractionKind.CLOUD_FOLDER
            elif any(pattern.search(location) for pattern in service.handle_urls):
                kind = (
                    ExtractionKind.PAYMENT_HANDLE
                    if service.category is ServiceCategory.PAYMENT
                    else ExtractionKind.MESSAGING_HANDLE
                )
            elif service.category is ServiceCategory.CLOUD_STORAGE:
                kind = ExtractionKind.CLOUD_LINK
            elif service.category is ServiceCategory.LINK_PAGE:
                kind = ExtractionKind.LINK_PAGE
            confidence = max(confidence, 0.9)
        return Extraction(kind, value, start, end, confidence, name, detail)

    def _emails(self, text: str) -> Iterable[Extraction]:
        for match in _EMAIL.finditer(text):
            host = _refang(match.group("host")).lower().replace(" ", "")
            defanged = match.group("at") != "@" or host != match.group("host").lower()
            if host.rsplit(".", 1)[-1] not in self.tables.bare_domain_suffixes and not defanged:
                continue
            yield Extraction(
                kind=ExtractionKind.EMAIL,
                value=f"{match.group('user')}@{host}",
                start=match.start(),
                end=match.end(),
                confidence=0.8 if defanged else 0.9,
                detail="defanged" if defanged else None,
            )

    def _standalone_handles(self, text: str) -> Iterable[Extraction]:
        for service in self.tables.services:
            for pattern in service.standalone_patterns:
                for match in pattern.finditer(text):
                    yield Extraction(
                        kind=ExtractionKind.MESSAGING_HANDLE,
                        value=match.group(),
                        start=match.start(),
                        end=match.end(),
                        confidence=0.8,
                        service=service.name,
                    )

    def _keyword_handles(self, text: str, hits: list[TermHit]) -> Iterable[Extraction]:
        """``telegram: @name``, ``kik - name``, ``👻 name``: a keyword, a delimiter, a handle."""
        for hit in hits:
            if hit.list_name != _KEYWORDS_LIST:
                continue
            delimiter = _HANDLE_DELIMITER.match(text, hit.end)
            if delimiter is None and not any(ch.isalpha() for ch in hit.term):
                delimiter = _SPACES.match(text, hit.end)  # an emoji keyword: 👻 name
            if delimiter is None:
                continue
            for service in self._keyword_services.get(hit.term, []):
                handle = service.handle_pattern.match(text, delimiter.end())
                if handle is None or not any(ch.isalnum() for ch in handle.group()):
                    continue
                value = handle.group().rstrip(".-")
                kind = (
                    ExtractionKind.PAYMENT_HANDLE
                    if service.category is ServiceCategory.PAYMENT
                    else ExtractionKind.MESSAGING_HANDLE
                )
                yield Extraction(
                    kind=kind,
                    value=value,
                    start=handle.start(),
                    end=handle.start() + len(value),
                    confidence=0.7 if value.startswith(("@", "$")) else 0.6,
                    service=service.name,
                )

    def _phones(self, text: str) -> Iterable[Extraction]:
        for match in phonenumbers.PhoneNumberMatcher(
            text, self.phone_region, leniency=phonenumbers.Leniency.VALID
        ):
            number = match.number
            international = match.raw_string.lstrip().startswith(("+", "00"))
            yield Extraction(
                kind=ExtractionKind.PHONE_NUMBER,
                value=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
                start=match.start,
                end=match.end,
                confidence=0.8 if international else 0.6,
                service=phonenumbers.region_code_for_number(number) or None,
            )

    def _price_menu(self, text: str) -> Extraction | None:
        if self._price is None:
            return None
        prices = list(self._price.finditer(text))
        if len(prices) < 2:
            return None
        items = 0
        for match in prices:
            line_start = text.rfind("\n", 0, match.start()) + 1
            line_end = text.find("\n", match.end())
            window = text[max(line_start, match.start() - 40) : match.end() + 40]
            if line_end != -1:
                window = text[max(line_start, match.start() - 40) : min(line_end, match.end() + 40)]
            words = set(re.findall(r"[^\W\d_]+", window.lower()))
            if words & self._items:
                items += 1
        minimum = self.tables.price_menu.min_items
        if items >= minimum:
            confidence = min(0.5 + 0.1 * (items - minimum), 0.9)
        elif len(prices) >= minimum + 2:
            confidence = 0.4
        else:
            return None
        return Extraction(
            kind=ExtractionKind.PRICE_MENU,
            value=";".join(match.group().strip() for match in prices),
            start=prices[0].start(),
            end=prices[-1].end(),
            confidence=round(confidence, 2),
            detail=f"{items} priced items",
        )

    def _solicitations(self, hits: list[TermHit]) -> Iterable[Extraction]:
        for hit in hits:
            if hit.list_name == _PHRASES_LIST:
                yield Extraction(
                    kind=ExtractionKind.SOLICITATION,
                    value=hit.term,
                    start=hit.start,
                    end=hit.end,
                    confidence=self._phrase_confidence.get(hit.term, 0.5),
                    detail=hit.match_type.value,
                )


def _price_pattern(tables: MigrationTables) -> re.Pattern[str] | None:
    menu = tables.price_menu
    currency = [re.escape(symbol) for symbol in menu.currency_symbols]
    words = [re.escape(word) for word in menu.currency_words]
    if not currency and not words:
        return None
    amount = r"\d{1,6}(?:[.,]\d{1,2})?k?"
    before = f"(?:{'|'.join(currency)})\\s?{amount}" if currency else None
    after_units = currency + [rf"{word}\b" for word in words]
    after = f"{amount}\\s?(?:{'|'.join(after_units)})"
    alternatives = [f"(?<![\\w.,]){after}"] + ([before + r"(?![\d])"] if before else [])
    return re.compile("|".join(alternatives), re.IGNORECASE)
