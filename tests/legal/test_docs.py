"""docs/legal.md stays in step with the code: every setting and command is documented."""

from __future__ import annotations

import re
from pathlib import Path

import click

import brightline.legal.settings as settings_module
from brightline.cli.main import cli
from brightline.legal import RequestStatus, RequestType

DOCS = Path(__file__).parents[2] / "docs" / "legal.md"


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    source = Path(settings_module.__file__).read_text(encoding="utf-8")
    names = set(re.findall(r'"(BRIGHTLINE_LEGAL_[A-Z_]+)"', source))
    assert len(names) >= 9
    for name in names:
        assert name in text, f"{name} is not in docs/legal.md"
    for kind in RequestType:
        assert f"`{kind.value}`" in text
        assert kind.value.upper() in text
    for status in RequestStatus:
        assert status.value in text


def test_every_command_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    group = cli.commands["legal"]
    assert isinstance(group, click.Group)
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            for sub in command.commands:
                assert f"brightline legal {name} {sub}" in text, (name, sub)
        else:
            assert f"brightline legal {name}" in text, name
