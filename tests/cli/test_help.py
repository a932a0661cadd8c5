"""Every command documents itself: a command without help text is a defect."""

from __future__ import annotations

import click
from click.testing import CliRunner

from brightline.cli.main import cli


def _commands(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append(((*prefix, name), command))
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
    return found


def test_every_command_has_help_text() -> None:
    commands = _commands(cli)
    assert {"scan", "match", "hash", "demo", "bank", "db"} <= {path[0] for path, _ in commands}
    for path, command in commands:
        assert command.help, f"`brightline {' '.join(path)}` has no help text"
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0
        assert "Usage:" in result.output


def test_bank_has_every_subcommand_the_operators_need() -> None:
    bank = cli.commands["bank"]
    assert isinstance(bank, click.Group)
    wanted = {
        "create",
        "list",
        "rename",
        "set",
        "add",
        "import",
        "export",
        "disable",
        "enable",
        "delete",
        "stats",
    }
    assert wanted <= set(bank.commands)
