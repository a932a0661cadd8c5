"""Migration tables: the shipped data, operator files that extend or replace it, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from brightline.errors import InvalidInput
from brightline.text.migration_tables import MigrationTables, ServiceCategory


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "tables.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def operator_tables(**extra: Any) -> dict[str, Any]:
    return {
        "format": "brightline-migration-tables",
        "version": 1,
        "services": [
            {
                "name": "examplechat",
                "category": "messaging",
                "domains": ["chat.example.org"],
                "invite_urls": ["^chat\\.example\\.org/join/"],
                "keywords": ["examplechat"],
            }
        ],
        **extra,
    }


def test_shipped_tables_load_and_cover_every_category() -> None:
    tables = MigrationTables.default()
    assert {service.category for service in tables.services} == set(ServiceCategory)
    assert "com" in tables.bare_domain_suffixes
    assert tables.solicitation_phrases
    assert tables.price_menu.item_words


def test_operator_file_extends_the_shipped_tables(tmp_path: Path) -> None:
    shipped = MigrationTables.default()
    tables = MigrationTables.load(
        write(tmp_path, operator_tables(bare_domain_suffixes=["example"]))
    )
    names = [service.name for service in tables.services]
    assert names[-1] == "examplechat"
    assert len(names) == len(shipped.services) + 1
    assert "example" in tables.bare_domain_suffixes
    assert "com" in tables.bare_domain_suffixes
    assert tables.solicitation_phrases == shipped.solicitation_phrases


def test_a_service_of_the_same_name_replaces_the_shipped_one(tmp_path: Path) -> None:
    shipped = MigrationTables.default()
    name = shipped.services[0].name
    data = operator_tables()
    data["services"][0]["name"] = name
    tables = MigrationTables.load(write(tmp_path, data))
    [service] = [service for service in tables.services if service.name == name]
    assert service.domains == ("chat.example.org",)
    assert len(tables.services) == len(shipped.services)


def test_replace_uses_only_the_operator_file(tmp_path: Path) -> None:
    data = operator_tables(
        bare_domain_suffixes=["org"],
        solicitation_phrases=[{"phrase": "zorblax me", "confidence": 0.9}],
        price_menu={"currency_symbols": "$", "currency_words": [], "item_words": ["zorbs"]},
    )
    tables = MigrationTables.load(write(tmp_path, data), replace=True)
    assert [service.name for service in tables.services] == ["examplechat"]
    assert tables.bare_domain_suffixes == {"org"}
    assert tables.price_menu.item_words == ("zorbs",)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "other"}, "format: expected"),
        ({"version": 2}, "version: expected 1"),
        ({"services": {}}, "services: expected a list"),
        (
            {"services": [{"name": "x", "category": "fax", "domains": ["a.example"]}]},
            "services[0].category",
        ),
        (
            {"services": [{"name": "x", "category": "payment", "domains": []}]},
            "services[0].domains",
        ),
        (
            {
                "services": [
                    {
                        "name": "x",
                        "category": "payment",
                        "domains": ["a.example"],
                        "handle_urls": ["("],
                    }
                ]
            },
            "services[0].handle_urls[0]: not a valid regular expression",
        ),
        (
            {"services": [{"name": "x", "category": "payment", "domains": [3]}]},
            "services[0].domains[0]",
        ),
        (
            {
                "services": [
                    {"name": "x", "category": "payment", "domains": ["a.example"], "colour": 1}
                ]
            },
            "unknown key 'colour'",
        ),
        (
            {"solicitation_phrases": [{"phrase": "hi", "confidence": 2}]},
            "solicitation_phrases[0].confidence",
        ),
        ({"price_menu": {"min_items": 0}}, "price_menu.min_items"),
        ({"extra": True}, "unknown key 'extra'"),
    ],
)
def test_errors_name_the_place_in_the_file(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        MigrationTables.load(write(tmp_path, operator_tables() | change))
    assert str(caught.value).startswith("tables.json: ")
    assert message in str(caught.value)


def test_replacing_needs_every_section(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="bare_domain_suffixes: missing"):
        MigrationTables.load(write(tmp_path, operator_tables()), replace=True)


def test_bad_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "tables.json"
    path.write_text('{\n  "format": \n}\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"^tables.json:3: not valid JSON"):
        MigrationTables.load(path)
