"""Migration extractors: links, handles, addresses, phone numbers, price menus, phrasing.

Services here come from a test table on example.org domains; the shipped table is exercised
through domains read from it, so no real service name is spelled out in a test.
"""

from __future__ import annotations

from typing import Any

import pytest

from brightline.text.migration import Extraction, ExtractionKind, MigrationExtractor
from brightline.text.migration_tables import MigrationTables, ServiceCategory, parse_tables

TABLES: dict[str, Any] = {
    "format": "brightline-migration-tables",
    "version": 1,
    "services": [
        {
            "name": "examplechat",
            "category": "messaging",
            "domains": ["chat.example.org", "ec.example"],
            "invite_urls": ["^chat\\.example\\.org/join/", "^ec\\.example/\\+"],
            "handle_urls": ["^ec\\.example/[a-z][a-z0-9_]{3,}$"],
            "keywords": ["examplechat", "ec"],
        },
        {
            "name": "examplebox",
            "category": "cloud_storage",
            "domains": ["box.example.com"],
            "folder_urls": ["^box\\.example\\.com/folder/"],
        },
        {
            "name": "examplepay",
            "category": "payment",
            "domains": ["pay.example.com"],
            "handle_urls": ["^pay\\.example\\.com/."],
            "keywords": ["examplepay"],
            "handle_pattern": "\\$[A-Za-z][A-Za-z0-9_]{0,19}",
        },
        {"name": "examplebio", "category": "link_page", "domains": ["bio.example.net"]},
        {
            "name": "examplesecure",
            "category": "messaging",
            "domains": ["secure.example.org"],
            "keywords": ["\U0001f47b"],
            "standalone_patterns": ["(?<![0-9a-z])07[0-9a-f]{20}(?![0-9a-z])"],
        },
    ],
    "bare_domain_suffixes": ["com", "org", "net"],
    "solicitation_phrases": [
        {"phrase": "dm me", "confidence": 0.5},
        {"phrase": "link in bio", "confidence": 0.6},
    ],
    "price_menu": {
        "currency_symbols": "$\u20ac\u00a3",
        "currency_words": ["usd", "btc"],
        "item_words": ["zorbs", "vorps", "pack"],
        "min_items": 2,
    },
}
EXTRACTOR = MigrationExtractor(parse_tables(TABLES, source="test"))


def found(text: str, extractor: MigrationExtractor = EXTRACTOR) -> list[tuple[str, str, str]]:
    return [
        (item.kind.value, item.value, text[item.start : item.end])
        for item in extractor.extract(text)
    ]


def only(text: str, kind: ExtractionKind) -> list[Extraction]:
    return [item for item in EXTRACTOR.extract(text) if item.kind is kind]


@pytest.mark.parametrize(
    ("text", "value", "span"),
    [
        ("see https://example.org/a/b.", "https://example.org/a/b", "https://example.org/a/b"),
        ("see hxxps://example[.]org/a", "https://example.org/a", "hxxps://example[.]org/a"),
        ("see hxxp[:]//example(.)org", "http://example.org", "hxxp[:]//example(.)org"),
        ("see example[dot]com/x)", "example.com/x", "example[dot]com/x"),
        ("see example { . } com", "example.com", "example { . } com"),
        ("see example\u3002org", "example.org", "example\u3002org"),
        ("see www.example.zz/x", "www.example.zz/x", "www.example.zz/x"),
        ("see example.com:8080/?q=1", "example.com:8080/?q=1", "example.com:8080/?q=1"),
    ],
)
def test_urls_plain_and_defanged(text: str, value: str, span: str) -> None:
    assert found(text) == [("url", value, span)]


def test_defanged_urls_say_so_and_are_more_certain_than_bare_domains() -> None:
    [defanged] = EXTRACTOR.extract("example[.]org")
    [bare] = EXTRACTOR.extract("example.org")
    assert defanged.detail == "defanged"
    assert bare.detail is None
    assert defanged.confidence > bare.confidence


@pytest.mark.parametrize("text", ["e.g. this", "file.txt", "v1.2.3", "a.b", "3.14", "end. Next"])
def test_not_urls(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "kind", "service"),
    [
        ("https://chat.example.org/join/AbC123", "messaging_invite", "examplechat"),
        ("ec.example/+AbC123", "messaging_invite", "examplechat"),
        ("ec.example/zorblax_01", "messaging_handle", "examplechat"),
        ("hxxps://box[.]example[.]com/folder/Zx9", "cloud_folder", "examplebox"),
        ("box.example.com/file/Zx9", "cloud_link", "examplebox"),
        ("pay.example.com/zorblax", "payment_handle", "examplepay"),
        ("bio.example.net/zorblax", "link_page", "examplebio"),
        ("chat.example.org/about", "url", "examplechat"),
    ],
)
def test_links_to_known_services(text: str, kind: str, service: str) -> None:
    [item] = EXTRACTOR.extract(text)
    assert (item.kind.value, item.service) == (kind, service)
    assert item.confidence >= 0.9


