"""``brightline clearinghouse provider add|list`` and ``expire``: the intake's providers and
housekeeping (the intake itself is ``brightline serve --role clearinghouse``)."""

from __future__ import annotations

import sys
from datetime import timedelta

import click

from brightline.clearinghouse.intake import (
    DEFAULT_EXPIRY,
    expire_unfinished,
    list_providers,
    register_provider,
)
from brightline.cli.context import CliContext


def _read_password(from_stdin: bool) -> str:
    """From stdin (one line, for scripts) or an interactive prompt that asks twice."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@click.group()
def clearinghouse() -> None:
    """The clearinghouse intake: providers allowed to submit reports, and housekeeping."""


@clearinghouse.group()
def provider() -> None:
    """Providers that submit reports to the intake (HTTP Basic auth; argon2 hashes kept)."""


@provider.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@click.pass_obj
def add(obj: CliContext, name: str, password_stdin: bool) -> None:
    """Allow provider NAME to submit; the password is prompted for (12 characters or more)."""
    password = _read_password(password_stdin)
    with obj.transaction() as session:
        created = register_provider(session=session, name=name, password=password)
        provider_id, provider_name = created.id, created.name
    click.echo(f"added provider {provider_id} {provider_name}")


@provider.command("list")
@click.pass_obj
def list_command(obj: CliContext) -> None:
    """One line per provider: id, name, state, created."""
    with obj.transaction() as session:
        for one in list_providers(session=session):
            state = "disabled" if one.disabled_at is not None else "active"
            created = one.created_at.isoformat(timespec="seconds")
            click.echo(f"{one.id}\t{one.name}\t{state}\t{created}")


@clearinghouse.command("expire")
@click.option(
    "--older-than-hours",
    type=click.FloatRange(min=0, min_open=True, max=24 * 365),
    default=DEFAULT_EXPIRY.total_seconds() / 3600,
    show_default=True,
    help="Expire unfinished reports received longer ago than this.",
)
@click.pass_obj
def expire(obj: CliContext, older_than_hours: float) -> None:
    """Expire unfinished reports nobody finished (the service also does it every 5 minutes)."""
    with obj.transaction() as session:
        count = expire_unfinished(session=session, older_than=timedelta(hours=older_than_hours))
    click.echo(f"expired {count} unfinished reports")
