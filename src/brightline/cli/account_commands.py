"""``brightline account create|list|disable|enable|unlock|password``: console accounts."""

from __future__ import annotations

import sys

import click

from brightline.accounts import (
    AccountRole,
    change_password,
    create_account,
    list_accounts,
    parse_role,
    set_disabled,
    unlock,
)
from brightline.cli.context import CliContext
from brightline.storage.base import utcnow

CLI_ACTOR = "cli"
"""The actor written into the audit log for changes made from the command line."""
ROLE_HELP = ", ".join(role.value for role in AccountRole)


def _read_password(from_stdin: bool) -> str:
    """From stdin (one line, for scripts) or an interactive prompt that asks twice."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@click.group()
def account() -> None:
    """Create and manage review console accounts (passwords are stored as argon2 hashes)."""


@account.command("create")
@click.argument("name")
@click.option("--role", required=True, help=f"One of: {ROLE_HELP}.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@click.pass_obj
def create(obj: CliContext, name: str, role: str, password_stdin: bool) -> None:
    """Create an account called NAME with ROLE; the password is prompted for."""
    chosen = parse_role(role)
    password = _read_password(password_stdin)
    with obj.transaction() as session:
        created = create_account(
            session=session, username=name, password=password, role=chosen, actor=CLI_ACTOR
        )
        username, account_id = created.username, created.id
    click.echo(f"created account {account_id} {username} ({chosen.value})")


@account.command("list")
@click.pass_obj
def list_command(obj: CliContext) -> None:
    """One line per account: id, name, role, state."""
    now = utcnow()
    with obj.transaction() as session:
        for one in list_accounts(session=session):
            state = "disabled" if one.disabled else "active"
            if one.locked_until is not None and one.locked_until > now:
                state += f", locked until {one.locked_until.isoformat(timespec='seconds')}"
            click.echo(f"{one.id}\t{one.username}\t{one.role}\t{state}")


@account.command("disable")
@click.argument("name")
@click.pass_obj
def disable(obj: CliContext, name: str) -> None:
    """Disable NAME: sign-in refused and every open session ended at once."""
    with obj.transaction() as session:
        set_disabled(session=session, username=name, disabled=True, actor=CLI_ACTOR)
    click.echo(f"disabled {name}")


@account.command("enable")
@click.argument("name")
@click.pass_obj
def enable(obj: CliContext, name: str) -> None:
    """Enable NAME again."""
    with obj.transaction() as session:
        set_disabled(session=session, username=name, disabled=False, actor=CLI_ACTOR)
    click.echo(f"enabled {name}")


@account.command("unlock")
@click.argument("name")
@click.pass_obj
def unlock_command(obj: CliContext, name: str) -> None:
    """Lift NAME's lockout after repeated failed sign-ins."""
    with obj.transaction() as session:
        unlock(session=session, username=name, actor=CLI_ACTOR)
    click.echo(f"unlocked {name}")


@account.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@click.pass_obj
def password_command(obj: CliContext, name: str, password_stdin: bool) -> None:
    """Set a new password for NAME (ends all of NAME's sessions)."""
    password = _read_password(password_stdin)
    with obj.transaction() as session:
        change_password(session=session, username=name, new_password=password, actor=CLI_ACTOR)
    click.echo(f"password changed for {name}")