@pytest.mark.parametrize(
    ("text", "handle", "service"),
    [
        ("examplechat: @quenvik_01", "@quenvik_01", "examplechat"),
        ("add me on EC - quenvik.vorp", "quenvik.vorp", "examplechat"),
        ("e x a m p l e c h a t => zorb_lax", "zorb_lax", "examplechat"),
        ("examplepay $ZorbPay now", "$ZorbPay", "examplepay"),
        ("\U0001f47b quenvik01", "quenvik01", "examplesecure"),
    ],
)
def test_handles_after_keywords(text: str, handle: str, service: str) -> None:
    handles = [
        item
        for item in EXTRACTOR.extract(text)
        if item.kind in (ExtractionKind.MESSAGING_HANDLE, ExtractionKind.PAYMENT_HANDLE)
    ]
    assert [(item.value, item.service, text[item.start : item.end]) for item in handles] == [
        (handle, service, handle)
    ]


@pytest.mark.parametrize("text", ["examplechat is great", "the ec of it", "examplechat"])
def test_a_keyword_without_a_delimiter_is_no_handle(text: str) -> None:
    assert only(text, ExtractionKind.MESSAGING_HANDLE) == []


def test_standalone_handle_patterns() -> None:
    secure_id = "07" + "ab" * 10
    [item] = only(f"my id {secure_id}.", ExtractionKind.MESSAGING_HANDLE)
    assert (item.value, item.service) == (secure_id, "examplesecure")


def test_emails_plain_and_defanged() -> None:
    text = "mail zorb [at] example [dot] org or quenvik@example.com"
    assert found(text) == [
        ("email", "zorb@example.org", "zorb [at] example [dot] org"),
        ("email", "quenvik@example.com", "quenvik@example.com"),
    ]


def test_crypto_addresses_are_typed_with_network_and_checksum() -> None:
    text = "pay 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa now"
    [item] = EXTRACTOR.extract(text)
    assert (item.kind, item.service, item.detail, item.confidence) == (
        ExtractionKind.CRYPTO_ADDRESS,
        "bitcoin",
        "p2pkh",
        0.99,
    )


def test_phone_numbers_international_and_with_a_region() -> None:
    # +44 20 7946 0xxx is reserved by the UK regulator for drama: never a real line.
    text = "call +44 20 7946 0123 or 020 7946 0999"
    assert found(text) == [("phone_number", "+442079460123", "+44 20 7946 0123")]
    regional = MigrationExtractor(EXTRACTOR.tables, phone_region="GB")
    assert [item.value for item in regional.extract(text)] == ["+442079460123", "+442079460999"]
    assert [item.confidence for item in regional.extract(text)] == [0.8, 0.6]


def test_digits_of_an_address_are_not_a_phone_number() -> None:
    text = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
    assert [item.kind for item in EXTRACTOR.extract(text)] == [ExtractionKind.CRYPTO_ADDRESS]


def test_price_menu() -> None:
    text = "menu\nzorbs $10\nvorps $25\npack 50 usd\nanything \u20ac80"
    [menu] = only(text, ExtractionKind.PRICE_MENU)
    assert menu.value == "$10;$25;50 usd;\u20ac80"
    assert text[menu.start : menu.end].startswith("$10")
    assert menu.detail == "3 priced items"
    assert menu.confidence == 0.6


def test_one_price_or_prices_without_items_are_no_menu() -> None:
    assert only("zorbs $10", ExtractionKind.PRICE_MENU) == []
    assert only("it was $10 then $12", ExtractionKind.PRICE_MENU) == []


def test_solicitation_phrases_survive_obfuscation() -> None:
    text = "DM ME now, l.1.n.k in b!o"
    assert [
        (item.value, text[item.start : item.end])
        for item in only(text, ExtractionKind.SOLICITATION)
    ] == [("dm me", "DM ME"), ("link in bio", "l.1.n.k in b!o")]


def test_shipped_tables_recognise_their_own_services() -> None:
    tables = MigrationTables.default()
    extractor = MigrationExtractor(tables)
    for service in tables.services:
        text = f"see https://{service.domains[0]}/zorblax01"
        [item] = extractor.extract(text)
        assert item.service == service.name
        if service.category is ServiceCategory.LINK_PAGE:
            assert item.kind is ExtractionKind.LINK_PAGE


def test_extract_many_matches_extract() -> None:
    texts = ["examplechat: @quenvik_01", "", "dm me at example.org"]
    assert EXTRACTOR.extract_many(texts) == [EXTRACTOR.extract(text) for text in texts]
