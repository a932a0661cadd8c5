"""The data files the text package reads are declared as package data, so they ship."""

from __future__ import annotations

import fnmatch
import tomllib
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_data_file_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["brightline"]
    data = resources.files("brightline.text").joinpath("data")
    names = sorted(item.name for item in data.iterdir() if item.is_file())
    assert {"confusables.txt", "emoji-data.txt", "LICENSE-UNICODE.txt"} <= set(names)
    assert "migration_tables.json" in names
    for name in names:
        assert any(fnmatch.fnmatch(f"text/data/{name}", pattern) for pattern in patterns), name


def test_unicode_data_ships_with_its_licence() -> None:
    data = resources.files("brightline.text").joinpath("data")
    licence = data.joinpath("LICENSE-UNICODE.txt").read_text(encoding="utf-8")
    assert "UNICODE LICENSE V3" in licence
    for name in ("confusables.txt", "emoji-data.txt"):
        assert name in licence
        assert "Unicode" in data.joinpath(name).read_text(encoding="utf-8-sig")[:400]
